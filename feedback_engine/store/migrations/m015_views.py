"""Migration 015: read-only SQL views for analysts (Datasette, sqlite3, BI tools).

- ``theme_survivors``: every theme id -> the theme it was merged into, followed to the end
  (a theme never merged is its own survivor); what every surface resolves a merged id through.
- ``items``: one row per feedback item with its analysis (language, sentiment, score, the
  *redacted* text) and its item-level theme (survivor id and label).
- ``item_sentences``: one row per analysed sentence (redacted text, sentiment) with its theme.

The views show ``redacted_text`` only: someone browsing them never sees the e-mail addresses and
phone numbers the PII stage took out (the ``feedback`` table still holds the original text).
Views hold no data of their own, so they are always current.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE VIEW theme_survivors AS
WITH RECURSIVE chain(start, cur, depth) AS (
    SELECT id, id, 0 FROM themes
    UNION ALL
    SELECT chain.start, themes.merged_into, chain.depth + 1 FROM chain JOIN themes ON themes.id = chain.cur
    WHERE themes.merged_into IS NOT NULL AND chain.depth < 64
)
SELECT start AS theme_id, cur AS survivor_id FROM chain
WHERE NOT EXISTS (SELECT 1 FROM themes x WHERE x.id = chain.cur AND x.merged_into IS NOT NULL);

CREATE VIEW items AS
SELECT f.id, f.channel, f.platform, f.source, f.external_id, f.response_id, f.question, f.customer_id,
       f.title, f.rating, f.nps, f.csat, f.url, f.created_at, f.ingested_at,
       coalesce(a.language, f.language) AS language, a.sentiment, a.sentiment_score, a.redacted_text,
       t.id AS theme_id, t.label AS theme_label
FROM feedback f
LEFT JOIN analysis a ON a.feedback_id = f.id
LEFT JOIN theme_assignments ta ON ta.feedback_id = f.id AND ta.sentence_idx = -1
LEFT JOIN theme_survivors sv ON sv.theme_id = ta.theme_id
LEFT JOIN themes t ON t.id = sv.survivor_id;

CREATE VIEW item_sentences AS
SELECT s.feedback_id, s.idx, s.redacted_text, s.sentiment, s.sentiment_score,
       t.id AS theme_id, t.label AS theme_label
FROM sentences s
LEFT JOIN theme_assignments ta ON ta.feedback_id = s.feedback_id AND ta.sentence_idx = s.idx
LEFT JOIN theme_survivors sv ON sv.theme_id = ta.theme_id
LEFT JOIN themes t ON t.id = sv.survivor_id;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
