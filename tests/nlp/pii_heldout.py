"""The HELD-OUT PII sets: real carriers from ``../shared/data/sentiment`` that ``pii_cases.py`` does
not read, with sentences of Faker-made PII inserted, written by ``bench/pii_heldout_make.py``.
Scored with :func:`pii_cases.score`.

- Set A (``pii_heldout.json``, 560 items): written before the rules of issue 13 and scored once
  after them (commit 99c2dac); what it showed then changed a few rules (US territories, "my cell,
  it's", a flat with no house number, "the Nuvaring"), so since then it is a second development set.
- Set B (``pii_heldout_b.json``, 500 items): written and labelled after that, with its own seed,
  carriers, locales, keep words and templates; no rule has been changed after seeing it.

Gold spans: the inserted PII; every @handle of a carrier that is not one of :data:`BRAND_HANDLES`;
and what :data:`CARRIER_GOLD` / :data:`CARRIER_GOLD_B` list, labelled by hand: people the carriers
name themselves (agents thanked in tweets, a famous person: a redactor cannot tell them apart and
should not try). Keep words: the inserted medicine and product brands (``DRUG``, ``BRAND``), the
review's own drug name (``DRUG_REAL``) and each case as a whole (``REAL``: no wrong span in it).
"""

from __future__ import annotations

import csv
import json
import lzma
import re
from pathlib import Path

from pii_cases import Case

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "pii_heldout.json"
FIXTURE_B = HERE / "pii_heldout_b.json"
# The airlines the tweets are written to: their handles are the brand's own and stay.
BRAND_HANDLES = ("united", "southwestair", "americanair", "jetblue", "usairways", "virginamerica", "delta")
_HANDLE = re.compile(r"(?<![\w@./])@([A-Za-z0-9_]{1,30})\b")

# (source:row) -> PII spans the carrier itself holds, as (kind, exact text); every occurrence counts.
# Labelled by reading every carrier's capitalised words and spaCy PERSON spans, before any rule change.
# Hashtags (#Brady) are topics, not names; a band (Steely Dan), a mascot (Bango), a law firm (Paul
# Weiss) and an eponym (Kallman's syndrome) are not people.
CARRIER_GOLD: dict[str, tuple[tuple[str, str], ...]] = {
    "tweet:11078": (("NAME", "Spike Lee"),),
    "tweet:13372": (
        ("NAME", "Tom Brady"),
        ("NAME", "Bill Belichick"),
    ),
    "tweet:11001": (("NAME", "Brady"),),
    "tweet:10119": (("NAME", "Brady"),),
    "tweet:23735": (("NAME", "Brady"),),
    "tweet:11734": (("NAME", "Neil deGrasse Tyson"),),
    "tweet:24024": (("NAME", "Neil deGrasse Tyson"),),
    "tweet:22478": (("NAME", "Miley"),),
    "tweet:15864": (("NAME", "Hu Yoshida"),),
    "tweet:18374": (("NAME", "Gordon Crovitz"),),
    "tweet:14422": (
        ("NAME", "Rob Charry"),
        ("NAME", "Ruben Amaro"),
    ),
    "tweet:23208": (("NAME", "Tom"),),
    "tweet:24703": (("NAME", "Tom Brady"),),
    "tweet:25857": (("NAME", "Madonna"),),
    "tweet:9835": (
        ("NAME", "Belichick"),
        ("NAME", "Bill"),
    ),
    "tweet:15346": (("NAME", "Rick Holman"),),
    "tweet:23672": (("NAME", "Phil Jackson"),),
    "tweet:24911": (("NAME", "Tom Brady"),),
    "tweet:11359": (("NAME", "Brady"),),
    "tweet:29799": (("NAME", "Sheila"),),
    "tweet:14297": (("NAME", "Emily"),),
    "tweet:33555": (("NAME", "Tom Brady"),),
    "tweet:30232": (("NAME", "Maria"),),
    "tweet:17522": (("NAME", "Larry Page"),),
    "tweet:25338": (("NAME", "Tom Brady"),),
    "tweet:31476": (("NAME", "Jack White"),),
    "tweet:10781": (("NAME", "Rodney Harrison"),),
    "tweet:18864": (("NAME", "Bryant Walker Smith"),),
    "tweet:32822": (
        ("NAME", "Rog"),
        ("NAME", "Rob"),
    ),
    "tweet:22467": (
        ("NAME", "Scott"),
        ("NAME", "Jhene Aiko"),
        ("NAME", "Sampha"),
    ),
    "tweet:22727": (("NAME", "Kanye West"),),
    "tweet:24744": (("NAME", "Stephen A"),),
    "tweet:23646": (("NAME", "Marshawn Lynch"),),
    "tweet:32971": (("NAME", "Marshawn Lynch"),),
    "tweet:14057": (("NAME", "Anissa Ramirez"),),
    "tweet:13831": (("NAME", "Bill Belichick"),),
    "tweet:22951": (
        ("NAME", "Drake"),
        ("NAME", "Pharrell"),
    ),
    "tweet:12727": (("NAME", "Belichik"),),
}

# Set B's carriers, labelled the same way before set B was first scored (stage names such as Flying
# Lotus, cartoon and mascot names are not people; fictional characters' full names are).
CARRIER_GOLD_B: dict[str, tuple[tuple[str, str], ...]] = {
    "tweet:25930": (("NAME", "Obama"),),
    "tweet:13017": (("NAME", "Mike Francesa"),),
    "tweet:33972": (("NAME", "Bill"),),
    "tweet:14824": (("NAME", "Bill Belichick"),),
    "tweet:22464": (("NAME", "bobby shmurda"),),
    "tweet:22518": (("NAME", "bobby shmurda"),),
    "tweet:23121": (
        ("NAME", "Olivia"),
        ("NAME", "Tom Brady"),
        ("NAME", "Fitz"),
        ("NAME", "Richard Sherman"),
        ("NAME", "Cytron"),
    ),
    "tweet:19842": (("NAME", "Oscar"),),
    "tweet:31246": (
        ("NAME", "Hozier"),
        ("NAME", "Drake"),
    ),
    "tweet:23342": (("NAME", "Brady"),),
    "tweet:10374": (("NAME", "Brady"),),
    "tweet:23391": (("NAME", "Brady"),),
    "tweet:23369": (("NAME", "Brady"),),
    "tweet:13891": (("NAME", "Belichick"),),
    "tweet:22455": (("NAME", "Tyler"),),
    "tweet:33824": (("NAME", "Belichick"),),
    "tweet:14454": (("NAME", "Goodell"),),
    "tweet:12674": (("NAME", "Tom Brady"),),
    "tweet:26928": (("NAME", "Tori"),),
    "tweet:33799": (("NAME", "Belichick"),),
    "tweet:24655": (("NAME", "Carl Spackler"),),
    "tweet:23453": (("NAME", "Bill"),),
    "tweet:12924": (("NAME", "Tom Brady"),),
    "tweet:13448": (
        ("NAME", "Bill Belichick"),
        ("NAME", "Tom Brady"),
    ),
    "tweet:12666": (("NAME", "Tom Brady"),),
    "tweet:25281": (("NAME", "Tom Brady"),),
    "tweet:13482": (("NAME", "Tom Brady"),),
    "tweet:33374": (("NAME", "Tom Brady"),),
    "tweet:14989": (("NAME", "Chris Urmson"),),
    "tweet:11333": (("NAME", "Belichick"),),
    "tweet:33573": (("NAME", "Tom"),),
    "tweet:14284": (
        ("NAME", "Bill Belichick"),
        ("NAME", "Donovan McNabb"),
    ),
    "tweet:17462": (("NAME", "Nikola Tesla"),),
    "tweet:30081": (("NAME", "Ethan"),),
    "tweet:24026": (("NAME", "Tom Brady"),),
    "tweet:13913": (
        ("NAME", "Bill Belichick"),
        ("NAME", "Mona Lisa Vito"),
    ),
    "tweet:12285": (
        ("NAME", "Neil deGrasse Tyson"),
        ("NAME", "Bill Nye"),
    ),
    "tweet:23803": (("NAME", "Tom Brady"),),
    "tweet:31778": (
        ("NAME", "Ghostface Killah"),
        ("NAME", "Kele"),
    ),
    "tweet:13241": (
        ("NAME", "tom brady"),
        ("NAME", "kobe"),
    ),
    "tweet:24183": (("NAME", "Clint Eastwood"),),
    "tweet:33889": (("NAME", "Belicheck"),),
    "tweet:12889": (("NAME", "Brady"),),
    "tweet:25497": (("NAME", "Obama"),),
    "tweet:27043": (("NAME", "bri"),),
    "tweet:27434": (("NAME", "Totty"),),
}


def review_text(raw: str) -> str:
    return raw.strip().strip('"').replace("&#039;", "'").replace("&quot;", '"').replace("&amp;", "&")


def cut(text: str, limit: int = 360) -> str:
    """``text`` up to the last sentence end within ``limit`` characters."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text[:limit])]
    return text[: ends[-1]] if ends else text[:limit]


def read_carriers(shared: Path) -> dict[str, dict[int, tuple[str, str]]]:
    """source -> row -> (carrier text, the review's drug name or "")."""
    out: dict[str, dict[int, tuple[str, str]]] = {"drug": {}, "tweet": {}}
    with open(shared / "drug_reviews_train.tsv", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f, delimiter="\t")):
            out["drug"][i] = (cut(review_text(row["review"])), row["drugName"])
    with lzma.open(shared / "crowdflower_tweets.csv.xz", "rt", encoding="utf-8", errors="replace") as f:
        for i, row in enumerate(csv.DictReader(f)):
            out["tweet"][i] = (row["text"], "")
    return out


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", text)]


def heldout_cases(shared: Path, which: str = "a") -> list[Case]:
    """Set ``"a"`` (``pii_heldout.json``) or ``"b"`` (``pii_heldout_b.json``) as scored cases."""
    fixture, carrier_gold = (FIXTURE, CARRIER_GOLD) if which == "a" else (FIXTURE_B, CARRIER_GOLD_B)
    items = json.loads(fixture.read_text(encoding="utf-8"))["items"]
    carriers = read_carriers(shared)
    cases = []
    for item in items:
        key = f"{item['source']}:{item['row']}"
        carrier, drug = carriers[item["source"]][item["row"]]
        assert len(carrier) == item["carrier_len"], key
        at, sentence = item["at"], item["sentence"]
        if at == 0:
            text, offset, base = f"{sentence} {carrier}", 0, len(sentence) + 1
        elif at >= len(carrier):
            text, offset, base = f"{carrier} {sentence}", len(carrier) + 1, 0
        else:
            text, offset, base = f"{carrier[:at]} {sentence}{carrier[at:]}", at + 1, 0
        pii = [(k, s + offset, e + offset) for k, s, e in item["pii"]]
        keep = [(k, s + offset, e + offset) for k, s, e in item["keep"]]

        def shift(s: int, e: int, at: int = at, base: int = base, moved: int = len(sentence) + 1) -> tuple[int, int]:
            # carrier offsets -> case offsets (the sentence went in at ``at``)
            return (s + base, e + base) if at == 0 or s < at else (s + moved, e + moved)

        for m in _HANDLE.finditer(carrier):
            if m.group(1).lower() not in BRAND_HANDLES:
                pii.append(("HANDLE", *shift(m.start(), m.end())))
        for kind, needle in carrier_gold.get(key, ()):
            pii.extend((kind, *shift(s, e)) for s, e in _occurrences(carrier, needle))
        if drug:
            keep.extend(("DRUG_REAL", *shift(s, e)) for s, e in _occurrences_ci(carrier, drug.split()[0]))
        keep.append(("REAL", 0, len(text)))
        cases.append(Case(text, tuple(sorted(pii, key=lambda p: p[1])), tuple(keep)))
    return cases


def _occurrences_ci(text: str, needle: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", text, re.IGNORECASE)]
