"""PII redaction: precision and recall per kind on the labelled sets, keep rates, and speed.

    .venv/bin/python bench/pii_eval.py            # the template set (tests/nlp/pii_cases.py)
    .venv/bin/python bench/pii_eval.py --real     # plus its real carriers and held-out sets A-F
    .venv/bin/python bench/pii_eval.py --misses   # list missed and wrong spans (not of set F)

Per kind: gold spans, recall, predicted spans, precision; then the share of keep words (brands,
medicines, places, the brand's own handles, whole real carriers) with no wrong span over them.
Held-out set F (``tests/nlp/pii_heldout.py``) is the one no rule has seen: ``--misses-f`` lists
its misses, after which it is held out no more (E's were listed, and it is a development set now). Names come from the shipped spaCy pipeline
(``TextPreparer``), as in ``analyze``. Speed is ``find_pii`` + ``apply_spans`` alone (spaCy
excluded: it is the same before and after) on 2,000 texts (real ones with ``--real``), for this
tree, the redactor at ``--before`` (default e26ebfb, before the held-out work) and at ``--first``
(d226dca, the first one), in alternating rounds."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "nlp"))

from pii_cases import BRAND_HANDLES, Case, build_cases, carrier_cases, real_carriers, score  # noqa: E402
from pii_heldout import BRAND_HANDLES as HELDOUT_BRANDS  # noqa: E402
from pii_heldout import heldout_cases  # noqa: E402

from feedback_engine.nlp.redact import apply_spans, find_pii  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "sentiment"


def predict(
    cases: list[Case], redactor: Any = None, brands: tuple[str, ...] = BRAND_HANDLES
) -> list[list[tuple[str, int, int]]]:
    from feedback_engine.nlp.text import TextPreparer, load_spacy

    prepared = TextPreparer(load_spacy()).prepare([c.text for c in cases])
    finder = redactor.find_pii if redactor is not None else find_pii
    out = []
    for case, prep in zip(cases, prepared, strict=True):
        kwargs = {"brand_handles": brands} if "brand_handles" in inspect.signature(finder).parameters else {}
        out.append([(s.kind, s.start, s.end) for s in finder(case.text, prep.names, **kwargs)])
    return out


def print_report(title: str, cases: list[Case], predicted: list[list[tuple[str, int, int]]], misses: bool) -> None:
    report = score(cases, predicted)
    print(f"\n{title}: {len(cases)} texts")
    print(f"  {'kind':<9} {'gold':>5} {'recall':>7} {'pred':>5} {'precision':>9}")
    for kind, t in sorted(report.kinds.items()):
        print(f"  {kind:<9} {t.gold:>5} {t.recall:>7.3f} {t.predicted:>5} {t.precision:>9.3f}")
    print(f"  overall precision {report.overall_precision():.3f}")
    print("  kept (no span over the word): " + ", ".join(f"{c} {k}/{n}" for c, (k, n) in sorted(report.kept.items())))
    if misses:
        for kind, text in report.misses:
            print(f"    MISS {kind}: {text!r}")
        for kind, text in report.false:
            print(f"    WRONG {kind}: {text!r}")


def _show(revision: str, path: str) -> str | None:
    done = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _load(name: str, source: str) -> Any:
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_before(revision: str) -> Any:
    """The redactor at ``revision``, with that revision's allow-list module."""
    source = _show(revision, "feedback_engine/nlp/redact.py")
    if source is None:
        raise SystemExit(f"no feedback_engine/nlp/redact.py at {revision}")
    tag = revision.replace("~", "_").replace("^", "_")
    allow = _show(revision, "feedback_engine/nlp/pii_allow.py")
    if allow is not None:
        _load(f"pii_allow_{tag}", allow)
        source = source.replace("feedback_engine.nlp.pii_allow", f"pii_allow_{tag}")
    return _load(f"redact_{tag}", source)


def speed(texts: list[str], finder: Any, apply: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for text in texts:
            apply(text, finder(text))
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="also score real carriers from ../shared/data/sentiment")
    parser.add_argument("--misses", action="store_true", help="list missed and wrong spans (not of set F)")
    parser.add_argument("--misses-f", action="store_true", help="also list set F's (it stops being held out)")
    parser.add_argument(
        "--before",
        default="e26ebfb",
        help="git revision of the redactor to compare speed with (default e26ebfb: before the held-out work)",
    )
    parser.add_argument("--first", default="d226dca", help="git revision of the first redactor (default d226dca)")
    args = parser.parse_args()

    cases = build_cases()
    predicted = predict(cases)
    print_report("generated set (tests/nlp/pii_cases.py)", cases, predicted, args.misses)
    before, first = load_before(args.before), load_before(args.first)
    print_report(f"same set, redactor at {args.before}", cases, predict(cases, before), False)
    texts = [c.text for c in cases]
    if args.real and SHARED.exists():
        real = carrier_cases(real_carriers(SHARED))
        print_report("real carriers (drug reviews, tweets) + inserted PII", real, predict(real), args.misses)
        held = heldout_cases(SHARED, "a")
        print_report(
            "held-out set A (tests/nlp/pii_heldout.json; a development set since its first score)",
            held,
            predict(held, brands=HELDOUT_BRANDS),
            args.misses,
        )
        held_b = heldout_cases(SHARED, "b")
        print_report(
            "held-out set B (tests/nlp/pii_heldout_b.json; its per-kind figures led to rules)",
            held_b,
            predict(held_b, brands=HELDOUT_BRANDS),
            args.misses,
        )
        held_c = heldout_cases(SHARED, "c")
        print_report(
            "held-out set C (tests/nlp/pii_heldout_c.json; scored once before the last rule change)",
            held_c,
            predict(held_c, brands=HELDOUT_BRANDS),
            args.misses,
        )
        held_d = heldout_cases(SHARED, "d")
        print_report(
            "held-out set D (tests/nlp/pii_heldout_d.json; scored once, then its misses changed rules)",
            held_d,
            predict(held_d, brands=HELDOUT_BRANDS),
            args.misses,
        )
        held_e = heldout_cases(SHARED, "e")
        print_report(
            "held-out set E (tests/nlp/pii_heldout_e.json; scored once, then its misses changed rules)",
            held_e,
            predict(held_e, brands=HELDOUT_BRANDS),
            args.misses,
        )
        held_f = heldout_cases(SHARED, "f")
        print_report(
            "HELD-OUT set F (tests/nlp/pii_heldout_f.json: other carriers, Faker values, other templates)",
            held_f,
            predict(held_f, brands=HELDOUT_BRANDS),
            args.misses_f,
        )
        texts = real_carriers(SHARED, limit=2000)  # speed on real texts: most hold no PII and no cue word
    texts = (texts * (2000 // len(texts) + 1))[:2000]
    # Rounds alternate between the redactors so that a load spike on this shared CPU hits all three alike.
    now = then = earliest = 0.0
    for _ in range(5):
        now = max(now, speed(texts, lambda t: find_pii(t, brand_handles=BRAND_HANDLES), apply_spans, repeat=1))
        then = max(then, speed(texts, before.find_pii, before.apply_spans, repeat=1))
        earliest = max(earliest, speed(texts, first.find_pii, first.apply_spans, repeat=1))
    kind = "real" if args.real and SHARED.exists() else "generated"
    print(
        f"\nspeed (find_pii + apply_spans, no spaCy, {len(texts)} {kind} texts, best of 5 alternating rounds): "
        f"{now:,.0f} items/s now, {then:,.0f} at {args.before}, {earliest:,.0f} at {args.first}"
    )


if __name__ == "__main__":
    main()
