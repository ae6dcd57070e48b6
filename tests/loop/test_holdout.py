"""``actions update --status shipped --holdout 10%``: a recorded, seeded share of recipients is never emailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ActionError
from feedback_engine.loop.holdout import held_back, parse_share

from .conftest import add_customer, add_feedback, add_theme, at, make_settings, smtp_env

NOW = at("2025-03-02T08:00:00Z")


@pytest.fixture
def engine(store, smtp):
    return Engine(store, settings=make_settings(smtp.port))


def customers_on(store, theme, n):
    ids = {}
    for i in range(n):
        email = f"c{i}@example.com"
        ids[email] = add_customer(store, email)
        add_feedback(store, ids[email], f"login fails {i}", themes=[theme])
    return ids


def test_held_back_recipients_are_recorded_and_never_emailed(store, engine, smtp):
    theme = add_theme(store, "Login")
    ids = customers_on(store, theme, 60)
    action = engine.actions.add(themes=[theme], title="Faster login", description="We rebuilt the login page.")
    result = engine.actions.update(action, status="shipped", holdout="30%", holdout_seed=7, by="lead")
    assert result["changed"] == ["status", "holdout"]
    expected_held = {e for e, cid in ids.items() if held_back(7, action, cid, 0.3)}
    assert 5 < len(expected_held) < 35  # a random share, not a fixed count

    preview = engine.actions.recipients(action)
    assert {r["email"] for r in preview["recipients"] if r["held_back"]} == expected_held

    report = engine.outbox.notify(send=True, now=NOW)
    assert set(smtp.handler.to()) == set(ids) - expected_held  # the real SMTP server never saw them
    assert report.sent == len(ids) - len(expected_held) and report.excluded == {"holdout": len(expected_held)}
    held_rows = store.query(
        "SELECT c.email, n.status, n.email_id FROM notifications n JOIN customers c ON c.id = n.customer_id"
        " WHERE n.action_id = ? AND n.cancel_reason = 'holdout'",
        (action,),
    )
    assert {r["email"] for r in held_rows} == expected_held
    assert all(r["status"] == "cancelled" and r["email_id"] is None for r in held_rows)

    # a later run, and a customer who became a recipient later, are drawn by the same rule
    late = add_customer(store, "late@example.com")
    add_feedback(store, late, "login again", themes=[theme], created_at="2025-02-20T00:00:00Z")
    again = engine.outbox.notify(send=True, now=NOW + timedelta(days=10))
    late_held = held_back(7, action, late, 0.3)
    assert again.sent == (0 if late_held else 1)
    assert len(smtp.handler.messages) == len(ids) - len(expected_held) + (0 if late_held else 1)
    history = store.query(
        "SELECT field, to_value, by FROM action_history WHERE action_id = ? AND field = 'holdout'", (action,)
    )
    assert history == [{"field": "holdout", "to_value": "30.0% (seed 7)", "by": "lead"}]
    assert store.query("SELECT share, seed FROM action_holdouts WHERE action_id = ?", (action,)) == [
        {"share": 0.3, "seed": 7}
    ]


def test_holdout_only_when_shipping_and_share_is_checked(store, engine):
    theme = add_theme(store, "Login")
    action = engine.actions.add(themes=[theme], title="T", description="D")
    with pytest.raises(ActionError, match="pass --holdout with --status shipped"):
        engine.actions.update(action, status="planned", holdout="10%")
    with pytest.raises(ActionError, match="outside"):
        engine.actions.update(action, status="shipped", holdout="80%")
    assert store.scalar("SELECT status FROM actions WHERE id = ?", (action,)) == "proposed"  # nothing changed
    engine.actions.update(action, status="shipped")
    with pytest.raises(ActionError, match="pass --holdout with --status shipped"):
        engine.actions.update(action, status="shipped", holdout="10%")  # already shipped: too late to draw
    assert [parse_share(v) for v in ("10%", "10", "0.1", 25)] == [0.1, 0.1, 0.1, 0.25]
    with pytest.raises(ActionError, match="not a share"):
        parse_share("ten")


def test_cli_holdout_with_a_random_recorded_seed(store, smtp, db_path):
    theme = add_theme(store, "Login")
    ids = customers_on(store, theme, 20)
    action = Engine(store).actions.add(themes=[theme], title="T", description="D")
    runner = CliRunner()
    result = runner.invoke(
        main, ["--db", str(db_path), "actions", "update", str(action), "--status", "shipped", "--holdout", "20%"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Action {action} updated (status, holdout); status shipped.\n"
    share, seed = store.conn.execute("SELECT share, seed FROM action_holdouts").fetchone()
    sent = runner.invoke(main, ["--db", str(db_path), "notify", "--send"], env=smtp_env(smtp.port))
    assert sent.exit_code == 0, sent.output
    assert set(smtp.handler.to()) == {e for e, cid in ids.items() if not held_back(seed, action, cid, share)}
    bad = runner.invoke(main, ["--db", str(db_path), "actions", "update", str(action), "--holdout", "5%"])
    assert (
        bad.exit_code == 1
        and bad.output == "Error: A holdout is drawn when the action ships: pass --holdout with --status shipped.\n"
    )
