"""Reviews raise several aspects: themes are discovered on their sentences (real MiniLM, seeded)."""

from __future__ import annotations

import random
from collections import Counter

from themes_corpus import Item
from themes_helpers import embed_corpus, insert_items

from feedback_engine.store import Store
from feedback_engine.themes.stage import ThemeStage

# aspect -> (subjects, what customers say about them): 20-25 different sentences per aspect
PARTS = {
    "battery": (
        ["The battery", "Battery life", "My phone's battery", "The battery on this model", "Its battery"],
        ["drains in two hours", "dies before lunch", "gets hot and empties fast", "is worse since the update",
         "lasts half a day at most"],
    ),
    "shipping": (
        ["Shipping", "Delivery", "The courier", "My parcel", "The shipment"],
        ["took three weeks", "arrived late and crushed", "was lost for ten days", "came a month after I paid",
         "never showed up at my door"],
    ),
    "login": (
        ["Login", "Signing in", "The login page", "Password reset", "Two-factor sign in"],
        ["fails every morning", "rejects my correct password", "sends codes that never arrive",
         "locks me out of my account", "loops back to the start"],
    ),
    "price": (
        ["The subscription price", "The monthly fee", "The premium plan", "The yearly price", "Pricing"],
        ["doubled this year", "is far too expensive", "went up again without notice", "costs more than rivals charge",
         "is too much for what it does"],
    ),
}  # fmt: skip
ASPECTS = {a: [f"{s} {p}." for s in subjects for p in preds] for a, (subjects, preds) in PARTS.items()}


def reviews(n: int, seed: int = 3) -> list[Item]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        picked = rng.sample(sorted(ASPECTS), 3)
        sentences = [(rng.choice(ASPECTS[a]), a, "negative") for a in picked]
        text = " ".join(s for s, _, _ in sentences)
        out.append(Item(text=text, theme=picked[0], sentences=sentences, sentiment="negative",
                        created_at=f"2025-01-{1 + i % 28:02d}T10:00:00Z"))  # fmt: skip
    return out


def _purity(tmp_path, embedder, items, item_vecs, sentence_vecs, split: bool) -> tuple[float, float]:
    """(share of sentences in a theme whose majority aspect is theirs, worst theme's purity)."""
    with Store(tmp_path / f"f{split}.db") as store:
        ids = insert_items(store, items, item_vecs, sentence_vecs)
        ThemeStage(embedder=embedder, discover_sentences=split).update(store)
        rows = store.conn.execute("SELECT feedback_id, sentence_idx, theme_id FROM theme_assignments").fetchall()
    aspect_of = {(fid, idx): s[1] for fid, it in zip(ids, items, strict=True) for idx, s in enumerate(it.sentences)}
    by_theme: dict[int, Counter[str]] = {}
    for fid, idx, tid in rows:
        if idx >= 0:
            by_theme.setdefault(tid, Counter())[aspect_of[(fid, idx)]] += 1
    placed = sum(sum(c.values()) for c in by_theme.values())
    in_own = sum(c.most_common(1)[0][1] for c in by_theme.values())
    worst = min(c.most_common(1)[0][1] / sum(c.values()) for c in by_theme.values())
    return in_own / placed, worst


def test_themes_found_on_sentences_each_mean_one_aspect(tmp_path, embedder_fp32):
    items = reviews(80)  # every review names three of the four aspects
    item_vecs, sentence_vecs = embed_corpus(embedder_fp32, items)
    share, worst = _purity(tmp_path, embedder_fp32, items, item_vecs, sentence_vecs, split=True)
    assert share >= 0.95 and worst >= 0.8, (share, worst)
    whole_share, whole_worst = _purity(tmp_path, embedder_fp32, items, item_vecs, sentence_vecs, split=False)
    assert whole_share < share and whole_worst < worst  # clustering whole reviews mixes their aspects
