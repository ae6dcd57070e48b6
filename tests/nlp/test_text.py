"""spaCy preparation: sentences with offsets, aspects from noun chunks, per-sentence sentiment."""

from __future__ import annotations

from feedback_engine.nlp.text import TextPreparer

MIXED = "The support team was incredibly helpful and friendly. But the price is ridiculous and I hate paying this much."


def test_sentences_and_offsets(spacy_nlp) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare([MIXED])
    assert [s.text for s in prepared.sentences] == [
        "The support team was incredibly helpful and friendly.",
        "But the price is ridiculous and I hate paying this much.",
    ]
    for s in prepared.sentences:
        assert MIXED[s.start_char : s.end_char] == s.text


def test_aspects_are_lemmatised_noun_chunks_without_pronouns(spacy_nlp) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare(["The refunds took weeks and my invoices were wrong. It sucks."])
    assert prepared.aspects == ["refund", "week", "invoice"]
    assert prepared.sentences[0].aspects == ["refund", "week", "invoice"]
    assert prepared.sentences[1].aspects == []


def test_praise_for_support_and_complaint_about_price(spacy_nlp, sentiment_model) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare([MIXED])
    labels = [r.label for r in sentiment_model.predict([s.text for s in prepared.sentences])]
    assert labels == ["positive", "negative"]
    assert "support team" in prepared.sentences[0].aspects
    assert "price" in prepared.sentences[1].aspects


def test_empty_and_odd_texts(spacy_nlp) -> None:
    out = TextPreparer(spacy_nlp).prepare(["", "   ", "🙄🙄", "ok"])
    assert [len(p.sentences) for p in out] == [0, 0, 1, 1]
