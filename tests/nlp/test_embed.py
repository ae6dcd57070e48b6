"""Embeddings: shape, unit length, order, and int8 agreement with fp32."""

from __future__ import annotations

import numpy as np

from feedback_engine.nlp.embed import from_blob, to_blob

SENTENCES = [
    "I was charged twice this month and nobody can explain why.",
    "The subscription renewed without any warning email.",
    "I have been waiting three weeks for my refund.",
    "The package arrived late and the box was crushed.",
    "Tracking said delivered but nothing was at my door.",
    "Support never replied to my ticket after ten days.",
    "The agent was rude and closed my ticket without fixing anything.",
    "The app crashes every time I open the camera.",
    "Since the last update it freezes on the login screen.",
    "I cannot log in, the verification code never arrives.",
    "Everything is painfully slow and the battery drains fast.",
    "The price went up again and I get nothing new for it.",
    "I love the dark mode, it is much easier on the eyes at night.",
    "Exporting reports to Excel saves me hours every week.",
    "The support team was incredibly helpful and fixed my issue in minutes.",
    "My order arrived two days early and was packed with care.",
    "Great value for the price compared to the alternatives.",
    "Please add an option to export to PDF.",
    "ok",
    "Password reset links expire before I can use them.",
]


def test_shape_dtype_and_unit_length(embedder) -> None:
    vectors = embedder.encode(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_order_is_kept_despite_length_batching(embedder, embedder_fp32) -> None:
    single = np.vstack([embedder_fp32.encode([s]) for s in SENTENCES])
    np.testing.assert_allclose(embedder_fp32.encode(SENTENCES), single, atol=1e-5)
    # int8: padding changes float noise by ~1e-7, which can flip a rounding step; vectors stay put
    single_q = np.vstack([embedder.encode([s]) for s in SENTENCES])
    batched = embedder.encode(SENTENCES)
    assert ((batched * single_q).sum(axis=1) > 0.99).all()
    assert ((batched @ single_q.T).argmax(axis=1) == np.arange(len(SENTENCES))).all()


def test_int8_agrees_with_fp32(embedder, embedder_fp32) -> None:
    q = embedder.encode(SENTENCES)
    f = embedder_fp32.encode(SENTENCES)
    cosines = (q * f).sum(axis=1)
    assert cosines.mean() >= 0.99
    assert cosines.min() >= 0.97
    sim_q, sim_f = q @ q.T, f @ f.T
    np.fill_diagonal(sim_q, -1)
    np.fill_diagonal(sim_f, -1)
    assert (sim_q.argmax(1) == sim_f.argmax(1)).mean() >= 0.9


def test_related_texts_are_closer(embedder) -> None:
    a, b, c = embedder.encode(["I want my money back", "Where is my refund?", "The dark mode looks great"])
    assert a @ b > a @ c


def test_blob_round_trip(embedder) -> None:
    vector = embedder.encode(["refund"])[0]
    blob = to_blob(vector)
    assert len(blob) == 384 * 4
    np.testing.assert_array_equal(from_blob(blob), vector)
    assert from_blob(None) is None


def test_encode_one_is_encode_of_one_text(embedder, embedder_fp32) -> None:
    """The frozen trace (made for an 8-token text) gives the eager vector at every length."""
    long_text = " ".join(["the refund for my cancelled order never arrived and support keeps closing my ticket"] * 12)
    texts = ["", "ok", *SENTENCES[:5], long_text]  # 2 tokens up to the 128-token cut
    for model in (embedder, embedder_fp32):
        for text in texts:
            one = model.encode_one(text)
            assert one.shape == (384,) and one.dtype == np.float32
            assert float(one @ model.encode([text])[0]) > 0.9999, (model.precision, text[:30])
    assert embedder._traces.made[False] is not False  # traced, not the eager fallback


def test_traced_batches_equal_the_eager_model(embedder, monkeypatch) -> None:
    """The masked trace gives the eager model's vectors, for padded batches and for batches of one
    length (no padding: a mask of ones must not be baked in either way)."""
    from feedback_engine.nlp.embed import MiniLMEmbedder

    embedder.encode(SENTENCES[:2])  # its traces are made on first use, before tracing is turned off
    monkeypatch.setenv("FEEDBACK_ENGINE_TRACE", "0")
    eager = MiniLMEmbedder(quantize=embedder.quantized, batch_size=embedder.batch_size)
    same_length = ["refund please now", "login fails again", "dark mode please", "app is slow"]
    for texts in (SENTENCES, same_length, SENTENCES[:1]):
        traced = embedder.encode(texts)
        reference = eager.encode(texts)
        assert eager._traces.made[True] is False and embedder._traces.made[True] is not False
        np.testing.assert_allclose((traced * reference).sum(axis=1), 1.0, atol=1e-4)


def test_tracing_failure_falls_back_to_the_eager_model(embedder_fp32, monkeypatch) -> None:
    import feedback_engine.nlp.embed as embed

    reference = embedder_fp32.encode(SENTENCES[:3])
    from feedback_engine.nlp.torch_utils import Traces

    monkeypatch.setattr(embedder_fp32, "_traces", Traces("last_hidden_state"))
    monkeypatch.setattr(embed.torch.jit, "trace", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no trace")))
    vec = embedder_fp32.encode_one(SENTENCES[0])
    again = embedder_fp32.encode(SENTENCES[:3])
    assert embedder_fp32._traces.made == {False: False, True: False}
    assert float(vec @ reference[0]) > 0.9999
    np.testing.assert_allclose(again, reference, atol=1e-5)


def test_a_traced_embedder_pickles_and_traces_again(embedder) -> None:
    """Ray ships the models to its actors by value: the traces stay behind and are made again."""
    import pickle

    embedder.encode_one(SENTENCES[0])
    copy = pickle.loads(pickle.dumps(embedder))
    assert copy._traces.made == {}
    np.testing.assert_allclose(copy.encode(SENTENCES[:3]), embedder.encode(SENTENCES[:3]), atol=1e-5)


def test_a_new_model_object_is_traced_anew(embedder_fp32, monkeypatch) -> None:
    """A model swapped in (as the GPU path reloads one) never runs through the old model's trace."""
    import copy

    import torch

    from feedback_engine.nlp.torch_utils import Traces

    traces = Traces("last_hidden_state")
    monkeypatch.setattr(embedder_fp32, "_traces", traces)
    before = embedder_fp32.encode(SENTENCES[:2])
    first = traces.made[True]
    other = copy.deepcopy(embedder_fp32.model)
    with torch.no_grad():
        other.embeddings.word_embeddings.weight.mul_(0.5)  # a different model: different vectors
    monkeypatch.setattr(embedder_fp32, "model", other)
    after = embedder_fp32.encode(SENTENCES[:2])
    assert traces.made[True] is not first
    assert float((before * after).sum(axis=1).min()) < 0.999
