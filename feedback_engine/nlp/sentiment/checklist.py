"""A behavioural test suite for sentiment models, CheckList-style (Ribeiro et al., ACL 2020).

Cases are written with templates over small word lists of customer feedback (products, parts,
events), never taken from a corpus, and grouped by the *capability* they probe:

=============  =====  ===========================================================================
capability     type   what passes
=============  =====  ===========================================================================
negation       MFT    "I wouldn't say the app is good" / "The checkout is not fast" is not positive;
                      "The support is not bad at all" is not negative
sarcasm        MFT    "Great, another update that deletes my data 🙄" is negative
intensifiers   DIR    "The app is *really* slow" is at least as negative as "The app is slow"
                      (and likewise positive), label unchanged
contrast       MFT    "I used to hate the app, but now I love it" is positive; "The design is
                      lovely, but the app crashes constantly" is negative (the clause after
                      "but" decides)
domain         MFT    "I was charged twice for my order", "The app crashes when I upload a photo",
                      "Still waiting for my refund" are negative; "Got my refund in a day" positive
emoji          MFT    a neutral fact followed by 😡 / 🙄 / 👎 is negative, by 😍 / 👍 / 🙌 positive
typos          INV    a character swap in one word of a clear opinion keeps its label
handles_urls   INV    a leading @handle or a trailing link keeps the label
neutral        MFT    plain facts ("I ordered the blue case on Monday.") are neutral
=============  =====  ===========================================================================

MFT: minimum functionality (an expected label or a label to avoid); DIR: a directional
expectation between two texts; INV: the label must not change under a perturbation.
:func:`run_suite` returns the pass rate per capability; ``bench/checklist.py`` prints it and
writes it to the model folder (``checklist.json``), and ``tests/nlp/test_checklist.py`` asserts
those rates minus a margin so that a regression fails.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CAPABILITIES", "Case", "build_suite", "run_suite"]

CAPABILITIES = (
    "negation",
    "sarcasm",
    "intensifiers",
    "contrast",
    "domain",
    "emoji",
    "typos",
    "handles_urls",
    "neutral",
)

THINGS = [
    "app",
    "checkout",
    "support",
    "delivery",
    "update",
    "website",
    "battery",
    "camera",
    "dashboard",
    "refund process",
]
POS_ADJ = ["good", "great", "fast", "helpful", "reliable", "easy to use", "excellent", "amazing"]
NEG_ADJ = ["bad", "slow", "terrible", "useless", "awful", "confusing", "buggy", "broken"]
POS_VERB = ["love", "like", "enjoy", "recommend"]
NEG_VERB = ["hate", "dislike", "can't stand"]
BAD_EVENTS = [
    "deletes my data",
    "logs me out every hour",
    "breaks the login",
    "drains my battery",
    "loses my settings",
    "crashes on launch",
]
INTENSIFIERS = ["really", "very", "extremely", "incredibly", "so"]
FACTS = [
    "I ordered the blue case on Monday",
    "The update came out today",
    "My package arrived this morning",
    "They changed the icon",
    "I called support at noon",
    "The new version is out",
]
PRODUCTS = ["blue case", "charger", "laptop stand", "monthly plan", "headphones", "gift card"]
DAYS = ["Monday", "Tuesday", "Friday", "the 3rd", "last week"]
NEG_EMOJI = ["😡", "🙄", "👎", "😤", "😞"]
POS_EMOJI = ["😍", "👍", "🙌", "😊", "❤️"]
HANDLES = ["@brightdesk", "@AcmeSupport", "@united"]


@dataclass(frozen=True)
class Case:
    """One test: ``texts`` (one, or two for DIR/INV) and the check over their results."""

    capability: str
    kind: str  # "MFT", "DIR" or "INV"
    texts: tuple[str, ...]
    expect: str  # MFT: a label, or "not <label>"; DIR: "more negative" / "more positive"; INV: "same"


def _mft(capability: str, texts: Sequence[str], expect: str) -> list[Case]:
    return [Case(capability, "MFT", (t,), expect) for t in texts]


def _swap_typo(text: str, rng: random.Random) -> str:
    """Swap two inner letters of the longest word (a typing slip)."""
    words = text.split(" ")
    i = max(range(len(words)), key=lambda k: (len(words[k].strip(".,!?")), -k))
    w = words[i]
    if len(w) < 4:
        return text
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def build_suite(seed: int = 13, per_template: int = 12) -> list[Case]:
    """Every case of the suite (deterministic for a seed); ``per_template`` fills per template."""
    rng = random.Random(seed)

    def fill(template: str, **slots: Sequence[str]) -> list[str]:
        combos = list(itertools.product(*slots.values()))
        rng.shuffle(combos)
        keys = list(slots)
        return [template.format(**dict(zip(keys, combo, strict=True))) for combo in combos[:per_template]]

    cases: list[Case] = []
    # negation
    cases += _mft("negation", fill("I wouldn't say the {t} is {a}.", t=THINGS, a=POS_ADJ), "not positive")
    cases += _mft("negation", fill("The {t} is not {a}.", t=THINGS, a=POS_ADJ), "not positive")
    cases += _mft("negation", fill("I don't {v} the new {t}.", t=THINGS, v=POS_VERB), "not positive")
    cases += _mft(
        "negation", fill("The {t} is not {a} at all.", t=THINGS, a=["bad", "terrible", "awful"]), "not negative"
    )
    # sarcasm markers
    cases += _mft("sarcasm", fill("Great, another update that {e} 🙄", e=BAD_EVENTS), "negative")
    cases += _mft(
        "sarcasm", fill("Oh wonderful, the {t} {e} again.", t=["app", "update", "website"], e=BAD_EVENTS), "negative"
    )
    cases += _mft("sarcasm", fill("Thanks a lot for an update that {e}. Really.", e=BAD_EVENTS), "negative")
    # intensifiers (directional)
    for adjectives, direction in ((NEG_ADJ, "more negative"), (POS_ADJ, "more positive")):
        for t, a, i in rng.sample(list(itertools.product(THINGS, adjectives, INTENSIFIERS)), per_template):
            cases.append(Case("intensifiers", "DIR", (f"The {t} is {a}.", f"The {t} is {i} {a}."), direction))
    # contrast
    cases += _mft(
        "contrast",
        fill("I used to {n} the {t}, but now I {p} it.", t=THINGS, n=["hate", "dislike"], p=["love", "like"]),
        "positive",
    )
    cases += _mft("contrast", fill("The {t} looks nice, but it {e}.", t=THINGS, e=BAD_EVENTS), "negative")
    cases += _mft(
        "contrast",
        fill("The {t} was {a} at first, but now it is {b}.", t=THINGS, a=["slow", "buggy"], b=["fast", "great"]),
        "positive",
    )
    # domain words
    cases += _mft("domain", fill("I was charged twice for my {p}.", p=PRODUCTS), "negative")
    cases += _mft("domain", fill("The app crashes every time I open the {t}.", t=THINGS), "negative")
    cases += _mft(
        "domain",
        fill("Still waiting for my refund for the {p} after {n} weeks.", p=PRODUCTS, n=["two", "three", "six"]),
        "negative",
    )
    cases += _mft("domain", fill("Got my refund for the {p} within a day, thanks!", p=PRODUCTS), "positive")
    cases += _mft("domain", fill("My {p} order was cancelled without any notice.", p=PRODUCTS), "negative")
    # emoji
    cases += _mft("emoji", fill("{f} {e}", f=FACTS, e=NEG_EMOJI), "negative")
    cases += _mft("emoji", fill("{f} {e}", f=FACTS, e=POS_EMOJI), "positive")
    # typos (invariance on clear opinions)
    clear = fill("The {t} is {a}.", t=THINGS, a=["terrible", "excellent", "awful", "amazing", "useless", "helpful"])
    cases += [Case("typos", "INV", (t, _swap_typo(t, rng)), "same") for t in clear]
    # handles and links (invariance)
    opinions = fill("The {t} is {a}.", t=THINGS, a=[*POS_ADJ[:3], *NEG_ADJ[:3]])
    for k, text in enumerate(opinions):
        other = f"{HANDLES[k % len(HANDLES)]} {text}" if k % 2 == 0 else f"{text} https://example.com/help/{k}"
        cases.append(Case("handles_urls", "INV", (text, other), "same"))
    # neutral facts
    cases += _mft("neutral", fill("I ordered the {p} on {d}.", p=PRODUCTS, d=DAYS), "neutral")
    cases += _mft("neutral", fill("The {t} has a settings page.", t=THINGS), "neutral")
    cases += _mft("neutral", fill("I use the {t} on my phone and my laptop.", t=THINGS), "neutral")
    return cases


def _passes(case: Case, results: Sequence[Any]) -> bool:
    if case.kind == "MFT":
        label = results[0].label
        if case.expect.startswith("not "):
            return label != case.expect[4:]
        return label == case.expect
    if case.kind == "INV":
        return results[0].label == results[1].label
    a, b = results
    if a.label != b.label:
        return False
    if case.expect == "more negative":
        return b.score <= a.score + 0.02
    return b.score >= a.score - 0.02


def run_suite(predict: Callable[[list[str]], Sequence[Any]], cases: Sequence[Case] | None = None) -> dict[str, Any]:
    """Pass rate per capability for ``predict`` (a model's ``predict``), plus the failing texts."""
    cases = list(cases) if cases is not None else build_suite()
    texts = sorted({t for c in cases for t in c.texts})
    results = dict(zip(texts, predict(texts), strict=True))
    out: dict[str, Any] = {}
    for capability in CAPABILITIES:
        mine = [c for c in cases if c.capability == capability]
        if not mine:
            continue
        failed = [c for c in mine if not _passes(c, [results[t] for t in c.texts])]
        out[capability] = {
            "n": len(mine),
            "passed": len(mine) - len(failed),
            "rate": round((len(mine) - len(failed)) / len(mine), 3),
            "failing": [" => ".join(c.texts) for c in failed[:5]],
        }
    return out
