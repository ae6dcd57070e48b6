from __future__ import annotations

import sqlite3

import pytest

from feedback_engine.errors import StoreError
from feedback_engine.store import Store
from feedback_engine.store.migrations import MIGRATIONS


def test_new_file_gets_every_migration_wal_and_foreign_keys(db_path):
    with Store(db_path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA foreign_keys") == 1
        assert {"customers", "feedback", "ingest_runs", "quarantine", "feedback_fts"} <= set(store.db.table_names())


def test_reopen_applies_nothing_and_keeps_data(db_path):
    with Store(db_path) as store:
        store.execute("INSERT INTO customers (email, created_at, updated_at) VALUES ('a@example.com', 'x', 'x')")
        store.conn.commit()
    with Store(db_path) as store:
        assert store.migrate() == []
        assert store.scalar("SELECT email FROM customers") == "a@example.com"


def test_old_file_is_upgraded_in_place(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.commit()
    conn.close()
    with Store(db_path, migrate=False) as store:
        store.conn.execute("BEGIN")
        MIGRATIONS[0][1](store.conn)
        store.conn.execute("INSERT INTO _migrations VALUES (?, 'then')", (MIGRATIONS[0][0],))
        store.conn.commit()
        store.execute("INSERT INTO customers (email, created_at, updated_at) VALUES ('old@example.com', 'x', 'x')")
        store.conn.commit()
    with Store(db_path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.scalar("SELECT count(*) FROM customers") == 1


def test_failed_transaction_rolls_back(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.execute("INSERT INTO customers (email, created_at, updated_at) VALUES ('b@example.com', 'x', 'x')")
        raise RuntimeError("boom")
    assert store.scalar("SELECT count(*) FROM customers") == 0


def test_newer_database_is_refused(db_path):
    with Store(db_path) as store:
        store.execute("INSERT INTO _migrations VALUES ('999_future', 'x')")
        store.conn.commit()
    with pytest.raises(StoreError, match="newer feedback_engine"):
        Store(db_path)


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("this is not sqlite" * 100)
    with pytest.raises(StoreError, match="Make sure --db"):
        Store(bad)


def test_fts_index_follows_inserts_and_updates(store):
    store.execute(
        "INSERT INTO feedback (natural_key, channel, platform, text, ingested_at, raw, content_hash)"
        " VALUES ('k1', 'review', 'generic', 'the invoice was wrong', 'now', '{}', 'h')"
    )
    store.conn.commit()
    assert store.scalar("SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH 'invoice'") == 1
    store.execute("UPDATE feedback SET text = 'refund please' WHERE id = 1")
    store.conn.commit()
    assert store.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH 'invoice'") == 0
    assert store.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH 'refund'") == 1
