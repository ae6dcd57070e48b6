"""insights themes-by-segment: customers and revenue behind each theme; a planted segment difference is found."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.errors import InsightsError
from tests.insights.customer_data import churn_world


def test_revenue_behind_each_theme_matches_the_planted_customers(tmp_path):
    world = churn_world(np.random.default_rng(11), tmp_path, n=300)
    result = world.planted.engine.insights.themes_by_segment()
    overall = result["overall"]
    with_items = [c for c in world.customers if c.items]
    assert overall["customers"] == len(with_items)
    for row in overall["themes"]:
        raised = [c for c in with_items if any(i.theme == row["label"] for i in c.items)]
        negative = [
            c
            for c in raised
            if c.churned is None and any(i.theme == row["label"] and i.sentiment == "negative" for i in c.items)
        ]
        assert row["customers"]["k"] == len(raised) and row["customers"]["n"] == len(with_items)
        low, high = row["customers"]["ci"]
        assert low < row["customers"]["share"] < high
        assert row["mrr"]["total"] == {"USD": sum(c.mrr for c in raised)}
        assert row["mrr_at_risk"]["total"] == ({"USD": sum(c.mrr for c in negative)} if negative else {})
        assert row["items"] == sum(i.theme == row["label"] for c in with_items for i in c.items)
    assert result["comparison"] is None


def test_planted_segment_difference_is_flagged_and_only_it(tmp_path):
    world = churn_world(np.random.default_rng(12), tmp_path, n=600, segment_effect=True)
    result = world.planted.engine.insights.themes_by_segment(segments=("Enterprise", "SMB"))
    c = result["comparison"]
    assert [t["label"] for t in c["themes"] if t["flagged"]] == ["login"]
    login = c["themes"][0]
    low, high = login["customer_share_ci"]
    assert 0 < low < high  # Enterprise raises it more
    ent = [x for x in world.customers if x.segment == "Enterprise" and x.items]
    assert c["a"]["customers"] == len(ent) and c["a"]["name"] == "segment Enterprise"


def test_no_planted_difference_flags_nothing_beyond_the_false_alarm_rate(tmp_path):
    flagged = 0
    for seed in range(4):
        folder = tmp_path / f"s{seed}"
        folder.mkdir()
        world = churn_world(np.random.default_rng(200 + seed), folder, n=400, planted_theme=None)
        c = world.planted.engine.insights.themes_by_segment(segments=("Enterprise", "SMB"))["comparison"]
        flagged += sum(t["flagged"] for t in c["themes"])
        p = world.planted.engine.insights.themes_by_segment(
            periods=((date(2025, 1, 1), date(2025, 6, 30)), (date(2025, 7, 1), None))
        )["comparison"]
        flagged += sum(t["flagged"] for t in p["themes"])
        world.planted.engine.close()
    assert flagged <= 1  # 4 seeds x 2 comparisons x 4 themes at FDR 5%


def test_cli_periods_and_errors(tmp_path):
    world = churn_world(np.random.default_rng(13), tmp_path, n=100)
    db = str(world.planted.engine.store.path)
    world.planted.engine.close()
    runner = CliRunner()
    human = runner.invoke(
        main, ["--db", db, "insights", "themes-by-segment", "--periods", "2025-01-01..2025-06-30", "2025-07-01.."]
    )
    assert human.exit_code == 0, human.output
    assert "customers with" in human.output and "A = 2025-01-01..2025-06-30" in human.output
    data = json.loads(runner.invoke(main, ["--db", db, "insights", "themes-by-segment", "--json"]).output)
    assert {t["label"] for t in data["overall"]["themes"]} == {"billing", "login", "speed", "export"}
    bad = runner.invoke(main, ["--db", db, "insights", "themes-by-segment", "--segments", "Gold", "SMB"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: No customers in segment 'Gold'")
    period = runner.invoke(main, ["--db", db, "insights", "themes-by-segment", "--periods", "2025", "2026"])
    assert period.exit_code == 2 and "YYYY-MM-DD..YYYY-MM-DD" in period.output


def test_segments_and_periods_together_are_refused(tmp_path):
    world = churn_world(np.random.default_rng(14), tmp_path, n=50)
    with pytest.raises(InsightsError, match="not both"):
        world.planted.engine.insights.themes_by_segment(
            segments=("SMB", "Enterprise"), periods=((None, None), (None, None))
        )
