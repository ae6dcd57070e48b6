"""insights loop-effect: a notified group whose NPS rises is found; with no effect the verdict says so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.errors import InsightsError, NotFoundError
from feedback_engine.loop.transport import RecordingTransport
from tests.insights.customer_data import loop_world
from tests.loop.conftest import SMTPServer, make_settings


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def test_planted_nps_lift_of_the_notified_is_found_over_real_smtp(tmp_path, smtp):
    world = loop_world(np.random.default_rng(1), tmp_path, settings=make_settings(smtp.port))
    assert sorted(smtp.handler.to()) == sorted(world.notified)  # the held-back group never got an email
    assert 50 < len(world.held) < 130  # 30% of 300, drawn at random
    result = world.engine.insights.loop_effect(world.action)
    (a,) = result["actions"]
    assert (a["notified"], a["held_back"], a["emailed"]) == (len(world.notified), len(world.held), len(world.notified))
    nps = a["after"]["nps"]
    low, high = nps["ci"]
    assert low > 0  # found
    assert abs(nps["diff"] - world.planted_nps) <= 1.6 * (high - low) / 2, (nps, world.planted_nps)  # within ~3 SE
    assert a["verdict"].startswith("notified customers' NPS is") and "higher" in a["verdict"]
    assert a["after"]["nps_change"]["ci"][0] > 0
    # what was not planted: volume and sentiment after, and NPS before shipping
    assert a["after"]["volume"]["ci"][0] <= 0 <= a["after"]["volume"]["ci"][1]
    assert a["balance"]["nps"]["ci"][0] <= 0 <= a["balance"]["nps"]["ci"][1]
    assert a["after"]["churn"] is None  # no CRM import: churn is not known
    assert result == world.engine.insights.loop_effect()  # every action with a holdout: this one


def test_detection_rate_and_false_alarms_over_seeds(tmp_path):
    """3 planted seeds: each found, within ~3 standard errors of the planted difference; 5 null seeds (lift 0):
    NPS 'significant' at most once (5% false-alarm rate per seed)."""
    errors = []
    for seed in range(3):
        folder = tmp_path / f"p{seed}"
        folder.mkdir()
        world = loop_world(
            np.random.default_rng(10 + seed), folder, transport=RecordingTransport(), settings=make_settings(1)
        )
        nps = world.engine.insights.loop_effect(world.action)["actions"][0]["after"]["nps"]
        assert nps["p"] < 0.05 and abs(nps["diff"] - world.planted_nps) <= 1.6 * (nps["ci"][1] - nps["ci"][0]) / 2
        errors.append(nps["diff"] - world.planted_nps)
        world.engine.close()
    assert abs(float(np.mean(errors))) < 10  # points of NPS
    alarms = 0
    for seed in range(5):
        folder = tmp_path / f"n{seed}"
        folder.mkdir()
        world = loop_world(
            np.random.default_rng(50 + seed),
            folder,
            n=200,
            lift=0,
            transport=RecordingTransport(),
            settings=make_settings(1),
        )
        a = world.engine.insights.loop_effect(world.action)["actions"][0]
        alarms += a["after"]["nps"]["p"] < 0.05
        if a["after"]["nps"]["p"] >= 0.05:
            assert a["verdict"].startswith("no measurable difference in NPS yet")
        world.engine.close()
    assert alarms <= 1


def test_errors_and_cli(tmp_path):
    world = loop_world(
        np.random.default_rng(3), tmp_path, n=60, transport=RecordingTransport(), settings=make_settings(1)
    )
    engine = world.engine
    plain = engine.actions.add(themes=[1], title="No holdout", description="D")
    with pytest.raises(InsightsError, match="not shipped"):
        engine.insights.loop_effect(plain)
    engine.actions.update(plain, status="shipped")
    with pytest.raises(InsightsError, match="without a holdout"):
        engine.insights.loop_effect(plain)
    with pytest.raises(NotFoundError):
        engine.insights.loop_effect(999)
    db = str(engine.store.path)
    engine.close()
    runner = CliRunner()
    human = runner.invoke(main, ["--db", db, "insights", "loop-effect", str(world.action)])
    assert human.exit_code == 0, human.output
    assert f"Action {world.action} 'Clear invoices', shipped 2025-03-01T12:00:00Z" in human.output
    assert "NPS change per customer" in human.output and "Verdict: " in human.output
    data = json.loads(runner.invoke(main, ["--db", db, "insights", "loop-effect", "--json"]).output)
    assert [a["action_id"] for a in data["actions"]] == [world.action]
    refused = runner.invoke(main, ["--db", db, "insights", "loop-effect", str(plain)])
    assert refused.exit_code == 1 and refused.output.startswith(f"Error: Action {plain} was shipped without a holdout")
