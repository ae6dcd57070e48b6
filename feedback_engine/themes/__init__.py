"""Themes stage: what customers raise, as themes with stable ids, readable labels and human edits.

- ``discovery`` the topic model (BERTopic with Ward clustering, ``clustering``) and the fit sample;
- ``stage`` :class:`~feedback_engine.themes.stage.ThemeStage`: fit, refit with stable ids, assign,
  seed; ``labels`` terms, labels and quotes; ``persist`` the theme tables and the edits (rename, merge);
- ``queries`` THE definition of theme membership (merge chains resolved) and of every theme figure,
  read by ``metrics`` (``themes list/show``), the loop (actions, recipients) and export;
- ``service`` ``engine.themes``.
"""
