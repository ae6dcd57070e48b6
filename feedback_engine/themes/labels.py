"""Readable theme labels, top terms and representative quotes.

A label is built from a theme's top c-TF-IDF n-grams: the strongest term becomes the head and the
next two distinct terms follow it (``"Refund: charged twice, invoice"``). Stop words, redaction
placeholders (``[EMAIL]``, ``<PERSON>``), numbers and filler words never become terms, so labels
like ``the_and`` cannot happen. Quotes are the members closest to the theme centroid, skipping
near-duplicates and very short or very long texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# Words that carry no topic in customer feedback (on top of scikit-learn's English list).
FILLER_WORDS = frozenset(
    [
        "just",
        "na",
        "n/a",
        "really",
        "like",
        "got",
        "get",
        "gets",
        "getting",
        "im",
        "ive",
        "id",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wasnt",
        "cant",
        "wont",
        "thing",
        "things",
        "lot",
        "lots",
        "way",
        "make",
        "makes",
        "made",
        "use",
        "used",
        "using",
        "app",
        "apps",
        "product",
        "company",
        "honestly",
        "update",
        "ugh",
        "overall",
        "please",
        "thanks",
        "thank",
        "time",
        "times",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "good",
        "great",
        "bad",
        "love",
        "hate",
        "want",
        "need",
        "know",
        "think",
        "say",
        "said",
        "tell",
        "told",
        "does",
        "did",
        "going",
        "went",
        "new",
        "old",
        "ok",
        "okay",
        "yes",
        "yeah",
        "hi",
        "hello",
        "team",
        "guys",
        "pretty",
        "quite",
        "bit",
        "stuff",
    ]
)
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | FILLER_WORDS)
# Placeholders written by the redaction step: [EMAIL], <PERSON>, {PHONE} ...
PLACEHOLDER = re.compile(r"[\[<{][A-Z][A-Z_]*[\]>}]")
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_']+\b"


def clean_for_terms(text: str) -> str:
    """Text as the vectorizer sees it: placeholders removed."""
    return PLACEHOLDER.sub(" ", text or "")


def default_vectorizer(min_df: int = 1) -> CountVectorizer:
    """Uni- and bigrams without stop words, fillers, numbers or placeholders.

    BERTopic fits the vectorizer on one concatenated document per topic, so ``min_df`` counts
    topics: keep it at 1, or terms unique to one theme (the useful ones) would be dropped.
    """
    return CountVectorizer(
        stop_words=STOP_WORDS,
        ngram_range=(1, 2),
        min_df=min_df,
        token_pattern=TOKEN_PATTERN,
        preprocessor=lambda text: clean_for_terms(text).lower(),
    )


def usable_terms(terms: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Drop empty, stop-word-only and placeholder terms (BERTopic pads topics with ``("", 1e-05)``)."""
    out = []
    for term, weight in terms:
        words = term.split()
        if not words or all(w in STOP_WORDS for w in words) or weight <= 0:
            continue
        out.append((term, float(weight)))
    return out


def make_label(terms: Sequence[tuple[str, float]], fallback: str = "Unlabelled theme") -> str:
    """``"Head: second, third"`` from ranked terms, skipping terms that repeat words already used."""
    picked: list[str] = []
    seen_words: set[str] = set()
    for term, _weight in usable_terms(terms):
        words = set(term.split())
        stems = {w.rstrip("s") for w in words}
        if stems & seen_words:
            continue
        picked.append(term)
        seen_words |= stems
        if len(picked) == 3:
            break
    if not picked:
        return fallback
    head = picked[0][0].upper() + picked[0][1:]
    return head if len(picked) == 1 else f"{head}: {', '.join(picked[1:])}"


def merge_terms(term_lists: Sequence[Sequence[tuple[str, float]]], top_n: int = 10) -> list[tuple[str, float]]:
    """Combine several themes' terms (summing weights) into one ranked list."""
    totals: dict[str, float] = {}
    for terms in term_lists:
        for term, weight in terms:
            totals[term] = totals.get(term, 0.0) + float(weight)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]


def pick_quotes(
    ids: Sequence[int],
    texts: Sequence[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    n: int = 3,
    max_chars: int = 280,
    min_words: int = 4,
) -> list[int]:
    """Ids of up to ``n`` representative members: closest to the centroid, no near-duplicates."""
    if len(ids) == 0:
        return []
    sims = embeddings @ centroid
    order = np.argsort(-sims, kind="stable")
    chosen: list[int] = []
    for relax in (False, True):
        for i in order:
            if len(chosen) >= n:
                return [int(ids[j]) for j in chosen]
            if i in chosen:
                continue
            words = len((texts[i] or "").split())
            if not relax and (words < min_words or len(texts[i] or "") > max_chars):
                continue
            if any(float(embeddings[i] @ embeddings[j]) > 0.95 for j in chosen):
                continue
            chosen.append(int(i))
    return [int(ids[j]) for j in chosen]
