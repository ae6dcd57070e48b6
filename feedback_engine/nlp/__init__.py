"""NLP stage: text preparation (spaCy, redaction, language), sentiment, embeddings, themes."""
