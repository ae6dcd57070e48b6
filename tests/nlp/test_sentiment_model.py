"""The committed sentiment model (feedback_engine/nlp/models/sentiment-minilm/) and the sentiment contract.

Model-tier tests load the real model once per module; the label-mapping and error tests need no model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from feedback_engine.errors import ModelError
from feedback_engine.nlp.sentiment import (
    DEFAULT_MODEL_DIR,
    LABELS,
    MODEL_ENV_VAR,
    SentimentResult,
    TransformerSentiment,
    VaderSentiment,
    clean_text,
    emoji_to_words,
    head_tail,
    label_matrix,
)
from feedback_engine.nlp.sentiment.train import (
    TrainConfig,
    data_digest,
    evaluate_frames,
    fixed_slice,
    load_splits,
)

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = DEFAULT_MODEL_DIR  # feedback_engine/nlp/models/sentiment-minilm/, shipped as package data
DATA_DIR = REPO.parent / "shared" / "data" / "sentiment"
MARGIN = 0.03

OBVIOUS = [
    ("The app crashes every time I open it", "negative"),
    ("Support fixed my issue in minutes, thank you!", "positive"),
    ("Worst customer service I have ever dealt with.", "negative"),
    ("Great quality and fast delivery, highly recommend.", "positive"),
    ("I was charged twice and nobody answers my emails.", "negative"),
    ("The staff were friendly and really helpful.", "positive"),
]


@pytest.fixture(scope="module")
def model() -> TransformerSentiment:
    return TransformerSentiment(MODEL_DIR)


@pytest.fixture(scope="module")
def metrics() -> dict:
    return json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))


def _check_result(result: SentimentResult) -> None:
    assert result.label in LABELS
    assert -1.0 <= result.score <= 1.0
    assert set(result.probs) == set(LABELS)
    assert math.isclose(sum(result.probs.values()), 1.0, abs_tol=1e-5)
    assert math.isclose(result.score, result.probs["positive"] - result.probs["negative"], abs_tol=1e-6)
    assert result.label == max(result.probs, key=result.probs.__getitem__)


@pytest.mark.models
def test_artifact_is_small_and_complete() -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "calibration.json", "metrics.json"):
        assert (MODEL_DIR / name).is_file(), name
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    assert size <= 50 * 1024 * 1024


@pytest.mark.models
def test_held_out_slice_reaches_reported_macro_f1(model: TransformerSentiment, metrics: dict) -> None:
    if not DATA_DIR.is_dir():
        pytest.skip(f"labelled data not found at {DATA_DIR} (shared/data beside the clone)")
    config = TrainConfig(**metrics["config"])
    _, val = load_splits(DATA_DIR, config)
    assert data_digest(val) == metrics["data_digest"]["val"], "the held-out split differs from the one trained with"
    frames = fixed_slice(val, metrics["slice"]["per_corpus"], metrics["slice"]["seed"])
    got = evaluate_frames(model, frames)
    expected = metrics["slice"]["ours_int8"]
    for corpus in frames:
        assert got[corpus]["macro_f1"] >= expected[corpus]["macro_f1"] - MARGIN, (corpus, got[corpus], expected[corpus])
    assert got["mean"]["macro_f1"] >= expected["mean"]["macro_f1"] - MARGIN / 3


@pytest.mark.models
@pytest.mark.parametrize(("text", "label"), OBVIOUS)
def test_obvious_customer_feedback(model: TransformerSentiment, text: str, label: str) -> None:
    (result,) = model.predict([text])
    _check_result(result)
    assert result.label == label, result


@pytest.mark.models
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Update came out today 😡😡", "negative"),
        ("Update came out today 😡 😡 🤬", "negative"),
        ("Update came out today 😍😍😍", "positive"),
        ("Update came out today 👍🏽", "positive"),
        ("new update 🙄", "negative"),
        ("they changed the icon 😭", "negative"),
        ("Update came out today ❤️", "positive"),
    ],
)
def test_emoji_carry_the_sentiment_of_social_posts(model: TransformerSentiment, text: str, label: str) -> None:
    """Without the emoji the text is neutral: the emoji (unknown to the MiniLM vocabulary) decide."""
    assert model.predict(["Update came out today"])[0].label == "neutral"
    assert model.predict([text])[0].label == label


def test_emoji_become_words_only_in_the_model_input() -> None:
    assert clean_text("so slow 😡😡 🤦\u200d\u2642\ufe0f ok👍🏽 ❤️ 🔥") == "so slow angry frustrated ok good love 🔥"
    assert clean_text("plain  text<br />next") == "plain  text next"
    assert emoji_to_words("no emoji here, ünïcödé") == "no emoji here, ünïcödé"
    # A run says its word once ("angry angry" reads mild to the encoder); different words in a run all stay.
    assert clean_text("late again 😡😡 😠🤬!") == "late again angry !"
    assert clean_text("😍😍👍 and 😍") == "love good and love"


@pytest.mark.models
def test_scores_and_probabilities_are_well_formed(model: TransformerSentiment) -> None:
    texts = ["", "ok", "word " * 400, "I ordered the blue one.", *[t for t, _ in OBVIOUS]]
    results = model.predict(texts)
    assert len(results) == len(texts)
    for result in results:
        _check_result(result)
    assert model.predict([]) == []


@pytest.mark.models
def test_batch_order_is_preserved(model: TransformerSentiment) -> None:
    texts = [t for t, _ in OBVIOUS] + ["A much longer review: " + "the delivery was late again and again. " * 20]
    batched = model.predict(texts)
    reversed_batch = model.predict(texts[::-1])[::-1]
    one_by_one = [model.predict([t])[0] for t in texts]
    for a, b, c in zip(batched, reversed_batch, one_by_one, strict=True):
        assert a.label == b.label == c.label
        assert abs(a.score - c.score) < 0.05
        assert abs(a.score - b.score) < 1e-4


@pytest.mark.models
def test_fp32_and_int8_agree() -> None:
    fp32 = TransformerSentiment(MODEL_DIR, quantize=False)
    int8 = TransformerSentiment(MODEL_DIR, precision="int8")  # explicit: the CPU default may be fp32 here
    texts = [t for t, _ in OBVIOUS]
    assert [r.label for r in fp32.predict(texts)] == [r.label for r in int8.predict(texts)]
    assert fp32.temperature == int8.temperature != 1.0


@pytest.mark.models
def test_traced_logits_equal_the_eager_model(model: TransformerSentiment, monkeypatch: pytest.MonkeyPatch) -> None:
    """The frozen trace (nlp.torch_utils.trace_frozen) gives the eager model's logits, padded or not,
    and a pickled model (how Ray ships it) traces again."""
    import pickle

    texts = [t for t, _ in OBVIOUS] + ["A much longer review: " + "the delivery was late again and again. " * 20]
    traced = model.logits(texts)
    assert model._traces.made[True] is not False
    monkeypatch.setenv("FEEDBACK_ENGINE_TRACE", "0")
    eager = TransformerSentiment(MODEL_DIR, precision=model.precision)
    assert abs(traced - eager.logits(texts)).max() < 1e-3
    assert eager._traces.made[True] is False
    monkeypatch.delenv("FEEDBACK_ENGINE_TRACE")
    copy = pickle.loads(pickle.dumps(model))
    assert copy._traces.made == {}
    assert abs(copy.logits(texts) - traced).max() < 1e-3


def test_missing_model_folder_raises_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    with pytest.raises(ModelError) as info:
        TransformerSentiment(missing)
    assert str(missing) in str(info.value)
    assert "feedback-engine train-sentiment" in str(info.value)
    assert MODEL_ENV_VAR in str(info.value)


def test_environment_variable_selects_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV_VAR, str(tmp_path / "elsewhere"))
    with pytest.raises(ModelError, match="elsewhere"):
        TransformerSentiment()


def test_unloadable_model_folder_raises_model_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="Cannot load sentiment model"):
        TransformerSentiment(tmp_path)


@pytest.mark.parametrize(
    ("id2label", "columns"),
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, [0, 1, 2]),
        ({0: "POSITIVE", 1: "NEGATIVE"}, [2, 0]),
        ({0: "LABEL_0", 1: "LABEL_1"}, [0, 2]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, [0, 1, 2]),
        ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, [0, 0, 1, 2, 2]),
        ({0: "neg", 1: "neu", 2: "pos"}, [0, 1, 2]),
    ],
)
def test_foreign_labels_map_to_ours(id2label: dict[int, str], columns: list[int]) -> None:
    assert label_matrix(id2label) == columns


def test_unknown_foreign_labels_raise_model_error() -> None:
    with pytest.raises(ModelError, match="Cannot map"):
        label_matrix({0: "joy", 1: "anger"})


def test_head_tail_keeps_both_ends() -> None:
    ids = list(range(100))
    kept = head_tail(ids, 30)
    assert len(kept) == 30
    assert kept[:10] == list(range(10))
    assert kept[-20:] == list(range(80, 100))
    assert head_tail(ids[:5], 30) == ids[:5]


def test_vader_baseline_follows_the_contract() -> None:
    results = VaderSentiment().predict(["I love it!", "This is terrible.", "The box is blue."])
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    for result in results:
        assert -1.0 <= result.score <= 1.0
        assert math.isclose(sum(result.probs.values()), 1.0, abs_tol=1e-9)


def test_cpu_default_precision_is_bf16_then_int8_only_where_fast(monkeypatch) -> None:
    from feedback_engine.nlp import torch_utils as sentiment

    for bf16, int8, expected in (("1", "1", "bf16"), ("1", "0", "bf16"), ("0", "1", "int8"), ("0", "0", "fp32")):
        monkeypatch.setenv(sentiment.BF16_ENV_VAR, bf16)
        monkeypatch.setenv(sentiment.INT8_ENV_VAR, int8)
        sentiment.cpu_int8_is_fast.cache_clear()
        sentiment.cpu_bf16_is_fast.cache_clear()
        assert sentiment.choose_precision(None, True, "cpu") == expected
        assert sentiment.choose_precision("int8", True, "cpu") == "int8"  # an explicit choice always wins
        assert sentiment.choose_precision(None, False, "cpu") == "fp32"
        assert sentiment.choose_precision(None, True, "cuda") == "fp32"
    monkeypatch.delenv(sentiment.INT8_ENV_VAR)
    monkeypatch.delenv(sentiment.BF16_ENV_VAR)
    sentiment.cpu_int8_is_fast.cache_clear()
    sentiment.cpu_bf16_is_fast.cache_clear()
    assert isinstance(sentiment.cpu_int8_is_fast(), bool)  # measured on this CPU
    assert isinstance(sentiment.cpu_bf16_is_fast(), bool)
    sentiment.cpu_int8_is_fast.cache_clear()
    sentiment.cpu_bf16_is_fast.cache_clear()
