"""insights churn-risk: planted churners who raised a theme are found; with no planted effect nothing is flagged."""

from __future__ import annotations

import csv
import json

import numpy as np
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.insights.customer_data import churn_world


def test_planted_churn_theme_is_found_and_the_model_beats_chance(tmp_path):
    world = churn_world(np.random.default_rng(2), tmp_path)
    engine = world.planted.engine
    result = engine.insights.churn_risk(limit=None)

    themes = {t["label"]: t for t in result["themes"]["themes"]}
    assert [t["label"] for t in result["themes"]["themes"] if t["flagged"]] == ["billing"]
    billing = themes["billing"]
    assert billing["odds_ratio_ci"][0] > 1 and billing["ci"][0] > 0  # churners raised it: adjusted and raw
    truth_raised = [c for c in world.customers if any(i.theme == "billing" for i in c.items)]
    assert billing["raised"]["n"] == len(truth_raised)
    assert billing["raised"]["k"] == sum(c.churned is not None for c in truth_raised)

    model = result["model"]
    assert model["status"] == "ok"
    v = model["validation"]
    assert v["better_than_chance"] and v["auc_ci"][0] > 0.5
    assert 0 < v["calibration_slope"] < 3 and abs(v["mean_predicted"] - v["observed"]["share"]) < 0.05
    assert sum(b["n"] for b in v["reliability"]) == v["n"] == model["test"]["customers"]

    # the risk list: nobody churned, everyone has a signal, ranked by priority (revenue x recency)
    churned = {c.email for c in world.customers if c.churned is not None}
    risk = result["risk"]
    assert risk and not {r["email"] for r in risk} & churned
    assert all(r["detractor_responses"] or r["negative_open_items"] for r in risk)
    priorities = [r["priority"] for r in risk]
    assert priorities == sorted(priorities, reverse=True)
    assert all(r["churn_probability"] is not None for r in risk)
    assert result["revenue_at_risk"]["mrr"]["USD"] == sum(r["mrr"] for r in risk)

    # shipping an action on billing closes that theme: its complainers stay only as detractors
    billing_id = world.planted.theme_ids["billing"]
    action = engine.actions.add(themes=[billing_id], title="Clearer invoices", description="We fixed invoices.")
    engine.actions.update(action, status="shipped")
    after = engine.insights.churn_risk(limit=None)
    assert all(billing_id not in [t["id"] for t in r["open_themes"]] for r in after["risk"])
    assert any(billing_id in [t["id"] for t in r["open_themes"]] for r in risk)
    assert all(r["detractor_responses"] or r["negative_open_items"] for r in after["risk"])


def test_no_planted_effect_flags_no_theme_beyond_the_false_alarm_rate(tmp_path):
    """4 seeds x 4 themes at FDR 5%: at most one flagged theme overall; the AUC interval covers 0.5 in 3+."""
    flagged, covers = 0, 0
    for seed in range(4):
        folder = tmp_path / f"s{seed}"
        folder.mkdir()
        world = churn_world(np.random.default_rng(100 + seed), folder, planted_theme=None, base=0.2)
        result = world.planted.engine.insights.churn_risk()
        flagged += sum(t["flagged"] for t in result["themes"]["themes"])
        v = result["model"].get("validation")
        covers += v is None or v["auc_ci"][0] <= 0.5 <= v["auc_ci"][1]
        world.planted.engine.close()
    assert flagged <= 1
    assert covers >= 3


def test_without_churn_dates_there_is_no_model_but_a_risk_list(tmp_path):
    world = churn_world(np.random.default_rng(5), tmp_path, n=80, planted_theme=None, base=0.0)
    result = world.planted.engine.insights.churn_risk()
    assert result["model"]["status"] == "no churn dates"
    assert result["themes"]["themes"] == [] and result["at_risk"] > 0


def test_csv_export_neutralises_formulas_and_cli_output(tmp_path):
    world = churn_world(np.random.default_rng(3), tmp_path, n=120)
    engine = world.planted.engine
    target = engine.insights.churn_risk()["risk"][0]["email"]
    engine.store.execute(
        "UPDATE customers SET display_name = ?, plan = ? WHERE email = ?",
        ('=HYPERLINK("http://evil")', "@SUM(A1)", target),
    )
    engine.store.conn.commit()
    db = str(engine.store.path)
    engine.close()
    runner = CliRunner()
    out = tmp_path / "risk.csv"
    result = runner.invoke(main, ["--db", db, "insights", "churn-risk", "--csv", str(out), "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "customers at risk; MRR at risk" in result.output and "Rule: not churned" in result.output
    assert "Themes and churn (" in result.output and "Churn model" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    mine = [r for r in rows if r["email"] == target]
    assert mine[0]["name"] == '\'=HYPERLINK("http://evil")' and mine[0]["plan"] == "'@SUM(A1)"
    as_json = runner.invoke(main, ["--db", db, "insights", "churn-risk", "--json", "--segment", "Enterprise"])
    data = json.loads(as_json.output)
    assert data["filters"]["segment"] == "Enterprise" and all(r["segment"] == "Enterprise" for r in data["risk"])
    missing = runner.invoke(main, ["--db", db, "insights", "churn-risk", "--csv", str(tmp_path / "no" / "x.csv")])
    assert missing.exit_code == 1 and missing.output.startswith("Error: The folder")
