"""Sentiment inference: a fine-tuned MiniLM classifier (default) and a VADER lexicon baseline.

Both classes share one contract (:class:`feedback_engine.contracts.SentimentModel`)::

    model = TransformerSentiment()            # nlp/models/sentiment-minilm/ (package data), int8 on CPU
    model.predict(["The app crashes every time I open it"])
    # [SentimentResult(label='negative', score=-0.97, probs={'negative': 0.98, ...})]

The model is chosen by, in order: the ``model_path_or_id`` argument, the environment variable
``FEEDBACK_ENGINE_SENTIMENT_MODEL`` (a folder or any Hugging Face sequence-classification model id),
then the model shipped in the package (``feedback_engine/nlp/models/sentiment-minilm/``). A foreign
model's labels are mapped onto negative / neutral / positive (``LABEL_0..2``, ``1 star..5 stars``,
names containing neg/neu/pos); a two-class model never predicts neutral.

Speed levers (the analyze stage needs hundreds of texts per second on 2 CPU cores): texts are
sorted by token length and batched so that padding is small, long texts keep their first and last
tokens (head + tail truncation to ``max_length``), and on CPU every ``nn.Linear`` runs in int8 at
load time (``quantize=True``), with per-token activation scales (same label as fp32 on ~99% of
held-out texts, macro-F1 within a few tenths of a point; see the model card). Pass
``precision="fp32" | "bf16" | "int8"`` to choose (bf16 pays off only on CPUs with AVX512-BF16/AMX).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedback_engine.errors import ModelError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
MODEL_ENV_VAR = "FEEDBACK_ENGINE_SENTIMENT_MODEL"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "sentiment-minilm"  # package data
CALIBRATION_FILE = "calibration.json"
_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "FEEDBACK_ENGINE_TORCH_THREADS")
_threads_configured = False


@dataclass(frozen=True)
class SentimentResult:
    """One text's sentiment: ``label``, ``score`` = P(positive) - P(negative), calibrated ``probs``."""

    label: str
    score: float
    probs: dict[str, float] = field(default_factory=dict)


def result_from_probs(probs: Sequence[float]) -> SentimentResult:
    """Build a result from three probabilities in :data:`LABELS` order."""
    total = float(sum(probs)) or 1.0
    p = [float(x) / total for x in probs]
    best = max(range(3), key=lambda i: p[i])
    score = min(1.0, max(-1.0, p[2] - p[0]))
    return SentimentResult(label=LABELS[best], score=score, probs=dict(zip(LABELS, p, strict=True)))


# --------------------------------------------------------------------------------------------
# Token-level helpers, shared with the training command so that both see the same inputs.
# --------------------------------------------------------------------------------------------


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
_EMOJI_RE = re.compile("[" + "".join(sorted(EMOJI_WORDS)) + "]")
_EMOJI_MODIFIERS = re.compile("[\ufe0f\u200d\u2640\u2642\U0001f3fb-\U0001f3ff]")


def emoji_to_words(text: str) -> str:
    """``"new update 🙄"`` -> ``"new update annoyed"`` (see :data:`EMOJI_WORDS`)."""
    if text.isascii():
        return text
    if not _EMOJI_RE.search(text):
        return text
    text = _EMOJI_MODIFIERS.sub("", text)
    return re.sub(r"  +", " ", _EMOJI_RE.sub(lambda m: f" {EMOJI_WORDS[m.group(0)]} ", text))


def clean_text(text: object) -> str:
    """Normalise one model input: ``None`` becomes empty, HTML line breaks become spaces, the
    emoji of :data:`EMOJI_WORDS` become words. Only what the model reads; stored texts keep theirs."""
    if text is None:
        return ""
    s = str(text)
    s = re.sub(r"<br\s*/?>", " ", s, flags=re.IGNORECASE)
    return emoji_to_words(s).strip()


# --------------------------------------------------------------------------------------------
# Label mapping for foreign models
# --------------------------------------------------------------------------------------------

_STAR = re.compile(r"^\s*([1-5])\s*stars?\s*$")


def _label_column(name: str, index: int, n_labels: int) -> int | None:
    """Which of our labels (0 neg, 1 neu, 2 pos) a model's label feeds; ``None`` if unknown."""
    low = name.strip().lower()
    generic = re.fullmatch(r"label[_ ]?(\d+)", low)
    if generic:
        index = int(generic.group(1))
        if n_labels == 2:
            return 0 if index == 0 else 2
        if n_labels == 3:
            return index
        return None
    star = _STAR.match(low)
    if star:
        stars = int(star.group(1))
        return 0 if stars <= 2 else (1 if stars == 3 else 2)
    for prefix, column in (("neg", 0), ("neu", 1), ("pos", 2)):
        if low.startswith(prefix):
            return column
    return None


def label_matrix(id2label: dict[int, str]) -> list[int]:
    """For each model output index, the column of :data:`LABELS` its probability adds to."""
    n = len(id2label)
    columns = [_label_column(str(id2label[i]), i, n) for i in range(n)]
    if any(c is None for c in columns):
        names = ", ".join(str(id2label[i]) for i in range(n))
        raise ModelError(
            f"Cannot map the model's labels ({names}) to negative/neutral/positive. "
            f"Make sure to use a sentiment model whose labels name negative/neutral/positive, "
            f"LABEL_0..LABEL_2 or 1..5 stars, or unset {MODEL_ENV_VAR}."
        )
    return [int(c) for c in columns]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Model loading
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


def configure_threads() -> None:
    """Use every CPU this process may run on, unless the user chose a thread count."""
    global _threads_configured
    if _threads_configured:
        return
    _threads_configured = True
    import torch

    chosen = os.environ.get("FEEDBACK_ENGINE_TORCH_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        torch.set_num_threads(int(chosen))
        return
    if any(os.environ.get(var) for var in _THREAD_ENV_VARS):
        return
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    torch.set_num_threads(max(1, cpus))


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
            f"feedback_engine.nlp.train_sentiment`), or that the Hugging Face id is right and reachable.",
            path=location,
        ) from exc
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    model.to(device)
    model.eval()
    return tokenizer, model


PRECISIONS = ("fp32", "bf16", "int8")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read from /proc/cpuinfo."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


INT8_ENV_VAR = "FEEDBACK_ENGINE_CPU_INT8"


@functools.lru_cache(maxsize=1)
def cpu_int8_is_fast() -> bool:
    """Whether int8 matrix products beat fp32 on this CPU (measured once per process, ~0.1 s).

    With VNNI/AMX, ``torch._int_mm`` is 2-3x faster than fp32; without them it falls back to a
    slow path (measured on a 2-core AMD EPYC: 87 ms vs 3 ms for 64x384 @ 384x1536, 29x slower), and
    "int8 by default on CPU" would make analyze ~10x slower. ``FEEDBACK_ENGINE_CPU_INT8=1`` or ``0``
    skips the measurement.
    """
    forced = os.environ.get(INT8_ENV_VAR, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    import time

    import torch

    gen = torch.Generator().manual_seed(0)
    a = torch.randint(-127, 127, (64, 384), dtype=torch.int8, generator=gen)
    b = torch.randint(-127, 127, (384, 1536), dtype=torch.int8, generator=gen)  # MiniLM's FFN shape
    af, bf = a.float(), b.float()

    def best(run: Any) -> float:
        run()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    try:
        int8 = best(lambda: torch._int_mm(a, b))
    except RuntimeError:  # no int8 kernel on this build
        return False
    return int8 < 0.8 * best(lambda: af @ bf)  # a clear win only: noise must not pick the slow path


def choose_precision(precision: str | None, quantize: bool, device: str) -> str:
    """The precision to run in: the explicit choice, else int8 on CPU with ``quantize`` where int8 is
    fast (:func:`cpu_int8_is_fast`), else fp32."""
    if precision is not None:
        if precision not in PRECISIONS:
            raise ModelError(f"Unknown precision {precision!r}. Make sure to use one of {', '.join(PRECISIONS)}.")
        if precision == "int8" and device != "cpu":
            raise ModelError("int8 dynamic quantisation runs on the CPU only. Make sure to pass device='cpu'.")
        return precision
    return "int8" if quantize and device == "cpu" and cpu_int8_is_fast() else "fp32"


def reduce_precision(model: Any, precision: str) -> Any:
    """The model in ``precision`` (fp32 models are returned unchanged)."""
    import torch

    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        return quantize_int8(model)
    return model


def quantize_int8(model: Any) -> Any:
    """int8 ``nn.Linear`` layers with per-token activation and per-channel weight scales.

    Uses :func:`feedback_engine.nlp.embed.quantize_linears`: torch's ``quantize_dynamic`` gives a
    whole batch of activations one 7-bit scale, and MiniLM's outlier channels then cost this model
    1-3 macro-F1 points; per-token scales keep it within a few tenths of fp32.
    """
    from feedback_engine.nlp.embed import quantize_linears

    return quantize_linears(model)


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
    ) -> None:
        if batch_size < 1 or max_length < 8:
            raise ModelError("batch_size must be >= 1 and max_length >= 8.")
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
        folder = Path(self.location).expanduser()
        self.temperature = float(temperature) if temperature else (read_temperature(folder) if folder.is_dir() else 1.0)

    def __repr__(self) -> str:
        return f"TransformerSentiment({self.location!r}, {self.precision}, T={self.temperature:.3f})"

    def logits(self, texts: Sequence[str]) -> Any:
        """Raw model logits, shape ``(len(texts), n_model_labels)``, in input order (float32 tensor)."""
        import torch

        encoded = encode_texts(self.tokenizer, [clean_text(t) for t in texts], self.max_length)
        out = torch.empty((len(encoded), len(self.columns)), dtype=torch.float32)
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for batch in length_batches([len(e) for e in encoded], self.batch_size):
                ids, mask = pad_batch([encoded[i] for i in batch], pad_id)
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
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
