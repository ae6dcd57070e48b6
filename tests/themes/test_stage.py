"""Themes with the real MiniLM embedder and real BERTopic (seeded): coverage, stable ids, edits, seeds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from themes_corpus import generate
from themes_helpers import embed_corpus, insert_items

from feedback_engine.errors import ActionError
from feedback_engine.store import Store
from feedback_engine.themes.labels import STOP_WORDS
from feedback_engine.themes.queries import theme_items
from feedback_engine.themes.stage import ThemeStage

pytestmark = pytest.mark.models

N_FIRST = 300
N_MORE = 60


@pytest.fixture(scope="module")
def theme_embedder(embedder_fp32):
    """The session MiniLM embedder in fp32 (tests/conftest.py): the default precision depends on the
    CPU (bf16 / int8 where measured faster), and the thresholds here must not."""
    return embedder_fp32


@pytest.fixture(scope="module")
def corpus(theme_embedder):
    items = generate(N_FIRST + N_MORE, seed=5)
    item_vecs, sentence_vecs = embed_corpus(theme_embedder, items)
    return items, item_vecs, sentence_vecs


@pytest.fixture
def fitted(tmp_path: Path, corpus, theme_embedder):
    items, iv, sv = corpus
    store = Store(tmp_path / "themes.db")
    ids = insert_items(store, items[:N_FIRST], iv[:N_FIRST], sv[:N_FIRST])
    stage = ThemeStage(embedder=theme_embedder)
    report = stage.update(store)
    yield store, stage, report, dict(zip(ids, items[:N_FIRST], strict=True))
    store.close()


def item_themes(store: Store) -> dict[int, int]:
    return dict(store.conn.execute("SELECT feedback_id, theme_id FROM theme_assignments WHERE sentence_idx = -1"))


def majority_theme(store: Store, by_id: dict, truth: str) -> int:
    counts = Counter(t for f, t in item_themes(store).items() if f in by_id and by_id[f].theme == truth)
    return counts.most_common(1)[0][0]


def test_fit_covers_items_with_readable_labels(fitted):
    store, _stage, report, by_id = fitted
    assert report["mode"] == "fit"
    # evidence needs a discovered theme's sentence to name its subject (or be very close), so a few
    # templated items near a centroid without its words are no longer counted (0.82 here, was 0.85+)
    assert report["coverage"] >= 0.8
    assert report["items_assigned"] + report["outliers"] == N_FIRST
    themes = store.query("SELECT * FROM themes WHERE status = 'active'")
    assert 5 <= len(themes) <= 20
    for t in themes:
        assert "_" not in t["label"] and t["label"].strip()
        head = t["label"].split(":")[0].lower()
        assert not all(w in STOP_WORDS for w in head.split())
        terms = json.loads(t["terms"])
        assert terms and all(not all(w in STOP_WORDS for w in term.split()) for term, _ in terms)
        quotes = json.loads(t["quotes"])
        assert 1 <= len(quotes) <= 3
        assert set(quotes) <= theme_items(store.conn, [t["id"]])  # members (an item or one of its sentences)
    # the clusters follow the real themes: the crash complaints mostly share one theme
    crash = majority_theme(store, by_id, "crashes")
    crash_items = [f for f, it in by_id.items() if it.theme == "crashes"]
    assert sum(item_themes(store).get(f) == crash for f in crash_items) / len(crash_items) >= 0.7


def test_sentences_of_mixed_items_count_for_both_themes(fitted):
    store, _stage, _report, by_id = fitted
    rows = store.query("SELECT feedback_id, sentence_idx, theme_id FROM theme_assignments WHERE sentence_idx >= 0")
    assert rows
    per_item: dict[int, set[int]] = {}
    for r in rows:
        per_item.setdefault(r["feedback_id"], set()).add(r["theme_id"])
    mixed = [f for f, it in by_id.items() if len({s[1] for s in it.sentences}) == 2]
    with_two = [f for f in mixed if len(per_item.get(f, set())) == 2]
    assert len(with_two) >= 0.5 * len(mixed)


def test_assign_new_items_then_refit_keeps_ids(fitted, corpus):
    store, stage, _report, by_id = fitted
    items, iv, sv = corpus
    before = item_themes(store)
    old_ids = {r["id"] for r in store.query("SELECT id FROM themes WHERE status = 'active'")}
    insert_items(store, items[N_FIRST:], iv[N_FIRST:], sv[N_FIRST:], start=N_FIRST)
    report = stage.update(store)
    assert report["mode"] == "assign"
    assert report["items"] == N_MORE and report["items_assigned"] + report["outliers"] == N_MORE
    assert {f: t for f, t in item_themes(store).items() if f in before} == before  # old items untouched
    report = stage.update(store, refit=True)
    assert report["mode"] == "refit"
    assert report["coverage"] >= 0.85
    after = item_themes(store)
    kept = sum(after.get(f) == t for f, t in before.items()) / len(before)
    assert kept >= 0.8, report
    continued = set(report["continued"].values())
    assert len(continued & old_ids) >= 0.7 * len(old_ids)
    assert not set(report["new"]) & old_ids


def test_rename_and_merge_survive_refit(fitted):
    store, stage, _report, by_id = fitted
    crash = majority_theme(store, by_id, "crashes")
    login = majority_theme(store, by_id, "login")
    perf = majority_theme(store, by_id, "performance")
    assert len({crash, login, perf}) == 3
    stage.rename(store, crash, "App crashes")
    merged = stage.merge(store, [login, perf], into=perf)
    assert merged["id"] == perf and merged["merged"] == [login]
    assert not store.scalar("SELECT count(*) FROM theme_assignments WHERE theme_id = ?", (login,))
    stage.update(store, refit=True)
    row = store.query("SELECT * FROM themes WHERE id = ?", (crash,))[0]
    assert row["label"] == "App crashes" and row["label_pinned"] == 1 and row["status"] == "active"
    login_row = store.query("SELECT * FROM themes WHERE id = ?", (login,))[0]
    assert login_row["status"] == "merged" and login_row["merged_into"] == perf
    assert not store.scalar("SELECT count(*) FROM theme_assignments WHERE theme_id = ?", (login,))
    login_items = [f for f, it in by_id.items() if it.theme == "login"]
    themes_now = item_themes(store)
    assert sum(themes_now.get(f) == perf for f in login_items) / len(login_items) >= 0.6
    # a merge chain resolves: merging the survivor on moves everything to the last survivor
    stage.merge(store, [perf, crash], into=crash)
    assert store.query("SELECT merged_into FROM themes WHERE id = ?", (login,))[0]["merged_into"] == crash
    with pytest.raises(ActionError):
        stage.merge(store, [login, perf])  # both resolve to the same theme


def test_seeded_theme_attracts_matching_items(fitted, theme_embedder):
    store, stage, _report, by_id = fitted
    seeded = stage.seed(store, "Billing", "charges, refunds, invoices")
    assert seeded["origin"] == "seeded" and seeded["items_moved"] >= 10
    themes_now = item_themes(store)
    billing = [f for f, it in by_id.items() if it.theme == "billing"]
    members = [f for f, t in themes_now.items() if t == seeded["id"]]
    assert sum(by_id[f].theme == "billing" for f in members) / len(members) >= 0.7
    stage.update(store, refit=True)
    row = store.query("SELECT * FROM themes WHERE id = ?", (seeded["id"],))[0]
    assert row["status"] == "active" and row["label"] == "Billing"
    themes_now = item_themes(store)
    assert sum(themes_now.get(f) == seeded["id"] for f in billing) / len(billing) >= 0.6
    theme, prob = stage.assign_text("I was charged twice and I'm still waiting for my refund", store)
    assert theme == seeded["id"] and 0 < prob <= 1


def test_assign_text_picks_the_right_theme(fitted):
    store, stage, _report, by_id = fitted
    crash = majority_theme(store, by_id, "crashes")
    delivery = majority_theme(store, by_id, "delivery")
    assert stage.assign_text("The app keeps crashing whenever I open the settings page", store)[0] == crash
    assert stage.assign_text("My parcel is two weeks late and the courier lost it", store)[0] == delivery


def test_non_english_items_get_no_theme(tmp_path: Path, corpus, theme_embedder):
    items, iv, sv = corpus
    store = Store(tmp_path / "lang.db")
    insert_items(store, items[:100], iv[:100], sv[:100])
    other = insert_items(store, items[100:110], iv[100:110], sv[100:110], start=100, language="de")
    report = ThemeStage(embedder=theme_embedder).update(store)
    assert report["other_language"] == 10 and report["english_items"] == 100
    assert not set(other) & set(item_themes(store))
    store.close()


def test_engine_api_updates_seeds_and_assigns(tmp_path: Path, corpus, theme_embedder):
    from feedback_engine import Engine

    items, iv, sv = corpus
    with Engine(tmp_path / "engine.db", embedder=theme_embedder) as engine:
        insert_items(engine.store, items[:120], iv[:120], sv[:120])
        report = engine.themes.update()
        assert report["mode"] == "fit" and report["themes"] >= 3
        seeded = engine.themes.seed("Delivery", "late parcels, couriers, shipping")
        assert seeded["label"] == "Delivery" and isinstance(seeded["terms"], list)
        assert "centroid" not in seeded
        theme, prob = engine.themes.assign_text("The courier lost my parcel and it arrived a week late")
        assert theme == seeded["id"] and prob > 0.4
        listed = {t["id"]: t for t in engine.themes.list()}
        assert listed[seeded["id"]]["volume"] == seeded["size"] > 0


def test_too_few_items_give_no_themes_yet(tmp_path: Path, corpus, theme_embedder):
    items, iv, sv = corpus
    store = Store(tmp_path / "few.db")
    insert_items(store, items[:10], iv[:10], sv[:10])
    report = ThemeStage(embedder=theme_embedder).update(store)
    assert report["mode"] == "fit" and report["themes"] == 0
    assert report["outliers"] == 10 and report["coverage"] == 0.0
    store.close()


def test_large_collections_are_clustered_on_an_order_free_sample(tmp_path: Path, corpus, theme_embedder):
    """Above max_fit_items the clustering runs on a hash-chosen sample; the rest join the nearest
    theme. Same themes whatever the row order, every item in a theme, and a sampled fit agrees with
    a full fit on the same items."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    items, iv, _ = corpus
    docs = [it.text for it in items]
    truth = [it.theme for it in items]
    stage = ThemeStage(embedder=theme_embedder, max_fit_items=250)
    first = stage.discover(docs, iv)
    assert first.sampled == 250
    assert (first.labels >= 0).mean() >= 0.95
    order = np.random.default_rng(3).permutation(len(docs))
    shuffled = stage.discover([docs[i] for i in order], iv[order])
    back = np.empty_like(shuffled.labels)
    back[order] = shuffled.labels
    assert adjusted_rand_score(first.labels, back) == pytest.approx(1.0)
    full = ThemeStage(embedder=theme_embedder).discover(docs, iv)
    assert full.sampled == 0
    assert adjusted_rand_score(truth, first.labels) >= adjusted_rand_score(truth, full.labels) - 0.1

    store = Store(tmp_path / "sampled.db")
    insert_items(store, items, iv, corpus[2])
    report = ThemeStage(embedder=theme_embedder, max_fit_items=250).update(store)
    assert report["clustered_sample"] == 250
    assert report["coverage"] >= 0.85
    store.close()


def test_a_new_topic_surfaces_without_a_manual_refit(tmp_path: Path, corpus, theme_embedder):
    """Items of a subject no theme was fitted on fit no theme well: past the threshold, analyze's theme
    update refits by itself, keeps the old ids, and the newcomers get a theme of their own."""
    items, iv, sv = corpus
    truth = "billing"
    old = [i for i, it in enumerate(items) if all(t != truth for _, t, _ in it.sentences)][:240]
    new = [i for i, it in enumerate(items) if all(t == truth for _, t, _ in it.sentences)][:40]
    assert len(new) >= 30
    store = Store(tmp_path / "drift.db")
    insert_items(store, [items[i] for i in old], iv[old], [sv[i] for i in old])
    stage = ThemeStage(embedder=theme_embedder)
    first = stage.update(store)
    before = {t for (t,) in store.conn.execute("SELECT id FROM themes WHERE status = 'active'")}
    ids = insert_items(store, [items[i] for i in new], iv[new], [sv[i] for i in new], start=len(old))
    quiet = ThemeStage(embedder=theme_embedder, auto_refit=False).update(store)
    assert quiet["mode"] == "assign" and "analyze --refit" in quiet["hint"]
    report = stage.update(store)
    assert report["mode"] == "refit" and "fit no theme well" in report["auto_refit"], (first, report)
    after = {t for (t,) in store.conn.execute("SELECT id FROM themes WHERE status = 'active'")}
    assert before <= after | set(int(v) for v in report["retired"])  # old ids continue
    placed = Counter(t for f, t in item_themes(store).items() if f in set(ids))
    top, count = placed.most_common(1)[0]
    assert top not in before and count >= 0.8 * len(ids)  # a new theme holds the new topic
    store.close()
