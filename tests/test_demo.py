"""The main job end to end on the shipped fixtures, with the real models: `feedback-engine demo`."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.store import Store
from feedback_engine.themes.evidence import theme_evidence

pytestmark = [pytest.mark.models, pytest.mark.slow]


def test_demo_ingests_analyses_triages_and_writes_the_emails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db, emails = tmp_path / "feedback.db", tmp_path / "emails"
    result = CliRunner().invoke(main, ["--db", str(db), "demo", "--emails", str(emails), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    assert sum(r["added"] for r in report["ingest"]) == 942
    assert report["status"]["quarantined"] == 13
    assert report["analysis"]["analysed"] == 942
    themes = report["themes"]
    assert len(themes) >= 8
    assert all("_" not in t["label"] and t["label"] != "Unlabelled theme" for t in themes)  # readable, not `the_and`
    # most labels are a head and the terms that follow it; a theme whose second words few members
    # wrote is its head alone ("Price": themes.labels.supported_terms)
    assert sum(":" in t["label"] for t in themes) >= len(themes) / 2
    assert report["action"]["status"] == "shipped"

    files = sorted(emails.glob("*.eml"))
    assert files and len(files) == len(report["notify"]["files"])
    with Store(db) as store:
        consenting = {
            row["email"] for row in store.query("SELECT email FROM customers WHERE consent = 1 AND email IS NOT NULL")
        }
    with Engine(db) as engine:
        preview = engine.actions.recipients(report["action"]["id"])
        theme = report["action"]["themes"][0]["id"]
        evidence = theme_evidence(engine.store.conn, [theme])
    matched = {r["email"]: r["sentence"] for r in preview["recipients"]}
    assert len(matched) == len(files)
    assert all(r["score"] is not None and r["score"] >= 0.5 for r in preview["recipients"])
    assert {r["feedback_id"] for r in preview["recipients"]} <= set(evidence)  # a confident sentence each
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        to = message["To"].addresses[0].addr_spec
        assert to in consenting and to in matched
        assert "\n" not in str(message["To"]) and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        body = " ".join(message.get_body(("plain",)).get_content().split())
        quote = body[body.index(" wrote ") :]
        # it quotes the sentence that matched (after the one before it when it opens by pointing back)
        assert quote.index('"') < quote.index(" ".join(matched[to].split())[:200]) < quote.index("What we did")

    again = CliRunner().invoke(main, ["--db", str(db), "demo", "--emails", str(emails), "--json"])
    assert again.exit_code == 0, again.output
    second = json.loads(again.output)
    assert sum(r["added"] + r["updated"] for r in second["ingest"]) == 0
    assert second["analysis"]["analysed"] == 0
    assert second["action"]["id"] == report["action"]["id"]
    assert len(second["notify"]["files"]) == len(files)

    text = CliRunner().invoke(main, ["--db", str(db), "demo", "--emails", str(emails)])
    assert text.exit_code == 0, text.output
    triage = text.output.split("== Themes (triage) ==")[1].split("== Close the loop ==")[0].strip().splitlines()
    assert triage[0].split() == ["id", "label", "volume", "negative", "sentiment", "trend"]
    assert len(triage) - 2 == len(themes)
    assert all("%" in row for row in triage[2:])  # the share negative is filled in, not blank


def test_demo_without_fixtures_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "f.db"), "demo", "--fixtures", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: No fixture folders")
    assert "Traceback" not in result.output
