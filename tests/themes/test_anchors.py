"""Anchor words of discovered themes, description words of seeds, and the stricter seed evidence."""

from __future__ import annotations

import json

import numpy as np

from feedback_engine.themes.anchors import anchored_scores, discover_anchors
from feedback_engine.themes.evidence import SEED_MIN, _confident
from feedback_engine.themes.seeds import TERM_FLOOR, TERM_SCORE, description_terms, seed_terms


def _corpus() -> tuple[list[str], np.ndarray]:
    texts = (
        [f"my bag never arrived on flight {i}" for i in range(12)]  # theme 0: bags
        + [f"flight {i} was late again" for i in range(45)]  # theme 1: delays ("flight" everywhere)
        + ["the bag fee on this flight"] * 3  # "bag" outside theme 0, but theme 0 still owns it
        + [f"crew on flight {i} was rude" for i in range(20)]  # theme 2
        + [f"thanks for flight {i}" for i in range(60)]  # theme 3
    )
    groups = np.array([0] * 12 + [1] * 48 + [2] * 20 + [3] * 60)
    return texts, groups


def test_a_theme_owns_the_words_most_of_its_mentions_sit_in():
    texts, groups = _corpus()
    terms = {
        0: [("bag", 1.0), ("flight", 0.5), ("arrived", 0.4)],
        1: [("late", 1.0), ("flight", 0.9)],
        2: [("crew", 1.0)],
    }
    anchors = discover_anchors(texts, groups, terms)
    assert anchors[0] == ["bag", "arriv"]  # 12 of the 15 items that say "bag" are in theme 0
    assert 1 not in anchors  # "flight" is in every item, "late" in a third: too common to anchor
    assert anchors[2] == ["crew"]


def test_a_word_the_theme_uses_only_in_phrases_is_anchored_by_the_phrases():
    texts = (
        [f"please add dark mode {i}" for i in range(10)]
        + [f"a dark theme would help {i}" for i in range(4)]  # theme 0: dark mode / dark theme
        + ["felt like a dark pattern", "bring back compact mode", "please make a lite mode"]  # elsewhere
        + [f"crew on flight {i} was rude" for i in range(15)]
        + [f"thanks {i}" for i in range(65)]
    )
    groups = np.array([0] * 14 + [1] * 18 + [2] * 65)
    terms = {0: [("dark", 1.0), ("dark mode", 0.9), ("mode", 0.8), ("dark theme", 0.7)], 1: [("crew", 1.0)]}
    anchors = discover_anchors(texts, groups, terms)
    assert anchors[0] == ["dark mode", "dark theme"]  # not "dark" nor "mode": others use them otherwise
    assert anchors[1] == ["crew"]  # "crew flight" in every item, but no top term: the word stays
    S = np.full((4, 2), 0.1, dtype=np.float32)
    S[:, 0] = 0.4
    texts = ["felt like a dark pattern", "bring back compact mode", "dark mode please", "the dark theme"]
    best, score, lifted = anchored_scores(S, texts, [set(anchors[0]), {"crew"}])
    assert list(lifted) == [False, False, True, True]  # the phrase lifts, the bare word does not
    # with no other use of the word elsewhere, the word itself stays the anchor (new text may use it)
    only = [f"please add dark mode {i}" for i in range(10)] + [f"crew on flight {i}" for i in range(60)]
    assert discover_anchors(only, np.array([0] * 10 + [1] * 60), terms)[0] == ["dark", "mode"]


def test_a_word_spread_over_themes_or_named_by_few_is_no_anchor():
    texts = ["refund please"] * 4 + ["refund now"] * 4 + ["other"] * 30
    groups = np.array([0] * 4 + [1] * 4 + [0] * 15 + [1] * 15)
    anchors = discover_anchors(texts, groups, {0: [("refund", 1.0)], 1: [("refund", 1.0)]})
    assert anchors == {}  # 4 items each (< MIN_ITEMS) and half of the mentions in each theme


def test_naming_an_anchor_lifts_a_loose_match_but_a_close_one_still_wins():
    # cosines of 4 units to 2 themes (0: delays, 1: bags with the anchor "bag")
    S = np.array([[0.5, 0.3], [0.5, 0.1], [0.7, 0.4], [0.5, 0.3]], dtype=np.float32)
    texts = ["delayed and no bag", "delayed and no bag", "delayed and no bag", "delayed, no luggage"]
    best, score, lifted = anchored_scores(S, texts, [set(), {"bag"}])
    assert best[0] == 1 and score[0] == TERM_SCORE and lifted[0]  # names it, loosely like it (0.3)
    assert best[1] == 0 and not lifted[1]  # names it, but unlike it in meaning (below TERM_FLOOR)
    assert S[1, 1] < TERM_FLOOR
    assert best[2] == 0 and np.isclose(score[2], 0.7)  # a close match to another theme wins
    assert best[3] == 0 and not lifted[3]  # does not name it
    best, score, lifted = anchored_scores(S, None, [set(), {"bag"}])
    assert list(best) == [0, 0, 0, 0] and not lifted.any()


def test_two_named_themes_go_to_the_closer_one():
    S = np.array([[0.3, 0.4]], dtype=np.float32)
    best, score, _ = anchored_scores(S, ["bag delayed"], [{"delay"}, {"bag"}])
    assert best[0] == 1 and score[0] == TERM_SCORE


def test_a_seed_match_counts_as_evidence_only_from_term_score():
    assert not _confident(0.55, "seed", 0.5) and _confident(SEED_MIN, "seed", 0.5)
    assert _confident(TERM_SCORE, "seed", 0.5) and _confident(0.55, "assigned", 0.5)
    assert _confident(0.0, "manual", 0.5)


def test_description_words_that_mean_the_name_become_seed_terms(embedder_fp32, tmp_path):
    words = description_terms("Lost luggage", "My bag or luggage was lost, damaged or delayed.", embedder_fp32)
    assert "bag" in words and "delay" not in words and "damag" not in words
    assert "luggage" not in words  # already a word of the name
    from feedback_engine.store import Store

    with Store(tmp_path / "f.db") as store, store.transaction() as conn:
        for i, text in enumerate(["my bag is gone", "late again", "late again", "late again", "late", "late"]):
            conn.execute(
                "INSERT INTO feedback (natural_key, channel, platform, text, created_at, ingested_at, raw, content_hash)"
                " VALUES (?, 'survey', 'generic', ?, '2025-01-01', '2025-01-01', '{}', ?)",
                (f"k{i}", text, f"h{i}"),
            )
    with Store(tmp_path / "f.db") as store:
        row = {"label": "Lost luggage", "anchors": json.dumps(words)}
        assert seed_terms(store, row) == {"bag", "lost", "luggage"}  # rare enough in this database


def test_sentences_about_the_product_itself_are_left_out_of_discovery():
    from feedback_engine.themes.anchors import learn_product_words, subject_sentences

    # 10 reviews: each says it takes "the medicine" (the corpus's own product word), then names a side effect
    effects = ["nausea", "headache", "weight", "acne", "sleep", "mood", "rash", "cramps", "appetite", "dizziness"]
    ids, aspects = [], []
    for f in range(10):
        ids += [f, f, f]
        aspects += [json.dumps(["medicine"]), json.dumps([effects[f]]), json.dumps([effects[(f + 1) % 10]])]
    keep = subject_sentences(np.array(ids), aspects)
    assert not keep[0::3].any()  # "medicine" is in every review: not a subject
    assert keep[1::3].all() and keep[2::3].all()
    assert not subject_sentences(np.array([1, 2]), [json.dumps(["app"]), json.dumps([])]).any()  # generic, none
    # a corpus where one subject is in every review keeps it (fewer than half the sentences would be left)
    assert subject_sentences(np.array([1, 2, 3]), [json.dumps(["battery"])] * 3).all()
    # what the fit saves for evidence: the product's words, and none where they would leave too little
    assert learn_product_words(np.array(ids), aspects) == {"medicine"}
    assert learn_product_words(np.array([1, 2, 3]), [json.dumps(["battery"])] * 3) == frozenset()
    assert learn_product_words(np.array([], dtype=np.int64), []) == frozenset()


def test_the_product_named_in_several_words_is_left_out_with_an_embedder(embedder_fp32):
    """No word alone is in 30% of the reviews, but "drug", "medicine" and "medication" together are:
    with the embedder they are the product's words; "period" (20%) and a side effect stay subjects."""
    from feedback_engine.themes.anchors import learn_product_words, subject_sentences

    names = ["drug"] * 15 + ["medicine"] * 12 + ["medication"] * 10 + [None] * 63
    ids, aspects = [], []
    for f, name in enumerate(names):
        if name:
            ids.append(f)
            aspects.append(json.dumps([name]))
        ids.append(f)
        aspects.append(json.dumps([["period", "nausea", "rash", "acne", "weight"][f % 5]]))  # 20% each
    ids_a = np.array(ids)
    product = np.array([json.loads(a)[0] in ("drug", "medicine", "medication") for a in aspects])
    alone = subject_sentences(ids_a, aspects)
    assert alone[product].all()  # each word under 30% of the reviews: kept without an embedder
    together = subject_sentences(ids_a, aspects, embedder_fp32)
    assert not together[product].any()
    assert together[~product].all()
    assert learn_product_words(ids_a, aspects, embedder_fp32) == {"drug", "medicine", "medic"}
    assert learn_product_words(ids_a, aspects) == frozenset()
