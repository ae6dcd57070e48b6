"""NLP stage: what each item says, before any theme.

- ``language``, ``text`` (spaCy sentences, aspects, names), ``redact`` (PII spans);
- ``sentiment/`` our fine-tuned classifier, the VADER baseline, training; ``embed`` MiniLM vectors;
  ``torch_utils`` threads and precision shared by both models; ``models`` the lazy defaults;
- ``pipeline`` the analyze loop (a backend computes batches, one writer commits), ``queries`` what
  it reads back, ``service`` ``engine.analysis``.
"""
