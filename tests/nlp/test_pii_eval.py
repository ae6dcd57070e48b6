"""The labelled PII sets through spaCy names and ``find_pii``: the figures ``bench/pii_eval.py``
prints, less a small margin, so a regression fails.

- ``pii_cases.py``: the set the rules were written against (a regression floor, not a measure);
- its real carriers (300 patient reviews and tweets with PII appended);
- ``pii_heldout.py`` sets A to F (real carriers the others do not read, Faker values, their own
  templates): F is the one no rule has seen; A to E are recorded as they stand (their scores
  changed rules, see that module's docstring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pii_cases import BRAND_HANDLES, Case, Report, build_cases, carrier_cases, real_carriers, score
from pii_heldout import BRAND_HANDLES as HELDOUT_BRANDS
from pii_heldout import heldout_cases

from feedback_engine.nlp.redact import find_pii
from feedback_engine.nlp.text import TextPreparer

STRUCTURED = ("EMAIL", "PHONE", "SSN", "CARD", "IBAN", "IP", "POSTCODE", "ADDRESS", "HANDLE", "DOB")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sentiment"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/sentiment (real carriers)")


def _report(spacy_nlp: Any, cases: list[Case], brands: tuple[str, ...]) -> Report:
    prepared = TextPreparer(spacy_nlp).prepare([c.text for c in cases])
    predicted = [
        [(s.kind, s.start, s.end) for s in find_pii(c.text, p.names, brand_handles=brands)]
        for c, p in zip(cases, prepared, strict=True)
    ]
    return score(cases, predicted)


def test_labelled_set_recall_precision_and_keep_rates(spacy_nlp: Any) -> None:
    """Measured 2026-12-02: every kind 1.000 recall and precision, every keep category 100%."""
    cases = build_cases()
    assert len(cases) >= 800
    report = _report(spacy_nlp, cases, BRAND_HANDLES)
    for kind in STRUCTURED:
        tally = report.kinds[kind]
        assert tally.gold >= 50, kind
        assert tally.recall >= 0.98, (kind, tally, report.misses)
        assert tally.precision >= 0.97, (kind, tally, report.false)
    assert report.kinds["NAME"].recall >= 0.97, report.misses
    assert report.kinds["NAME"].precision >= 0.97, report.false
    assert report.overall_precision() >= 0.98
    for category, (kept, total) in report.kept.items():
        assert kept >= 0.97 * total, (category, kept, total)


@needs_shared
def test_real_carriers_with_inserted_pii(spacy_nlp: Any) -> None:
    """Measured: structured kinds 1.000, NAME recall 1.000 (Miranda, an agent, is gold) and
    precision 0.944 (Watson the drug maker, Reclipsen, and Sadie, who hates the google car: a person the
    carrier labels missed), overall precision 0.990, 297/300 kept."""
    report = _report(spacy_nlp, carrier_cases(real_carriers(SHARED)), BRAND_HANDLES)
    for kind in STRUCTURED:
        assert report.kinds[kind].recall >= 0.98, (kind, report.misses)
    assert report.kinds["NAME"].recall >= 0.96, report.misses
    assert report.kinds["NAME"].precision >= 0.92, report.false
    assert report.overall_precision() >= 0.98
    kept, total = report.kept["REAL"]
    assert kept >= 0.98 * total


# (set, kind) -> (recall, precision) measured 2026-12-03 (bench/pii_eval.py --real); the test allows
# 0.03 less, or 1.5 cases where a kind has under 50 (one or two cases). Kinds not listed measured
# 1.000 / 1.000 in that set. F is the set no rule has seen; A-E are recorded as they stand (their scores
# or misses changed rules, see pii_heldout.py). First scores, before the rules changed from them:
# A (99c2dac) address 0.902, phone 0.902, postcode 0.930, names 0.867 / 0.852; B (60ae2dc) address 0.860,
# phone 0.787 / 0.927, names 0.611 / 0.746; D (987a94d) address 0.889, phone 0.733, names 0.813 / 0.779;
# E (rules of 1a4e690) address 0.812, phone 0.943, names 0.796 / 0.782, overall precision 0.957.
# F's figures below are its first score.
MEASURED: dict[str, dict[str, tuple[float, float]]] = {
    "a": {"NAME": (0.923, 0.893)},
    "b": {"HANDLE": (0.979, 1.0), "NAME": (0.862, 0.841)},
    "c": {"HANDLE": (0.990, 1.0), "NAME": (0.826, 0.812)},
    "d": {"HANDLE": (0.995, 1.0), "NAME": (0.873, 0.867)},
    "e": {"NAME": (0.857, 0.863)},
    "f": {"HANDLE": (0.986, 1.0), "NAME": (0.948, 0.974), "PHONE": (0.971, 1.0)},
}
OVERALL_PRECISION = {"a": 0.982, "b": 0.970, "c": 0.964, "d": 0.977, "e": 0.974, "f": 0.996}


@needs_shared
@pytest.mark.parametrize("which", ["a", "b", "c", "d", "e", "f"])
def test_heldout_sets_per_kind(spacy_nlp: Any, which: str) -> None:
    report = _report(spacy_nlp, heldout_cases(SHARED, which), HELDOUT_BRANDS)
    for kind in (*STRUCTURED, "NAME"):
        tally = report.kinds[kind]
        assert tally.gold >= 30, (kind, tally)
        recall, precision = MEASURED[which].get(kind, (1.0, 1.0))
        margin = max(0.03, 1.5 / tally.gold)
        assert tally.recall >= recall - margin, (kind, tally)
        assert tally.precision >= precision - margin, (kind, tally)
    assert report.overall_precision() >= OVERALL_PRECISION[which] - 0.02
