"""Opinion clauses: where sentences are cut (real spaCy), how clauses set a mixed sentence's sentiment
(real sentiment model), and the ``clauses`` rows the analyze stage writes (real SQLite)."""

from __future__ import annotations

import json

import pytest
from nlp_helpers import insert_feedback

from feedback_engine.nlp.clauses import CONTRAST, JUXTAPOSITION, aspect_sentiments
from feedback_engine.nlp.pipeline import Analyzer
from feedback_engine.nlp.sentiment import SentimentResult
from feedback_engine.nlp.text import TextPreparer

CUTS = [
    ("Love the design, hate the battery drain.", ["Love the design", "hate the battery drain."], JUXTAPOSITION),
    ("I loved the app, hated the ads.", ["I loved the app", "hated the ads."], JUXTAPOSITION),
    ("Great camera; terrible speakers.", ["Great camera", "terrible speakers."], JUXTAPOSITION),
    ("Great screen, terrible battery.", ["Great screen", "terrible battery."], JUXTAPOSITION),
    ("Delivery was quick, the packaging was damaged.", ["Delivery was quick", "the packaging was damaged."], JUXTAPOSITION),
    ("The update is fine - the new icons are ugly.", ["The update is fine", "the new icons are ugly."], JUXTAPOSITION),
    ("The screen is gorgeous but the battery dies by noon.", ["The screen is gorgeous", "the battery dies by noon."], CONTRAST),
    ("Although support was friendly, the refund took six weeks.", ["support was friendly", "the refund took six weeks."], CONTRAST),
    ("While the price is high, the quality is excellent.", ["the price is high", "the quality is excellent."], CONTRAST),
    ("The app is fine, however it crashes when I upload photos.", ["The app is fine", "it crashes when I upload photos."], CONTRAST),
    ("Everything works except that sync fails.", ["Everything works", "sync fails."], CONTRAST),
]  # fmt: skip

WHOLE = [
    "Fast, cheap and reliable.",
    "It's good though.",
    "Not yet fixed, sadly.",
    "I waited a while for the refund.",
    "Good but pricey.",
    "But the price is ridiculous and I hate paying this much.",
]


@pytest.mark.parametrize(("text", "clauses", "joined_by"), CUTS)
def test_a_sentence_is_cut_into_its_opinion_clauses(spacy_nlp, text: str, clauses: list[str], joined_by: str) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare([text])
    [sentence] = prepared.sentences
    assert [c.text for c in sentence.clauses] == clauses
    assert [c.joined_by for c in sentence.clauses] == [None, joined_by]
    for clause in sentence.clauses:
        assert text[clause.start_char : clause.end_char] == clause.text


@pytest.mark.parametrize("text", WHOLE)
def test_lists_short_tails_and_other_words_do_not_cut(spacy_nlp, text: str) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare([text])
    assert [s.clauses for s in prepared.sentences] == [[]]


def test_aspects_belong_to_their_own_clause(spacy_nlp) -> None:
    [prepared] = TextPreparer(spacy_nlp).prepare(["Love the design, hate the battery drain."])
    [sentence] = prepared.sentences
    assert [c.aspects for c in sentence.clauses] == [["design"], ["battery drain"]]
    assert sentence.aspects == ["design", "battery drain"]


def _result(label: str, score: float) -> SentimentResult:
    return SentimentResult(label, score, {})


def test_an_aspect_takes_the_polarity_of_its_clause() -> None:
    units = [
        (["design"], _result("positive", 0.9)),
        (["battery drain", "battery"], _result("negative", -0.6)),
        (["battery"], _result("negative", -0.2)),
        (["battery"], _result("positive", 0.7)),
    ]
    got = aspect_sentiments(units)
    assert list(got) == ["design", "battery drain", "battery"]
    assert got["design"] == {"label": "positive", "score": 0.9}
    assert got["battery drain"] == {"label": "negative", "score": -0.6}
    assert got["battery"] == {"label": "negative", "score": pytest.approx(-0.0333, abs=1e-4)}  # 2 of 3 negative
    assert aspect_sentiments([]) == {}


def test_mixed_sentence_gets_clause_rows_and_aspect_polarity(store, spacy_nlp, embedder, sentiment_model) -> None:
    text = "Love the design, hate the battery drain."
    plain = "The app crashes every time I open it."
    ids = insert_feedback(store, [text, plain])
    Analyzer(store, sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp).run()
    rows = store.query("SELECT * FROM clauses WHERE feedback_id = ? ORDER BY idx", (ids[0],))
    assert [(r["sentence_idx"], r["idx"], r["redacted_text"]) for r in rows] == [
        (0, 0, "Love the design"),
        (0, 1, "hate the battery drain."),
    ]
    assert [r["sentiment"] for r in rows] == ["positive", "negative"]
    assert [json.loads(r["aspects"]) for r in rows] == [["design"], ["battery drain"]]
    assert [r["joined_by"] for r in rows] == [None, JUXTAPOSITION]
    [sentence] = store.query("SELECT * FROM sentences WHERE feedback_id = ?", (ids[0],))
    item = store.query("SELECT * FROM analysis WHERE feedback_id = ?", (ids[0],))[0]
    for row in (sentence, item):
        polarity = json.loads(row["aspect_sentiment"])
        assert {term: v["label"] for term, v in polarity.items()} == {"design": "positive", "battery drain": "negative"}
        assert polarity["design"]["score"] > 0.5 > polarity["battery drain"]["score"]
    # the sentence itself keeps the model's reading of the whole sentence (see nlp/clauses.py)
    assert sentence["sentiment"] == sentiment_model.predict([text])[0].label
    assert store.scalar("SELECT count(*) FROM clauses WHERE feedback_id = ?", (ids[1],)) == 0
    [crash] = store.query("SELECT aspect_sentiment FROM sentences WHERE feedback_id = ?", (ids[1],))
    assert {v["label"] for v in json.loads(crash["aspect_sentiment"]).values()} == {"negative"}
    # an edit replaces the clauses with the sentences
    with store.transaction() as conn:
        conn.execute("UPDATE feedback SET text = ?, content_hash = 'edited' WHERE id = ?", (plain, ids[0]))
    Analyzer(store, sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp).run()
    assert store.scalar("SELECT count(*) FROM clauses WHERE feedback_id = ?", (ids[0],)) == 0


def test_a_review_of_several_mixed_sentences_keeps_each_aspect_apart(
    store, spacy_nlp, embedder, sentiment_model
) -> None:
    text = (
        "The screen is gorgeous but the battery dies by noon. "
        "Although support was friendly, the refund was a nightmare. Shipping was fast."
    )
    [fid] = insert_feedback(store, [text])
    Analyzer(store, sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp).run()
    item = store.query("SELECT aspect_sentiment FROM analysis WHERE feedback_id = ?", (fid,))[0]
    labels = {term: v["label"] for term, v in json.loads(item["aspect_sentiment"]).items()}
    assert labels["screen"] == "positive" and labels["battery"] == "negative"
    assert labels["support"] == "positive" and labels["refund"] == "negative"
    assert labels["shipping"] == "positive"
    counts = store.query("SELECT sentence_idx, count(*) AS n FROM clauses WHERE feedback_id = ? GROUP BY 1", (fid,))
    assert [(r["sentence_idx"], r["n"]) for r in counts] == [(0, 2), (1, 2)]
