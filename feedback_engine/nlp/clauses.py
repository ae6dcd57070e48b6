"""Opinion clauses: one sentence that holds two opposite opinions is scored clause by clause.

"Love the design, hate the battery drain." is one sentence; read whole, the model scores it +0.85
(the first opinion wins). :func:`clause_cuts` splits a spaCy sentence into clauses from its tokens
and POS tags alone (the fast pipeline has no parser):

- a **contrast** connective starts a clause: "but", "however", "yet" (after a comma, not "not
  yet"), "whereas", "although", "though", "while" (a subordinating "while", not "a while"),
  "except that"; a sentence that *opens* with "Although/Though/While/Whereas ..." is cut after the
  first comma instead ("Although support was friendly, | the refund took six weeks.");
- a **juxtaposition** starts a clause: a semicolon or a spaced dash; a comma followed by an
  opinion verb ("..., hate the battery drain"), by an adjective + noun after an adjective + noun
  ("Great screen, terrible battery"), or by a new finite clause after one ("Delivery was quick,
  the packaging was damaged.");
- a cut that would leave a clause of fewer than two words is dropped ("Fast, cheap and reliable."
  and "It's good though." stay whole);
- a clause is read without its connective (:func:`connective_length`): "the battery dies by
  noon", "support was friendly" (the model reads "Although support was friendly" as neutral).

Each clause gets its own sentiment and the aspect terms inside it (``clauses`` table), and every
aspect term of a sentence and of an item takes the polarity of its own clause
(:func:`aspect_sentiments`; ``sentences.aspect_sentiment``, ``analysis.aspect_sentiment``): in
the sentence above "design" reads positive and "battery drain" negative.

The sentence's own sentiment stays the model's reading of the whole sentence. Replacing it by
the clauses' (the mean of their probabilities when juxtaposed clauses disagree) was measured on
the held-out rows (``bench/clause_eval.py``): it changed 6 to 7 labels in 800 and lowered
macro-F1 by 0.004 (movie snippets) and 0.009 (Rotten Tomatoes), as raters label a mixed sentence by
its verdict ("The scenes are fascinating; the movie as a whole is cheap junk." is negative), not
as neutral; a mixed sentence is read opinion by opinion through its clauses instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from feedback_engine.nlp.sentiment.labels import SentimentResult

__all__ = ["CONTRAST", "JUXTAPOSITION", "ClauseCut", "aspect_sentiments", "clause_cuts", "connective_length"]

CONTRAST = "contrast"
JUXTAPOSITION = "juxtaposition"

_CONTRAST_WORDS = {"but", "however", "yet", "whereas", "although", "though", "while", "except"}
_OPENERS = {"although", "though", "while", "whereas"}
_OPINION_VERBS = {
    "love", "hate", "like", "dislike", "adore", "loathe", "despise", "enjoy", "appreciate", "miss", "regret",
    "recommend", "avoid", "prefer",
}  # fmt: skip
_FINITE = {"VBZ", "VBP", "VBD", "MD"}
_SUBJECT_POS = {"DET", "PRON", "NOUN", "PROPN"}
_DASHES = {"-", "--", "—", "–"}
_MIN_WORDS = 2


@dataclass(frozen=True)
class ClauseCut:
    """One clause of a sentence: token range ``[start, end)`` in the sentence and how it joins the
    clause before it (``None`` for the first, :data:`CONTRAST` or :data:`JUXTAPOSITION`)."""

    start: int
    end: int
    joined_by: str | None


def clause_cuts(tokens: Sequence[Any]) -> list[ClauseCut]:
    """The clauses of one sentence (a spaCy ``Span`` or a list of its tokens); one clause when it has no cut."""
    toks = list(tokens)
    n = len(toks)
    cuts: dict[int, str] = {}
    for i, tok in enumerate(toks):
        low = tok.lower_
        if tok.text == ";" or (tok.text in _DASHES and tok.whitespace_ and i > 0 and toks[i - 1].whitespace_):
            if i + 1 < n:
                cuts[i + 1] = JUXTAPOSITION
        elif low in _CONTRAST_WORDS and _contrast_here(toks, i):
            if i == 0:
                if low in _OPENERS:
                    comma = next((j for j in range(1, n) if toks[j].text == ","), None)
                    if comma is not None and comma + 1 < n:
                        cuts[comma + 1] = CONTRAST
            else:
                cuts.setdefault(i, CONTRAST)
        elif tok.text == "," and 0 < i < n - 1 and i + 1 not in cuts and _juxtaposed(toks, _last_cut(cuts, i), i):
            cuts[i + 1] = JUXTAPOSITION
    return _merge_small(toks, cuts)


def connective_length(tokens: Sequence[Any]) -> int:
    """How many leading tokens of a clause are its connective ("but", "although", "except that",
    "but however"): the clause's own opinion is read without them ("Although support was friendly"
    reads neutral, "support was friendly" positive)."""
    n = 0
    toks = list(tokens)
    while n < len(toks) and toks[n].lower_ in _CONTRAST_WORDS:
        n += 1
        if toks[n - 1].lower_ == "except" and n < len(toks) and toks[n].lower_ in {"that", "for", "when"}:
            n += 1
        while n < len(toks) and toks[n].text == ",":
            n += 1
    return n if n < len(toks) else 0


def _last_cut(cuts: dict[int, str], before: int) -> int:
    return max((c for c in cuts if c <= before), default=0)


def _contrast_here(toks: list[Any], i: int) -> bool:
    tok = toks[i]
    low = tok.lower_
    prev = toks[i - 1] if i > 0 else None
    if low == "yet":
        return prev is not None and (prev.text in {",", ";"} or tok.pos_ == "CCONJ") and prev.lower_ != "not"
    if low == "while":
        return tok.pos_ == "SCONJ"
    if low == "though":
        return tok.pos_ == "SCONJ" or i == 0
    if low == "except":
        return i + 1 < len(toks) and toks[i + 1].lower_ in {"that", "for", "when"}
    if low == "however":
        return prev is None or prev.is_punct
    return True


def _juxtaposed(toks: list[Any], left_start: int, comma: int) -> bool:
    """Whether the comma at ``comma`` sets a new opinion clause beside the one before it."""
    right = []
    for tok in toks[comma + 1 :]:
        if tok.text in {",", ";"}:
            break
        right.append(tok)
    left = toks[left_start:comma]
    if not right or not left:
        return False
    first = right[0]
    if first.pos_ == "VERB" and _verb_base(first.lower_) in _OPINION_VERBS:
        return True
    if _adj_noun(left) and _adj_noun(right):
        return True
    left_finite = any(t.tag_ in _FINITE for t in left)
    right_finite = any(t.tag_ in _FINITE for t in right[1:4])
    return left_finite and right_finite and first.pos_ in _SUBJECT_POS


def _verb_base(word: str) -> str:
    """ "hates" / "loved" / "liking" -> a form of :data:`_OPINION_VERBS` when one fits (no lemmatizer here)."""
    for form in (word, word[:-1], word[:-2], word[:-3], word[:-3] + "e"):
        if form in _OPINION_VERBS:
            return form
    return word


def _adj_noun(toks: list[Any]) -> bool:
    """ "great screen", "really terrible battery life": (adverbs) adjectives then nouns, nothing else."""
    words = [t for t in toks if not t.is_punct]
    i = 0
    while i < len(words) and words[i].pos_ == "ADV":
        i += 1
    j = i
    while j < len(words) and words[j].pos_ == "ADJ":
        j += 1
    k = j
    while k < len(words) and words[k].pos_ in ("NOUN", "PROPN"):
        k += 1
    return j > i and k > j and k == len(words)


def _words(toks: list[Any]) -> int:
    return sum(1 for t in toks if not t.is_punct and not t.is_space)


def _merge_small(toks: list[Any], cuts: dict[int, str]) -> list[ClauseCut]:
    """Clauses from the cut points, dropping cuts that leave a clause under :data:`_MIN_WORDS` words."""
    points = sorted(c for c in cuts if 0 < c < len(toks))
    kept: list[int] = []
    for point in points:
        start = kept[-1] if kept else 0
        nxt = next((p for p in points if p > point), len(toks))
        if _words(toks[start:point]) >= _MIN_WORDS and _words(toks[point:nxt]) >= _MIN_WORDS:
            kept.append(point)
    if kept and _words(toks[kept[-1] :]) < _MIN_WORDS:
        kept.pop()
    bounds = [0, *kept, len(toks)]
    return [ClauseCut(bounds[k], bounds[k + 1], cuts[bounds[k]] if k else None) for k in range(len(bounds) - 1)]


def aspect_sentiments(units: Sequence[tuple[Sequence[str], SentimentResult]]) -> dict[str, dict[str, Any]]:
    """Each aspect term's sentiment from the units (clauses, or sentences of one clause) that name it.

    ``units``: ``(aspects, result)`` pairs. A term named in one unit takes that unit's label and
    score; named in several, the mean score and the majority label (a tie goes to the strongest).
    Returns ``{term: {"label": ..., "score": ...}}`` in order of first mention.
    """
    found: dict[str, list[tuple[str, float]]] = {}
    for aspects, result in units:
        for term in aspects:
            found.setdefault(term, []).append((result.label, float(result.score)))
    out: dict[str, dict[str, Any]] = {}
    for term, seen in found.items():
        counts = Counter(label for label, _ in seen)
        top = max(counts.values())
        tied = {label for label, c in counts.items() if c == top}
        label = max((s for s in seen if s[0] in tied), key=lambda s: abs(s[1]))[0]
        out[term] = {"label": label, "score": round(sum(score for _, score in seen) / len(seen), 4)}
    return out
