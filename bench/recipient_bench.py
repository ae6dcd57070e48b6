"""Recipient precision and recall on real text we did not write: airline customer tweets.

    python bench/recipient_bench.py [--n 1500] [--seed 7] [--json] [--corpus tweets|drug-reviews]

``--corpus drug-reviews``: the 600 real patient reviews in ``drug_reviews_train.tsv`` (several
sentences each, like product reviews), with side-effect and cost aspects (:data:`DRUG_ASPECTS`).

Ground truth comes from the words customers used, not from the model: the crowd-rated tweets in
``../shared/data/sentiment/crowdflower_tweets.csv.xz`` that address an airline are labelled with an
aspect when they name it (lost luggage, delays, cancellations, refunds, phone/hold, seats, wifi,
booking online; :data:`ASPECTS`), a tweet naming two aspects counts for both, and tweets naming
none ("@united thanks!", "best airline ever") are kept as they come, as noise. Each tweet becomes one
survey answer of its own customer (consent yes), and the whole path runs as a user runs it:
ingest (CSV) -> analyze (spaCy, our sentiment model, MiniLM, themes) -> for every aspect, an action
on the discovered theme that holds most of the sentences naming it (:func:`where_mentions_landed`),
an action on the discovered themes a product manager ticks from the theme list because their
labels name the aspect (``picked``, :func:`picked_by_label`; one action may hold several themes),
and an action on a seeded theme
(``themes seed NAME DESCRIPTION``) -> ``actions recipients``.

Printed per aspect and overall (micro-averaged over aspects), in one run:

- precision: share of recipients whose tweet names the aspect; recall: share of the customers who
  named it that are recipients -- for the evidence rule (``themes/evidence.py``) at its default
  threshold and at a sweep of thresholds, and for the old rule (every theme member is a recipient);
- the share of quotes that name the aspect; coverage (items with evidence in some theme);
- the largest theme's share of all items (a catch-all of a third is a defect).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedback_engine import Engine  # noqa: E402
from feedback_engine.loop.recipients import action_themes, linked_items  # noqa: E402
from feedback_engine.themes import evidence as ev  # noqa: E402
from feedback_engine.themes.queries import theme_items  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment" / "crowdflower_tweets.csv.xz"
AIRLINE_HANDLES = ("united", "southwestair", "americanair", "jetblue", "usairways", "virginamerica", "delta")
AIRLINES = re.compile(r"@(?:united|southwestair|americanair|jetblue|usairways|virginamerica|delta)\b", re.I)
ASPECTS: dict[str, tuple[str, str, str]] = {
    # name -> (seed name, keyword regex over the tweet, seed description)
    "luggage": (
        "Lost luggage",
        r"\b(?:bag|bags|baggage|luggage|suitcase)\b",
        "My bag or luggage was lost, damaged or delayed.",
    ),
    "delay": (
        "Flight delays",
        r"\b(?:delay|delayed|delays|late|tarmac)\b",
        "The flight was delayed and we waited for hours.",
    ),
    "cancellation": ("Cancelled flights", r"\b(?:cancel\w*|canceled|cancelled)\b", "My flight was cancelled."),
    "refund": ("Refunds", r"\b(?:refund\w*|reimburs\w*|voucher\w*)\b", "I want a refund or a voucher for my ticket."),
    "phone": (
        "Phone hold times",
        r"\b(?:on hold|hold time|hung up|phone|call back|calling)\b",
        "I was on hold on the phone for hours.",
    ),
    "seats": ("Seats", r"\b(?:seat|seats|legroom|upgrade\w*)\b", "My seat assignment or the seats were bad."),
    "wifi": ("Wifi", r"\b(?:wifi|wi-fi|internet)\b", "The wifi on the plane did not work."),
    "booking": (
        "Online booking",
        r"\b(?:website|online|booking|check.?in)\b",
        "Booking or checking in on the website failed.",
    ),
}
DRUGS = ROOT.parent / "shared" / "data" / "sentiment" / "drug_reviews_train.tsv"
#: Multi-sentence reviews (patients on their medicine): an aspect is one sentence among many.
DRUG_ASPECTS: dict[str, tuple[str, str, str]] = {
    "weight": ("Weight gain", r"\b(?:weight|pounds|lbs)\b", "I gained weight or lost weight on it."),
    "nausea": ("Nausea", r"\b(?:nausea|nauseous|nauseated|vomit\w*)\b", "It made me nauseous and I vomited."),
    "headache": ("Headaches", r"\b(?:headaches?|migraines?)\b", "It gave me headaches or migraines."),
    "sleep": (
        "Sleep problems",
        r"\b(?:sleep\w*|insomnia|tired|drowsy|fatigue)\b",
        "I could not sleep, or it made me tired.",
    ),
    "anxiety": ("Anxiety", r"\b(?:anxiety|anxious|panic)\b", "My anxiety and panic attacks."),
    "acne": ("Acne", r"\b(?:acne|pimples?|breakouts?|skin)\b", "My acne and skin broke out."),
    "bleeding": (
        "Periods and bleeding",
        r"\b(?:period|periods|bleeding|spotting|cramps?)\b",
        "Bleeding, spotting and cramps during my period.",
    ),
    "cost": (
        "Cost",
        r"\b(?:insurance|cost|expensive|price|copay)\b",
        "It is expensive and insurance does not cover it.",
    ),
    "mood": ("Mood", r"\b(?:mood|depress\w*|moody)\b", "My mood swings and depression."),
}
SWEEP = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)


#: The airline tweets of the CrowdFlower corpus were published with three words rewritten inside
#: every word that held them ("late" -> "Late Flight", so "later" reads "Late Flightr"; "cancel" ->
#: "Cancelled Flight", "cancelled" -> "Cancelled Flightled"; "booking" -> "Flight Booking Problems").
#: Customers never wrote those: put their words back before counting who named an aspect.
PUBLISHED_REWRITES = (
    (re.compile(r"Cancelled Flight", re.I), "cancel"),
    (re.compile(r"Late Flight", re.I), "late"),
    (re.compile(r"Flight Booking Problems", re.I), "booking"),
)


def restore_words(text: str) -> str:
    """``text`` with the corpus's published rewrites undone (see :data:`PUBLISHED_REWRITES`)."""
    for pattern, word in PUBLISHED_REWRITES:
        text = pattern.sub(word, text)
    return text


def load_tweets(n: int, seed: int) -> pd.DataFrame:
    df = pd.read_csv(DATA)
    df["text"] = [restore_words(str(t)) for t in df["text"]]
    df = df[df["text"].astype(str).str.contains(AIRLINES.pattern, flags=re.I, regex=True)].drop_duplicates("text")
    for name, (_, pattern, _) in ASPECTS.items():
        df[name] = df["text"].str.contains(pattern, case=False, regex=True)
    named = df[df[list(ASPECTS)].any(axis=1)]
    rest = df[~df[list(ASPECTS)].any(axis=1)]
    k = min(len(named), int(n * 0.75))
    sample = pd.concat([named.sample(k, random_state=seed), rest.sample(min(len(rest), n - k), random_state=seed)])
    return sample.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def load_drug_reviews(n: int, seed: int) -> pd.DataFrame:
    import html

    df = pd.read_csv(DRUGS, sep="\t")
    df["text"] = [html.unescape(str(t)).strip().strip('"').strip() for t in df["review"]]
    df = df.drop_duplicates("text")
    for name, (_, pattern, _) in ASPECTS.items():
        df[name] = df["text"].str.contains(pattern, case=False, regex=True)
    return df.sample(min(n, len(df)), random_state=seed).reset_index(drop=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["response_id", "email", "submitted_at", "feedback", "consent"])
        for i, text in enumerate(df["text"]):
            w.writerow([f"t{i}", f"c{i}@example.com", "2025-01-01T10:00:00Z", text, "yes"])


LANDED_SQL = """
SELECT t.theme_id, CASE WHEN t.sentence_idx >= 0 THEN s.redacted_text ELSE a.redacted_text END
FROM theme_assignments t
LEFT JOIN sentences s ON s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
LEFT JOIN analysis a ON a.feedback_id = t.feedback_id
WHERE t.sentence_idx >= 0 OR (SELECT count(*) FROM sentences c WHERE c.feedback_id = t.feedback_id) <= 1
"""


def where_mentions_landed(conn, pattern: str, themes: set[int]) -> int:
    """The theme holding most of the sentences (or one-sentence items) that name the aspect: where a
    product manager finds it in the theme list, and ships on."""
    hits: Counter[int] = Counter()
    rx = re.compile(pattern, re.I)
    for tid, text in conn.execute(LANDED_SQL):
        if int(tid) in themes and text and rx.search(text):
            hits[int(tid)] += 1
    return hits.most_common(1)[0][0] if hits else next(iter(themes))


def score(reached: set[int], truth: set[int]) -> tuple[float, float, int]:
    hit = len(reached & truth)
    return (hit / len(reached) if reached else 0.0), (hit / len(truth) if truth else 0.0), len(reached)


def picked_by_label(themes: list[dict], pattern: str, fallback: int) -> list[int]:
    """The themes a product manager ticks for an aspect from the theme list: every theme whose label
    names one of the aspect's words ("Period: heavy", "Bleeding: spotting", "Cramps: cramping" for
    periods and bleeding). The label only, never the members: what a person sees before shipping."""
    rx = re.compile(pattern, re.I)
    return sorted(t["id"] for t in themes if rx.search(t["label"] or "")) or [fallback]


def evaluate(engine: Engine, name: str, tid: int | list[int], truth: dict[str, set[int]]) -> dict:
    """Ship an action on theme ``tid`` (or several) and score its recipients against the customers who named ``name``."""
    conn = engine.store.conn
    want = truth[name]
    tids = sorted(tid) if isinstance(tid, list) else [tid]
    aid = engine.actions.add(themes=tids, title=f"{name} {tids}", description="Fixed.", by="bench")
    engine.actions.update(aid, status="shipped", by="bench")
    assert not linked_items(conn, aid) and sorted(action_themes(conn, aid)) == tids
    preview = engine.actions.recipients(aid)
    reached = {r["feedback_id"] for r in preview["recipients"]}
    quotes = [r["sentence"] or "" for r in preview["recipients"]]
    pattern = re.compile(ASPECTS[name][1], re.I)
    p, r, k = score(reached, want)
    old_p, old_r, old_k = score(theme_items(conn, tids), want)
    sweep = {}
    for threshold in SWEEP:
        found = set(ev.theme_evidence(conn, tids, threshold=threshold))
        sweep[threshold] = [round(x, 3) for x in score(found, want)[:2]]
    return {
        "theme": tid,
        "precision": round(p, 3),
        "recall": round(r, 3),
        "recipients": k,
        "quotes_name_aspect": round(sum(bool(pattern.search(q)) for q in quotes) / len(quotes), 3) if quotes else None,
        "old_rule": {"precision": round(old_p, 3), "recall": round(old_r, 3), "recipients": old_k},
        "sweep": sweep,
    }


def main() -> None:
    # the same figures on every run: fp32 models (bf16/int8 are chosen by a timing that varies with
    # load) and the airlines' own handles kept, as a brand configures them (FEEDBACK_ENGINE_BRAND_HANDLES)
    os.environ.setdefault("FEEDBACK_ENGINE_CPU_BF16", "0")
    os.environ.setdefault("FEEDBACK_ENGINE_CPU_INT8", "0")
    os.environ.setdefault("FEEDBACK_ENGINE_BRAND_HANDLES", ",".join(AIRLINE_HANDLES))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--corpus", choices=("tweets", "drug-reviews"), default="tweets")
    parser.add_argument("--keep", type=Path, help="copy the analysed database here (to inspect themes)")
    parser.add_argument(
        "--from-db",
        type=Path,
        help="start from a database kept with --keep (same --corpus/--n/--seed): refit its themes, skip ingest+analyze",
    )
    args = parser.parse_args()
    if args.corpus == "drug-reviews":
        ASPECTS.clear()
        ASPECTS.update(DRUG_ASPECTS)
        tweets = load_drug_reviews(args.n, args.seed)
    else:
        tweets = load_tweets(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tweets.csv"
        write_csv(tweets, path)
        if args.from_db:
            shutil.copyfile(args.from_db, Path(tmp) / "bench.db")
        with Engine(Path(tmp) / "bench.db") as engine:
            started = time.perf_counter()
            if args.from_db:
                analysis = engine.analysis.run(refit=True)
            else:
                engine.ingest.surveys(path, id_column="response_id", text_columns=["feedback"], email_column="email")
                analysis = engine.analysis.run()
            analyze_s = time.perf_counter() - started
            rows = engine.ingest.rows()
            by_text = {r["text"]: int(r["id"]) for r in rows}
            truth = {
                name: {by_text[t] for t, hit in zip(tweets["text"], tweets[name], strict=True) if hit and t in by_text}
                for name in ASPECTS
            }
            conn = engine.store.conn
            themes = engine.themes.list()
            total = len(by_text)
            largest = max((t["volume"] for t in themes), default=0)
            out: dict = {
                "items": total,
                "analyze_s": round(analyze_s, 1),
                "themes": len(themes),
                "largest_theme_share": round(largest / total, 3) if total else None,
                "aspects": {},
                "theme_list": [[t["id"], t["label"], t["volume"]] for t in themes],
            }
            members_all = {t["id"]: theme_items(conn, [t["id"]]) for t in themes}
            for name in ASPECTS:
                if len(truth[name]) >= 10:
                    best = where_mentions_landed(conn, ASPECTS[name][1], set(members_all))
                    out["aspects"][name] = {
                        "customers": len(truth[name]),
                        "discovered": evaluate(engine, name, best, truth),
                    }
                    picks = picked_by_label(themes, ASPECTS[name][1], best)
                    out["aspects"][name]["picked"] = evaluate(engine, name, picks, truth)
            with_evidence = set()
            for t in themes:
                with_evidence |= set(ev.theme_evidence(conn, [t["id"]]))
            out["coverage_evidence"] = round(len(with_evidence) / total, 3) if total else None
            out["analysis"] = {"analysed": analysis.analysed, "items_per_s": analysis.items_per_s}
            embedder = engine.models.embedder
        if args.keep:
            shutil.copyfile(Path(tmp) / "bench.db", args.keep)
        for name, row in out["aspects"].items():  # each seed on its own copy: seeds move what they match
            copy = Path(tmp) / f"seed-{name}.db"
            shutil.copyfile(Path(tmp) / "bench.db", copy)
            with Engine(copy, embedder=embedder) as seeded:
                tid = seeded.themes.seed(ASPECTS[name][0], ASPECTS[name][2])["id"]
                row["seeded"] = evaluate(seeded, name, tid, truth)
    for kind in ("discovered", "picked", "seeded"):
        agg: Counter[str] = Counter()
        for row in out["aspects"].values():
            k = row[kind]
            agg["tp"] += round(k["precision"] * k["recipients"])
            agg["reached"] += k["recipients"]
            agg["truth"] += row["customers"]
            agg["tp_r"] += round(k["recall"] * row["customers"])
        out[f"{kind}_micro"] = {
            "precision": round(agg["tp"] / agg["reached"], 3) if agg["reached"] else None,
            "recall": round(agg["tp_r"] / agg["truth"], 3) if agg["truth"] else None,
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"{out['items']} items, {out['themes']} themes, largest theme {out['largest_theme_share']:.0%} of items, "
        f"coverage with evidence {out['coverage_evidence']:.0%}, analyze {out['analyze_s']} s"
    )
    for name, row in out["aspects"].items():
        for kind in ("discovered", "picked", "seeded"):
            k = row[kind]
            print(
                f"{name:13} {kind:10} customers {row['customers']:4}  recipients {k['recipients']:4}  "
                f"P {k['precision']:.2f} R {k['recall']:.2f}  quotes name it {k['quotes_name_aspect']}  "
                f"| old rule P {k['old_rule']['precision']:.2f} R {k['old_rule']['recall']:.2f} "
                f"({k['old_rule']['recipients']})  | sweep {k['sweep']}"
            )
    for kind in ("discovered", "picked", "seeded"):
        print(f"micro {kind}: {out[f'{kind}_micro']}")


if __name__ == "__main__":
    random.seed(0)
    main()
