"""A seed finds the words customers use for its name's words, and only those (real MiniLM)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedback_engine.themes import persist as ts
from feedback_engine.themes.seeds import name_stems, synonym_terms

DRUGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sentiment" / "drug_reviews_train.tsv"
FILLER = [
    "The nurse at the front desk was kind to me.",
    "My pharmacy changed the packaging of the box.",
    "I read the leaflet twice before the first dose.",
    "The doctor wants to see me again in spring.",
    "My sister takes the same medicine for years.",
    "The refill arrived two days after I ordered it.",
]


def real_reviews(n: int = 400) -> list[str]:
    if not DRUGS.exists():
        pytest.skip(f"{DRUGS} is not here (../shared/data)")
    df = pd.read_csv(DRUGS, sep="\t")
    texts = [html.unescape(str(t)).strip().strip('"').strip() for t in df["review"]]
    return pd.Series(list(dict.fromkeys(texts))).sample(n, random_state=7).tolist()


def units(embedder, texts: list[str]) -> ts.Units:
    E = np.asarray(embedder.encode(texts), dtype=np.float32)
    n = len(texts)
    return ts.Units(
        feedback_ids=np.arange(1, n + 1), sentence_idx=np.full(n, -1, dtype=np.int64), texts=texts, embeddings=E
    )


def seed_vector(embedder, text: str) -> np.ndarray:
    return ts.unit(np.asarray(embedder.encode([text]), dtype=np.float32)[0])


def test_a_seed_takes_its_words_synonyms_and_not_a_near_word_used_about_something_else(embedder_fp32) -> None:
    corpus = units(embedder_fp32, real_reviews())  # 400 real patient reviews
    sleep = synonym_terms("Sleep problems", corpus, seed_vector(embedder_fp32, "Sleep problems"), embedder_fp32)
    assert "insomnia" in sleep
    assert not {"heavy", "pound", "weight", "period"} & set(sleep)
    weight = synonym_terms("Weight gain", corpus, seed_vector(embedder_fp32, "Weight gain"), embedder_fp32)
    assert "pound" in weight
    # "heavy" is nearer "weight" as a word (0.79) than "insomnia" is to "sleep" (0.69), but these
    # customers wrote it about bleeding
    assert "heavy" not in weight


def test_a_name_word_in_most_feedback_brings_no_synonyms(embedder_fp32) -> None:
    texts = [f"The flight {w} was fine." for w in ("crew", "meal", "seat", "gate", "pilot")] * 3
    texts += ["The plane was old.", "A small plane again.", "The plane smelled."] + FILLER
    corpus = units(embedder_fp32, texts)
    found = synonym_terms("Flight delays", corpus, seed_vector(embedder_fp32, "Flight delays"), embedder_fp32)
    assert "plane" not in found  # "flight" is in over a fifth of the feedback: it says nothing about the seed


def test_problem_words_are_not_what_a_seed_is_about() -> None:
    assert name_stems("Sleep problems") == ["sleep"]
    assert name_stems("Login issues") == ["login"]
