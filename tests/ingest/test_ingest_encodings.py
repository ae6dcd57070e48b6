"""Encodings and line endings: UTF-8 (with/without BOM), UTF-16 LE/BE, Latin-1/cp1252, CRLF, bad bytes."""

from __future__ import annotations

import codecs
import json

import pytest

from tests.ingest.conftest import counts

ROWS = 'id,text,nps\n1,Café crème was great — merci,9\n2,"Multi-line\nanswer, with comma",3\n3,Plain ascii line,7\n'


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_unicode_encodings_and_line_endings(engine, tmp_path, encoding, bom, newline):
    path = tmp_path / "responses.csv"
    path.write_bytes(bom + ROWS.replace("\n", newline).encode(encoding))
    report = engine.ingest.surveys(path)
    assert counts(report) == (3, 0, 0, 0, 0)
    texts = [r["text"] for r in engine.store.query("SELECT text FROM feedback ORDER BY id")]
    assert texts == [
        "Café crème was great — merci",
        f"Multi-line{newline}answer, with comma",
        "Plain ascii line",
    ]
    assert engine.store.scalar("SELECT question FROM feedback LIMIT 1") == "text"  # no BOM left in the header


def test_latin1_file_falls_back_for_the_whole_file(engine, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,text\n1,Très bien merci\n2,Déçu par la mise à jour\n".encode("cp1252"))
    assert counts(engine.ingest.surveys(path, id_column="id", text_columns=["text"])) == (2, 0, 0, 0, 0)
    assert engine.store.scalar("SELECT text FROM feedback WHERE external_id = '2'") == "Déçu par la mise à jour"


def test_surveymonkey_fixture_is_latin1(engine):
    from tests.ingest.conftest import SURVEYS

    raw = (SURVEYS / "surveymonkey_csat.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    engine.ingest.surveys(SURVEYS / "surveymonkey_csat.csv")
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE text LIKE '%Ã%'") == 0  # no mojibake


def test_one_undecodable_line_in_a_utf8_file_is_quarantined_alone(engine, tmp_path):
    path = tmp_path / "mostly_utf8.csv"
    path.write_bytes(
        "id,text\n1,Naïve café – ok\n".encode() + b"2,broken \xff\xfe bytes here\n" + "3,Emoji fine 🙂\n".encode()
    )
    report = engine.ingest.surveys(path, id_column="id", text_columns=["text"])
    assert counts(report) == (2, 0, 0, 1, 0)
    [bad] = engine.ingest.quarantine()
    assert bad["location"] == "line 3"
    assert bad["reason"] == "undecodable bytes (not valid UTF-8)"
    assert json.loads(bad["raw"]) == ["2", "broken \\xff\\xfe bytes here"]  # bytes kept as \xNN escapes
    assert engine.store.scalar("SELECT text FROM feedback WHERE external_id = '3'") == "Emoji fine 🙂"
