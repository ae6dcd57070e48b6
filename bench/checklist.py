"""The behavioural suite (:mod:`feedback_engine.nlp.sentiment.checklist`): pass rate per capability.

python bench/checklist.py                  # the shipped model (with its lexicon head when present), and VADER
python bench/checklist.py --no-lexicon     # the model alone
python bench/checklist.py --write          # also write checklist.json into the model folder (the test's figures)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, TransformerSentiment, VaderSentiment  # noqa: E402
from feedback_engine.nlp.sentiment.checklist import build_suite, run_suite  # noqa: E402

CHECKLIST_FILE = "checklist.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--precision", default=None, help="fp32 / int8 (default: what the CPU picks)")
    parser.add_argument("--no-lexicon", action="store_true", help="the model without its lexicon head")
    parser.add_argument("--failing", action="store_true", help="print up to 5 failing cases per capability")
    parser.add_argument("--write", action="store_true", help=f"write {CHECKLIST_FILE} into --model")
    args = parser.parse_args(argv)
    cases = build_suite()
    models = {
        "model": TransformerSentiment(args.model, precision=args.precision, lexicon=not args.no_lexicon),
        "VADER": VaderSentiment(),
    }
    rates = {name: run_suite(m.predict, cases) for name, m in models.items()}
    print(f"{len(cases)} cases; {models['model']!r}")
    print(f"{'capability':<14} {'n':>4}  {'model':>7}  {'VADER':>7}")
    for capability, row in rates["model"].items():
        print(f"{capability:<14} {row['n']:>4}  {row['rate']:>7.3f}  {rates['VADER'][capability]['rate']:>7.3f}")
        if args.failing:
            for text in row["failing"]:
                print(f"    fails: {text}")
    if args.write:
        payload = {
            "model": repr(models["model"]),
            "command": "python bench/checklist.py --write",
            "cases": len(cases),
            "rates": {c: r["rate"] for c, r in rates["model"].items()},
            "n": {c: r["n"] for c, r in rates["model"].items()},
            "vader": {c: r["rate"] for c, r in rates["VADER"].items()},
        }
        path = args.model / CHECKLIST_FILE
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
