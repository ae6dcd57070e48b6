"""Sentiment inference: a fine-tuned MiniLM classifier (default) and a VADER lexicon baseline.

Both classes share one contract (:class:`feedback_engine.contracts.SentimentModel`)::

    model = TransformerSentiment()            # nlp/models/sentiment-minilm/ (package data), bf16/int8 on CPU
    model.predict(["The app crashes every time I open it"])
    # [SentimentResult(label='negative', score=-0.97, probs={'negative': 0.98, ...})]

The model is chosen by, in order: the ``model_path_or_id`` argument, the environment variable
``FEEDBACK_ENGINE_SENTIMENT_MODEL`` (a folder or any Hugging Face sequence-classification model id),
then the model shipped in the package (``feedback_engine/nlp/models/sentiment-minilm/``). A foreign
model's labels are mapped onto negative / neutral / positive (``LABEL_0..2``, ``1 star..5 stars``,
names containing neg/neu/pos); a two-class model never predicts neutral.

Speed levers (the analyze stage needs hundreds of texts per second on 2 CPU cores): texts are
sorted by token length and batched so that padding is small, long texts keep their first and last
tokens (head + tail truncation to ``max_length``), and on CPU the weights are reduced at load time
(``quantize=True``): to bfloat16 where the CPU computes it fast (AVX512-BF16/AMX, measured once per
process: :func:`~feedback_engine.nlp.torch_utils.cpu_bf16_is_fast`; fp32's label on all but a few
texts in a thousand), else every ``nn.Linear`` runs in int8 where int8 is fast, with per-token
activation scales (same label as fp32 on ~98-99% of texts, macro-F1 within a few tenths of a point;
see the model card), else fp32. Pass ``precision="fp32" | "bf16" | "int8"`` to choose.

When the model folder holds ``lexicon_head.json`` (:mod:`.lexicon`), the calibrated probabilities
go through that small head together with VADER's scores of the same text (``lexicon=False``: the
model alone). The shipped folder holds none (it did not help on held-out data; see the card).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from feedback_engine.errors import ModelError
from feedback_engine.nlp.sentiment.labels import LABELS, MODEL_ENV_VAR, SentimentResult, label_matrix, result_from_probs

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "sentiment-minilm"  # package data
CALIBRATION_FILE = "calibration.json"
# analyze runs batches of one model on several threads (nlp.pipeline.BatchComputer); a Rust fast
# tokenizer changes its truncation settings on each call and refuses a second caller meanwhile
TOKENIZER_LOCK = threading.Lock()


def head_tail(ids: list[int], budget: int) -> list[int]:
    """Keep at most ``budget`` tokens: the first third and the last two thirds of the budget.

    Reviews often open with context and end with the verdict, so the tail gets more room.
    """
    if len(ids) <= budget:
        return ids
    head = budget // 3
    tail = budget - head
    return ids[:head] + ids[len(ids) - tail :]


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after one text (``[CLS]``/``[SEP]``, ``<s>``/``</s>``...)."""
    cached = getattr(tokenizer, "_fe_special_tokens", None)
    if cached is not None:
        return cached
    plain = tokenizer("hello", add_special_tokens=False)["input_ids"]
    full = tokenizer("hello", add_special_tokens=True)["input_ids"]
    start = next((i for i in range(len(full)) if full[i : i + len(plain)] == plain), 0)
    result = (list(full[:start]), list(full[start + len(plain) :]))
    with contextlib.suppress(AttributeError):  # tokenizers that refuse new attributes recompute
        tokenizer._fe_special_tokens = result
    return result


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids with special tokens, each at most ``max_length`` long (head + tail truncation)."""
    from transformers.utils import logging as hf_logging

    with TOKENIZER_LOCK:  # a fast tokenizer sets its truncation state per call: one caller at a time
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "sequence longer than the maximum": we truncate just below
        try:
            pieces = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        finally:
            hf_logging.set_verbosity(verbosity)
    prefix, suffix = special_tokens(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    return [prefix + head_tail(list(ids), budget) + suffix for ids in pieces]


def pad_batch(seqs: Sequence[list[int]], pad_id: int) -> tuple[Any, Any]:
    """Right-pad ``seqs`` into ``(input_ids, attention_mask)`` long tensors."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length (shortest first)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


# The MiniLM vocabulary has no emoji (each becomes [UNK]), yet in social posts they often carry the
# sentiment ("new update 🙄"). The unambiguous ones are read as the word they stand for; emoji whose
# meaning flips with context (🔥, 😂, 💀, 🙃) are left alone.
EMOJI_WORDS = {
    **dict.fromkeys("😍🥰❤💕💖💗💓💞😘", "love"),
    **dict.fromkeys("😊😀😃😄😁☺🙂😌", "happy"),
    **dict.fromkeys("👍👌", "good"),
    **dict.fromkeys("🙌👏🎉🥳🤩💯✨", "great"),
    "😎": "cool",
    "🙏": "thanks",
    **dict.fromkeys("😡🤬😠👿", "angry"),
    **dict.fromkeys("😤😩😫😖😣🤦", "frustrated"),
    "👎": "bad",
    **dict.fromkeys("🙄😒😑", "annoyed"),
    **dict.fromkeys("😞😔😟☹🙁", "disappointed"),
    **dict.fromkeys("😢😥", "sad"),
    "😭": "crying",
    "💔": "heartbroken",
    **dict.fromkeys("🤮🤢", "disgusting"),
    "💩": "terrible",
    "😕": "confused",
}
_EMOJI_CLASS = "[" + "".join(sorted(EMOJI_WORDS)) + "]"
_EMOJI_RE = re.compile(_EMOJI_CLASS)
# A run of emoji, spaces between them allowed: "😡😡" and "😡 🤬" are one run.
_EMOJI_RUN_RE = re.compile(f"{_EMOJI_CLASS}(?:\\s*{_EMOJI_CLASS})*")
_EMOJI_MODIFIERS = re.compile("[\ufe0f\u200d\u2640\u2642\U0001f3fb-\U0001f3ff]")


def _run_words(run: str) -> str:
    """The words of one emoji run, a word said again straight after itself dropped: a repeated emoji
    ("😡😡😡") is emphasis, and the encoder reads "angry angry angry" as mild or even neutral."""
    words: list[str] = []
    for emoji in _EMOJI_RE.findall(run):
        word = EMOJI_WORDS[emoji]
        if not words or words[-1] != word:
            words.append(word)
    return f" {' '.join(words)} "


def emoji_to_words(text: str) -> str:
    """``"new update 🙄"`` -> ``"new update annoyed"``; ``"😡😡 🤬"`` -> ``"angry"`` (see
    :data:`EMOJI_WORDS`)."""
    if text.isascii():
        return text
    if not _EMOJI_RE.search(text):
        return text
    text = _EMOJI_MODIFIERS.sub("", text)
    return re.sub(r"  +", " ", _EMOJI_RUN_RE.sub(lambda m: _run_words(m.group(0)), text))


def clean_text(text: object) -> str:
    """Normalise one model input: ``None`` becomes empty, HTML line breaks become spaces, the
    emoji of :data:`EMOJI_WORDS` become words. Only what the model reads; stored texts keep theirs."""
    if text is None:
        return ""
    s = str(text)
    s = re.sub(r"<br\s*/?>", " ", s, flags=re.IGNORECASE)
    return emoji_to_words(s).strip()


# Handles and links say nothing about sentiment, and which handle it is (@united, or the redacted
# "[HANDLE]") must not become a cue: the encoder reads one placeholder for each, in training too.
_HANDLE_RE = re.compile(r"(?<![\w.@])@\w{1,30}|\[HANDLE\]")
_URL_RE = re.compile(r"https?://\S+|\bwww\.\S+|\[URL\]", re.IGNORECASE)


def model_input(text: object) -> str:
    """What the encoder reads: :func:`clean_text`, then every @handle as ``@user`` and every link as
    ``http`` (``"@united thanks! http://t.co/x"`` -> ``"@user thanks! http"``)."""
    s = clean_text(text)
    if "@" in s or "[" in s:
        s = _HANDLE_RE.sub("@user", s)
    if "http" in s or "www." in s or "[URL]" in s:
        s = _URL_RE.sub("http", s)
    return s


# --------------------------------------------------------------------------------------------
# Label mapping for foreign models
# --------------------------------------------------------------------------------------------


def resolve_model_location(model_path_or_id: str | os.PathLike[str] | None) -> str:
    """The folder or hub id to load: argument, then the environment variable, then the default."""
    if model_path_or_id is not None and str(model_path_or_id).strip():
        return str(model_path_or_id)
    env = os.environ.get(MODEL_ENV_VAR, "").strip()
    return env or str(DEFAULT_MODEL_DIR)


def _looks_like_path(location: str) -> bool:
    """A folder rather than a hub id (``name`` or ``org/name``)."""
    path = Path(location).expanduser()
    return (
        path.is_absolute()
        or location.startswith((".", "~"))
        or location.count("/") > 1
        or "\\" in location
        or path.exists()
    )


def read_temperature(folder: Path) -> float:
    """Temperature from ``calibration.json`` in ``folder``; 1.0 when there is none."""
    path = folder / CALIBRATION_FILE
    if not path.is_file():
        return 1.0
    try:
        value = float(json.loads(path.read_text(encoding="utf-8"))["temperature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{path} is not valid calibration JSON ({exc}). Make sure to retrain the model or delete the file.",
            path=str(path),
        ) from exc
    if not math.isfinite(value) or value <= 0:
        raise ModelError(f"{path} holds temperature {value}; it must be a positive number.", path=str(path))
    return value


def _missing_model_error(location: str) -> ModelError:
    return ModelError(
        f"Sentiment model folder {location} does not exist. Make sure to run "
        f"`feedback-engine train-sentiment ../shared/data/sentiment --out {location}` "
        f"(or reinstall feedback_engine, which ships feedback_engine/nlp/models/sentiment-minilm/), "
        f"or set {MODEL_ENV_VAR} to a model folder or a Hugging Face model id.",
        path=location,
    )


def load_classifier(location: str, device: str) -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` in fp32 on ``device``; raise :class:`ModelError` with a fix."""
    if _looks_like_path(location):
        folder = Path(location).expanduser()
        if not (folder / "config.json").is_file():
            raise _missing_model_error(location)
        location = str(folder)
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - core dependencies
        raise ModelError(f"{exc.name} is not installed. Make sure to run: pip install feedback_engine") from exc
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokenizer = AutoTokenizer.from_pretrained(location)
            model = AutoModelForSequenceClassification.from_pretrained(location, dtype=torch.float32)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one actionable message
        raise ModelError(
            f"Cannot load sentiment model {location!r}: {type(exc).__name__}: {exc}. Make sure the folder holds "
            f"config.json, the weights and the tokenizer (retrain with `python -m "
            f"feedback_engine.nlp.sentiment.train`), or that the Hugging Face id is right and reachable.",
            path=location,
        ) from exc
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    model.to(device)
    model.eval()
    return tokenizer, model


# --------------------------------------------------------------------------------------------
# Public classes
# --------------------------------------------------------------------------------------------


class TransformerSentiment:
    """A Hugging Face sequence classifier mapped to negative / neutral / positive, calibrated.

    ``predict`` is deterministic, keeps the input order and returns one :class:`SentimentResult`
    per text. Only the temperature stored with the model (``calibration.json``) is applied; a
    foreign model without one is used as is (temperature 1).
    """

    def __init__(
        self,
        model_path_or_id: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        max_length: int = 256,
        quantize: bool = True,
        temperature: float | None = None,
        precision: str | None = None,
        lexicon: bool = True,
    ) -> None:
        if batch_size < 1 or max_length < 8:
            raise ModelError("batch_size must be >= 1 and max_length >= 8.")
        from feedback_engine.nlp.torch_utils import choose_precision, configure_threads, reduce_precision

        self.precision = choose_precision(precision, quantize, device)
        self.location = resolve_model_location(model_path_or_id)
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        if device == "cpu":
            configure_threads()
        self.tokenizer, model = load_classifier(self.location, device)
        self.columns = label_matrix({int(k): v for k, v in model.config.id2label.items()})
        self.max_length = min(max_length, int(getattr(model.config, "max_position_embeddings", max_length)))
        self.model = reduce_precision(model, self.precision)
        from feedback_engine.nlp.torch_utils import Traces

        # frozen TorchScript on the CPU (nlp.torch_utils.trace_frozen: ~8% faster in bf16, same logits)
        self._traces = Traces("logits", enabled=device == "cpu")
        folder = Path(self.location).expanduser()
        self.temperature = float(temperature) if temperature else (read_temperature(folder) if folder.is_dir() else 1.0)
        from feedback_engine.nlp.sentiment.lexicon import LexiconHead

        self.head = LexiconHead.load(folder) if lexicon and folder.is_dir() else None

    def __repr__(self) -> str:
        head = ", +lexicon" if self.head is not None else ""
        return f"TransformerSentiment({self.location!r}, {self.precision}, T={self.temperature:.3f}{head})"

    def logits(self, texts: Sequence[str]) -> Any:
        """Raw model logits, shape ``(len(texts), n_model_labels)``, in input order (float32 tensor)."""
        import torch

        encoded = encode_texts(self.tokenizer, [model_input(t) for t in texts], self.max_length)
        out = torch.empty((len(encoded), len(self.columns)), dtype=torch.float32)
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for batch in length_batches([len(e) for e in encoded], self.batch_size):
                ids, mask = pad_batch([encoded[i] for i in batch], pad_id)
                logits = self._traces.run(self.model, ids.to(self.device), mask.to(self.device))
                out[torch.tensor(batch)] = logits.float().cpu()
        return out

    def probabilities(self, logits: Any, temperature: float | None = None) -> Any:
        """Calibrated probabilities over :data:`LABELS`, shape ``(n, 3)``."""
        import torch

        t = self.temperature if temperature is None else temperature
        model_probs = torch.softmax(logits / t, dim=-1)
        probs = torch.zeros((logits.shape[0], 3), dtype=torch.float32)
        for source, column in enumerate(self.columns):
            probs[:, column] += model_probs[:, source]
        return probs

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """One result per text, in the input order."""
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            return []
        probs = self.probabilities(self.logits(texts))
        if self.head is not None:
            return [
                result_from_probs(row) for row in self.head.predict_proba(probs.numpy(), [clean_text(t) for t in texts])
            ]
        return [result_from_probs(row) for row in probs.tolist()]


class VaderSentiment:
    """The lexicon baseline (vaderSentiment): compound >= 0.05 positive, <= -0.05 negative.

    ``probs`` are not calibrated: the label gets ``|compound|`` of the mass on top of an even split,
    and ``score`` is the compound score itself.
    """

    def __init__(self, threshold: float = 0.05) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise ModelError("vaderSentiment is not installed. Make sure to run: pip install vaderSentiment") from exc
        self.analyzer = SentimentIntensityAnalyzer()
        self.threshold = threshold

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """One result per text, in the input order."""
        if isinstance(texts, str):
            texts = [texts]
        return [self._one(clean_text(t)) for t in texts]

    def _one(self, text: str) -> SentimentResult:
        compound = float(self.analyzer.polarity_scores(text)["compound"])
        if compound >= self.threshold:
            label = "positive"
        elif compound <= -self.threshold:
            label = "negative"
        else:
            label = "neutral"
        strength = abs(compound)
        probs = dict.fromkeys(LABELS, (1.0 - strength) / 3)
        probs[label] += strength
        return SentimentResult(label=label, score=compound, probs=probs)
