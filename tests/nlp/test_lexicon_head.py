"""The lexicon head (model probabilities + VADER): fitting, the file, and a head applied by the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from feedback_engine.errors import ModelError
from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, TransformerSentiment
from feedback_engine.nlp.sentiment.lexicon import FEATURES, HEAD_FILE, LexiconHead, features, vader_scores


def test_vader_features_and_the_head_follow_the_lexicon_when_trained_to() -> None:
    texts = ["I hate this, awful", "I love it, wonderful", "The box is blue", "terrible, horrible", "great, so happy"]
    vader = vader_scores(texts)
    assert vader.shape == (5, 4)
    assert vader[0, 3] < -0.5 < 0.5 < vader[1, 3] and vader[2, 3] == 0.0
    rng = np.random.default_rng(0)
    model_probs = rng.dirichlet([1, 1, 1], size=300)  # an uninformative model ...
    compound = rng.uniform(-1, 1, size=300)
    lexicon = np.column_stack([np.clip(-compound, 0, 1), 1 - abs(compound), np.clip(compound, 0, 1), compound])
    y = np.where(compound > 0.3, 2, np.where(compound < -0.3, 0, 1))  # ... and labels the lexicon explains
    head = LexiconHead.fit(features(model_probs, lexicon), y, c=10.0)
    probs = head.predict_proba(rng.dirichlet([1, 1, 1], size=5), texts)
    assert probs.shape == (5, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert list(probs.argmax(axis=1)) == [0, 2, 1, 0, 2]


def test_the_file_round_trips_and_a_broken_one_says_how_to_fix_it(tmp_path: Path) -> None:
    assert LexiconHead.load(tmp_path) is None
    head = LexiconHead(np.arange(21).reshape(3, 7) / 10, np.array([0.1, 0.0, -0.1]), {"c": 1.0})
    path = head.save(tmp_path)
    again = LexiconHead.load(tmp_path)
    assert again is not None and np.allclose(again.coef, head.coef) and np.allclose(again.intercept, head.intercept)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES) and data["c"] == 1.0
    path.write_text(json.dumps({**data, "features": ["x"] * 7}), encoding="utf-8")
    with pytest.raises(ModelError, match="lexicon_head.py --write"):
        LexiconHead.load(tmp_path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="not a valid lexicon head"):
        LexiconHead.load(tmp_path)
    with pytest.raises(ModelError, match="3 x 7"):
        LexiconHead(np.zeros((3, 6)), np.zeros(3))


@pytest.mark.models
def test_a_head_in_the_model_folder_is_applied(tmp_path: Path) -> None:
    """A folder with lexicon_head.json gets the head (a copy of the shipped model here, no head shipped)."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / HEAD_FILE).unlink(missing_ok=True)
    assert TransformerSentiment(folder).head is None
    # a head that trusts VADER's compound only: "I hate ..." becomes negative whatever the model says
    coef = np.zeros((3, 7))
    coef[0, 6], coef[2, 6] = -20.0, 20.0
    LexiconHead(coef, np.zeros(3)).save(folder)
    with_head, alone = TransformerSentiment(folder), TransformerSentiment(folder, lexicon=False)
    assert with_head.head is not None and alone.head is None and "+lexicon" in repr(with_head)
    [result] = with_head.predict(["I hate the battery drain."])
    assert result.label == "negative" and result.score < -0.9
    assert abs(sum(result.probs.values()) - 1.0) < 1e-6
