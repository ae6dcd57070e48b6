"""Recipients a product manager can trust: only customers with a confident, topical sentence in the
action's theme hear back, and the email quotes that sentence, not the start of their review."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.loop.actions import update_action
from feedback_engine.themes.evidence import is_topical, product_words, theme_evidence

from .conftest import T0, add_customer, add_feedback, add_theme, at, free_port, make_settings

SHIP = "2025-03-01T12:00:00Z"
NOW = at("2025-03-02T08:00:00Z")


@pytest.fixture
def engine(store, smtp):
    return Engine(store, settings=make_settings(smtp.port))


def ship(store, engine, themes, title, items=None):
    aid = engine.actions.add(themes=themes, items=items, title=title, description="We fixed it.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now=SHIP)
    return aid


def _sentences(store, fid: int, rows: list[tuple[str, list[str], int | None, float]]) -> None:
    """Sentences of one item: (redacted text, aspects, theme or None, confidence)."""
    with store.transaction() as conn:
        for idx, (text, aspects, theme, confidence) in enumerate(rows):
            conn.execute(
                "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, aspects)"
                " VALUES (?, ?, ?, ?, 'negative', -0.6, ?)",
                (fid, idx, text, text, json.dumps(aspects)),
            )
            if theme is not None:
                conn.execute(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (fid, idx, theme, confidence, T0),
                )


def test_only_confident_topical_sentences_make_recipients(store, engine, smtp):
    billing = add_theme(store, "Billing")
    ann, bob, cat, dan = (add_customer(store, f"{n}@example.com", name=n.title()) for n in ("ann", "bob", "cat", "dan"))
    said = "I was charged twice this month."
    add_feedback(store, ann, said, themes=[billing], aspects=("charge",), redacted=said)
    add_feedback(store, bob, "Love it!", themes=[billing], aspects=(), redacted="Love it!")  # names no subject
    add_feedback(store, cat, "The invoice was wrong.", themes=[billing], confidence=0.35, redacted="x")  # faint
    # a long review near billing as a whole, but no sentence of it is about billing (the demo's customer 6)
    review = add_feedback(store, dan, "I've recommended it to every freelancer I know. My company moved to Okta.")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at)"
            " VALUES (?, -1, ?, 0.9, ?)",
            (review, billing, T0),
        )
    _sentences(
        store,
        review,
        [
            ("I've recommended it to every freelancer I know.", ["freelancer"], None, 0.0),
            ("My company moved to Okta.", ["company", "okta"], None, 0.0),
        ],
    )
    aid = ship(store, engine, [billing], "Fixed double charges")
    preview = engine.actions.recipients(aid)
    assert [(r["email"], r["sentence"], r["why"]) for r in preview["recipients"]] == [
        ("ann@example.com", said, "theme")
    ]
    assert preview["member_items"] == 4 and preview["items_without_evidence"] == 3
    assert engine.actions.show(aid)["items"] == 4  # volumes still count every member
    report = engine.outbox.notify(send=True, now=NOW)
    assert report.sent == 1 and smtp.handler.messages[0].rcpt_tos == ["ann@example.com"]
    assert said in smtp.handler.messages[0].text


def test_the_email_quotes_the_sentence_that_matched(store, engine, smtp):
    sso = add_theme(store, "Single sign-on")
    ann = add_customer(store, "ann@example.com", name="Ann")
    fid = add_feedback(store, ann, "Great product overall. SSO with Okta fails every morning.", redacted="x")
    _sentences(
        store,
        fid,
        [
            ("Great product overall.", ["product"], sso, 0.62),
            ("SSO with Okta fails every morning.", ["sso"], sso, 0.81),
        ],
    )
    aid = ship(store, engine, [sso], title="SSO fixed")
    (rec,) = engine.actions.recipients(aid)["recipients"]
    assert (rec["sentence"], rec["score"], rec["why"]) == ("SSO with Okta fails every morning.", 0.81, "theme")
    engine.outbox.notify(send=True, now=NOW)
    text = smtp.handler.messages[0].text
    assert "SSO with Okta fails every morning." in text
    assert "Great product overall" not in text  # the generic sentence is neither evidence nor the quote


def test_seed_matches_and_hand_links_count(store, engine, smtp):
    refunds = add_theme(store, "Refunds")
    ann, bob = add_customer(store, "ann@example.com"), add_customer(store, "bob@example.com")
    fid = add_feedback(store, ann, "Where is my refund?", redacted="Where is my refund?")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at)"
            " VALUES (?, -1, ?, 0.6, 'seed', ?)",
            (fid, refunds, T0),
        )
    linked = add_feedback(store, bob, "Please call me back.", redacted="Please call me back.")
    aid = ship(store, engine, [refunds], title="Refunds in 3 days", items=[linked])
    found = {r["email"]: r["why"] for r in engine.actions.recipients(aid)["recipients"]}
    assert found == {"ann@example.com": "seed", "bob@example.com": "linked"}


def test_a_seeds_own_word_counts_without_a_noun_but_praise_and_common_words_do_not(store):
    """A person seeded "Flight delays" (description word "wait"): "We are delayed again!" names no
    noun but names the seed's word; "Love it!" names neither; "What a flight!" names only "flight",
    which is in most of the feedback, so it says nothing about delays."""
    delays = add_theme(store, "Flight delays")
    with store.transaction() as conn:
        conn.execute("UPDATE themes SET origin = 'seeded', anchors = ? WHERE id = ?", (json.dumps(["wait"]), delays))
    said = {
        "ann": "We are delayed again!",
        "bob": "Love it!",
        "cat": "What a flight!",
        "dan": "Still waiting, honestly.",
    }
    ids = {}
    for name, text in said.items():
        ids[name] = add_feedback(store, add_customer(store, f"{name}@example.com"), text, redacted=text, aspects=())
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at)"
                " VALUES (?, -1, ?, 0.62, 'seed', ?)",
                (ids[name], delays, T0),
            )
    for i in range(4):
        add_feedback(store, None, f"My flight number {i} was on time.")
    found = theme_evidence(store.conn, [delays])
    assert set(found) == {ids["ann"], ids["dan"]}
    assert found[ids["ann"]].quote == "We are delayed again!"


def test_a_sentence_about_the_product_itself_needs_the_themes_own_word(store):
    """The fit learned "medicine" and "medication" as the product's own words (patient reviews):
    a sentence whose only subject they are is evidence only where it names the theme's word, and a
    theme whose words are the product's own ("Medicine: pill") has no subject words at all."""
    headaches, medicine = add_theme(store, "Headaches"), add_theme(store, "Medicine: pill")
    with store.transaction() as conn:
        conn.execute("UPDATE themes SET anchors = ? WHERE id = ?", (json.dumps(["headach"]), headaches))
        conn.execute("UPDATE themes SET anchors = ? WHERE id = ?", (json.dumps(["medicine", "medic"]), medicine))
    said = [
        ("This medicine gave me awful headaches.", ("medicine",), headaches),
        ("This medication was not for me.", ("medication",), headaches),
        ("This medicine does work.", ("medicine",), medicine),
        ("The pill is too big to swallow.", ("pill",), medicine),
    ]
    ids = [
        add_feedback(
            store, add_customer(store, f"c{i}@example.com"), t, redacted=t, aspects=a, themes=[th], confidence=0.75
        )
        for i, (t, a, th) in enumerate(said)
    ]
    before = set(theme_evidence(store.conn, [headaches])) | set(theme_evidence(store.conn, [medicine]))
    assert before == set(ids)  # nothing learned yet: every sentence with a noun counts
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO theme_settings (key, value, updated_at) VALUES ('product_words', ?, ?)",
            (json.dumps(["medic", "medicine"]), T0),
        )
    assert product_words(store.conn) == {"medic", "medicine"}
    assert set(theme_evidence(store.conn, [headaches])) == {ids[0]}  # names "headaches"
    assert set(theme_evidence(store.conn, [medicine])) == {ids[3]}  # the pill is a subject here


def test_generic_subjects_are_not_topical():
    assert not is_topical(json.dumps([]))
    assert not is_topical(json.dumps(["app", "experience"]))
    assert not is_topical("not json")
    assert is_topical(json.dumps(["app", "login page"]))
    assert is_topical(json.dumps(["battery"]))
    assert not is_topical(json.dumps(["medication"]), frozenset({"medic"}))  # the product's own word, learned
    assert is_topical(json.dumps(["medication", "rash"]), frozenset({"medic"}))


def test_evidence_threshold_env_override(store, monkeypatch):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com")
    fid = add_feedback(store, cid, "Login loops.", themes=[theme], confidence=0.55)
    assert set(theme_evidence(store.conn, [theme])) == {fid}
    monkeypatch.setenv("FEEDBACK_ENGINE_EVIDENCE_MIN", "0.6")
    assert theme_evidence(store.conn, [theme]) == {}


def test_cli_recipients_lists_who_and_which_sentence(db_path, store, engine):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com")
    add_feedback(store, cid, "Login loops on Safari.", themes=[theme], redacted="Login loops on Safari.")
    aid = ship(store, engine, [theme], title="Login fixed")
    result = CliRunner().invoke(main, ["--db", str(db_path), "actions", "recipients", str(aid)])
    assert result.exit_code == 0, result.output
    assert "reaches 1 customer(s)" in result.output
    assert "0.90  ann@example.com  item 1: Login loops on Safari." in result.output
    as_json = CliRunner().invoke(main, ["--db", str(db_path), "actions", "recipients", str(aid), "--json"])
    assert json.loads(as_json.output)["recipients"][0]["score"] == 0.9
    missing = CliRunner().invoke(main, ["--db", str(db_path), "actions", "recipients", "99"])
    assert missing.exit_code != 0 and "No action with id 99" in missing.output


def test_exclude_a_customer_or_an_item_before_and_after_queueing(store, engine, smtp, db_path):
    login = add_theme(store, "Login")
    ann, bob, cat = (add_customer(store, f"{n}@example.com", name=n.title()) for n in ("ann", "bob", "cat"))
    for cid, text in ((ann, "Login loops."), (bob, "Login page is blank."), (cat, "Login times out.")):
        add_feedback(store, cid, text, themes=[login], redacted=text)
    extra = add_feedback(store, cat, "Login needs SSO.", themes=[login], redacted="Login needs SSO.", confidence=0.95)
    aid = ship(store, engine, [login], "Login fixed")
    engine.actions.exclude(aid, customer="bob@example.com", note="talked on the phone", by="kim")
    preview = engine.actions.recipients(aid)
    assert sorted(r["email"] for r in preview["recipients"]) == ["ann@example.com", "cat@example.com"]
    assert preview["excluded"] == {"excluded_by_person": 1}

    down = Engine(store, settings=make_settings(free_port()))  # nothing listens: the emails stay queued
    assert down.outbox.notify(send=True, now=NOW).sent == 0
    out = engine.actions.exclude(aid, item=extra, by="kim")  # cat keeps her other item
    assert out["changed"] and out["cancelled"] == 0
    out = engine.actions.exclude(aid, customer="ann@example.com", by="kim")
    assert out["cancelled"] == 1 and out["already_sent"] == 0
    report = engine.outbox.notify(send=True, now=NOW + timedelta(days=1))
    assert [m.rcpt_tos for m in smtp.handler.messages] == [["cat@example.com"]]
    assert "Login times out." in smtp.handler.messages[0].text and "SSO" not in smtp.handler.messages[0].text
    assert report.sent == 1
    late = engine.actions.exclude(aid, customer="cat@example.com")
    assert late["already_sent"] == 1 and late["cancelled"] == 0
    back = engine.actions.exclude(aid, customer="bob@example.com", undo=True)
    assert back["changed"] and "bob@example.com" in {r["email"] for r in engine.actions.recipients(aid)["recipients"]}

    runner = CliRunner()
    both = runner.invoke(main, ["--db", str(db_path), "actions", "exclude", str(aid)])
    assert both.exit_code != 0 and "exactly one of --customer EMAIL or --item ID" in both.output
    nobody = runner.invoke(
        main, ["--db", str(db_path), "actions", "exclude", str(aid), "--customer", "zed@example.com"]
    )
    assert nobody.exit_code != 0 and "No customer with email" in nobody.output
    ok = runner.invoke(main, ["--db", str(db_path), "actions", "exclude", str(aid), "--item", str(extra)])
    assert ok.exit_code == 0 and "was already out of action" in ok.output


def test_a_sentence_that_points_back_is_quoted_after_the_one_before_it(store, engine, tmp_path):
    sync = add_theme(store, "Sync")
    ann, bob = (add_customer(store, f"{n}@example.com", name=n.title()) for n in ("ann", "bob"))
    a = add_feedback(store, ann, "x")
    _sentences(
        store,
        a,
        [
            ("The new calendar sync is great.", ["calendar sync"], None, 0.0),
            ("It deletes my events every Monday.", ["events"], sync, 0.8),
        ],
    )
    b = add_feedback(store, bob, "y")
    _sentences(
        store,
        b,
        [("Nice app.", [], None, 0.0), ("Calendar sync deletes my events every Monday.", ["calendar sync"], sync, 0.7)],
    )
    found = theme_evidence(store.conn, [sync])
    assert found[a].text == "It deletes my events every Monday."
    assert found[a].quote == "The new calendar sync is great. It deletes my events every Monday."
    assert found[b].before is None and found[b].quote == "Calendar sync deletes my events every Monday."
    aid = ship(store, engine, [sync], "Sync keeps your events")
    preview = {r["email"]: r for r in engine.actions.recipients(aid)["recipients"]}
    assert preview["ann@example.com"]["context"] == "The new calendar sync is great."
    assert preview["ann@example.com"]["sentence"] == "It deletes my events every Monday."
    assert preview["bob@example.com"]["context"] is None
    out = tmp_path / "dry"
    report = engine.outbox.notify(dry_run_dir=out, now=NOW)
    listed = {e["to"]: e for e in report.emails}  # the dry run lists the same people and sentences
    assert set(listed) == set(preview) and listed["ann@example.com"]["actions"] == [aid]
    assert listed["ann@example.com"]["quote"] == "The new calendar sync is great. It deletes my events every Monday."
    assert listed["bob@example.com"]["score"] == preview["bob@example.com"]["score"]
    emails = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.eml")}
    ann_mail = next(t for t in emails.values() if "ann@example.com" in t)
    assert "The new calendar sync is great. It deletes my events every Monday." in ann_mail.replace("=\n", "")
