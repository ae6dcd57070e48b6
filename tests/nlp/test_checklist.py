"""The behavioural suite: its cases (no model), and the shipped model against its reported pass rates."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, SentimentResult, VaderSentiment
from feedback_engine.nlp.sentiment.checklist import CAPABILITIES, Case, build_suite, run_suite

REPORTED = DEFAULT_MODEL_DIR / "checklist.json"  # written by `python bench/checklist.py --write`


def margin(n: int) -> float:
    """Slack under a reported rate: one case more than 5% (int8 and fp32 differ on a few borderline texts)."""
    return 0.05 + 1.0 / n


def test_suite_is_deterministic_and_covers_every_capability() -> None:
    cases = build_suite()
    assert cases == build_suite()
    assert build_suite(seed=14) != cases
    counts = Counter(c.capability for c in cases)
    assert set(counts) == set(CAPABILITIES)
    assert min(counts.values()) >= 12
    assert len({c.texts for c in cases}) == len(cases)  # no case twice
    for case in cases:
        assert case.kind in ("MFT", "DIR", "INV")
        assert len(case.texts) == (1 if case.kind == "MFT" else 2)
        if case.kind != "MFT":
            assert case.texts[0] != case.texts[1]
    assert any(
        c.texts[0] == "Great, another update that deletes my data 🙄" for c in cases if c.capability == "sarcasm"
    )


def _fixed(labels: dict[str, tuple[str, float]]):
    def predict(texts: list[str]) -> list[SentimentResult]:
        return [SentimentResult(*labels.get(t, ("neutral", 0.0)), {}) for t in texts]

    return predict


def test_each_kind_of_check() -> None:
    cases = [
        Case("negation", "MFT", ("not good",), "not positive"),
        Case("negation", "MFT", ("not bad",), "not negative"),
        Case("intensifiers", "DIR", ("slow", "very slow"), "more negative"),
        Case("typos", "INV", ("awful", "awfl"), "same"),
    ]
    good = {"not good": ("negative", -0.5), "not bad": ("positive", 0.3), "slow": ("negative", -0.5)}
    good |= {"very slow": ("negative", -0.8), "awful": ("negative", -0.9), "awfl": ("negative", -0.4)}
    rates = run_suite(_fixed(good), cases)
    assert {c: r["rate"] for c, r in rates.items()} == {"negation": 1.0, "intensifiers": 1.0, "typos": 1.0}
    bad = good | {"not good": ("positive", 0.4), "very slow": ("negative", -0.3), "awfl": ("neutral", 0.0)}
    rates = run_suite(_fixed(bad), cases)
    assert {c: r["rate"] for c, r in rates.items()} == {"negation": 0.5, "intensifiers": 0.0, "typos": 0.0}
    assert rates["negation"]["failing"] == ["not good"]


def test_vader_reaches_its_reported_rates() -> None:
    if not REPORTED.is_file():
        pytest.skip("no checklist.json beside the model")
    reported = json.loads(REPORTED.read_text(encoding="utf-8"))
    got = run_suite(VaderSentiment().predict)
    assert {c: r["rate"] for c, r in got.items()} == reported["vader"]  # a lexicon is deterministic


@pytest.mark.models
def test_model_reaches_its_reported_rates(sentiment_model) -> None:
    reported = json.loads(REPORTED.read_text(encoding="utf-8"))
    assert ("+lexicon" in reported["model"]) == (getattr(sentiment_model, "head", None) is not None)
    got = run_suite(sentiment_model.predict)
    for capability, rate in reported["rates"].items():
        assert got[capability]["rate"] >= rate - margin(got[capability]["n"]), (capability, got[capability])
