"""Migration 013 (the sources table, the support channel) and connectors as Sources."""

from __future__ import annotations

import sqlite3

import pytest

from feedback_engine.contracts import Source
from feedback_engine.ingest.connectors import KINDS
from feedback_engine.ingest.connectors.http import HttpClient
from feedback_engine.store import Store


def test_support_is_a_channel_and_other_values_are_still_refused(tmp_path):
    with Store(tmp_path / "f.db") as store:
        row = "INSERT INTO feedback (natural_key, channel, platform, text, ingested_at, raw, content_hash) VALUES (?, ?, 'zendesk', 't', 'now', '{}', 'h')"  # noqa: E501
        with store.transaction() as conn:
            conn.execute(row, ("k1", "support"))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"), store.transaction() as conn:
            conn.execute(row, ("k2", "chat"))
        with store.transaction() as conn:
            conn.execute("INSERT INTO ingest_runs (kind, source, started_at) VALUES ('support', 'api:x', 'now')")
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store(tmp_path / "f.db") as again:  # the widened schema is what a new connection reads
        assert again.scalar("SELECT count(*) FROM feedback WHERE channel = 'support'") == 1
        sql = again.scalar("SELECT sql FROM sqlite_master WHERE name = 'feedback'")
        assert "CHECK (channel IN ('survey', 'review', 'social', 'support'))" in sql


def test_every_kind_is_a_source():
    with HttpClient() as http:
        for kind, cls in KINDS.items():
            connector = cls("n", {}, http)
            assert isinstance(connector, Source), kind
            assert connector.options == {"kind": kind}
            assert cls.channel in ("survey", "review", "social", "support")
