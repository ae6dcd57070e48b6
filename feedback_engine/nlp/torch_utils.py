"""Torch helpers shared by the sentiment model and the embedder: threads, precision, int8 layers.

One module so that neither model imports the other (``nlp.embed`` and ``nlp.sentiment`` both
import from here). What each precision costs on which CPU is measured in ``bench/analyze_bench.py``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from feedback_engine.errors import ModelError

_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "FEEDBACK_ENGINE_TORCH_THREADS")
_threads_configured = False


def configure_threads() -> None:
    """Use every CPU this process may run on, unless the user chose a thread count."""
    global _threads_configured
    if _threads_configured:
        return
    _threads_configured = True
    chosen = os.environ.get("FEEDBACK_ENGINE_TORCH_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        torch.set_num_threads(int(chosen))
        return
    if any(os.environ.get(var) for var in _THREAD_ENV_VARS):
        return
    torch.set_num_threads(cpu_count())


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


WORKERS_ENV_VAR = "FEEDBACK_ENGINE_MODEL_WORKERS"


def model_workers() -> tuple[int, int]:
    """``(workers, torch threads each)`` for running model calls side by side in one process.

    Several single-threaded model calls at once beat one call over all cores on a busy machine: a
    multi-threaded matrix product splits its work evenly between its threads and waits for the
    slowest, so when another process holds one of 2 cores, the call stalls (MiniLM, 300 sentences,
    measured on the shared 2-core box: 17-63 texts/s with 2 threads against 280-450 with one). Workers
    that each run a whole batch on one thread keep every core that is free busy and lose nothing
    when the machine is idle. One worker per CPU up to 4, the rest of the CPUs as torch threads
    within each; ``FEEDBACK_ENGINE_MODEL_WORKERS=N`` chooses (1: one call at a time, all threads).
    """
    cpus = cpu_count()
    chosen = os.environ.get(WORKERS_ENV_VAR, "").strip()
    workers = int(chosen) if chosen.isdigit() and int(chosen) > 0 else min(cpus, 4)
    threads = os.environ.get("FEEDBACK_ENGINE_TORCH_THREADS", "").strip()
    each = int(threads) if threads.isdigit() and int(threads) > 0 else max(1, cpus // workers)
    return workers, each


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (a process-wide setting), then restore."""
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if before != n:
            torch.set_num_threads(before)


PRECISIONS = ("fp32", "bf16", "int8")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read from /proc/cpuinfo."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


BF16_ENV_VAR = "FEEDBACK_ENGINE_CPU_BF16"


@functools.lru_cache(maxsize=1)
def cpu_bf16_is_fast() -> bool:
    """Whether bfloat16 matrix products beat fp32 on this CPU: the flag (:func:`cpu_has_native_bf16`)
    and a measurement (~0.1 s, once per process).

    The flag alone is not enough: on a 2-core AMD EPYC that reports ``avx512_bf16``, the MiniLM
    embedder ran 1.2-1.3x *slower* in bf16 than in fp32 (one text 11.2 vs 9.2 ms, 64 texts 147 vs
    111 ms). ``FEEDBACK_ENGINE_CPU_BF16=1`` or ``0`` skips the measurement.
    """
    forced = os.environ.get(BF16_ENV_VAR, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if not cpu_has_native_bf16():
        return False
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 384, generator=gen), torch.randn(384, 1536, generator=gen)  # MiniLM's FFN shape
    ab, bb = a.to(torch.bfloat16), b.to(torch.bfloat16)
    return _best(lambda: ab @ bb) < 0.8 * _best(lambda: a @ b)


def _best(run: Any) -> float:
    run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


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
    """The precision to run in: the explicit choice, else on CPU with ``quantize`` bf16 where it is
    fast (:func:`cpu_bf16_is_fast`), int8 where int8 is (:func:`cpu_int8_is_fast`), else fp32.

    bf16 first: on the shared 2-core AMD EPYC (AVX512-BF16 and VNNI) the sentiment model ran 1.2-1.6x
    faster in bf16 than in per-token int8 on one thread and gave fp32's label on 483 of 483
    generated texts (int8: 98.1%).
    """
    if precision is not None:
        if precision not in PRECISIONS:
            raise ModelError(f"Unknown precision {precision!r}. Make sure to use one of {', '.join(PRECISIONS)}.")
        if precision == "int8" and device != "cpu":
            raise ModelError("int8 dynamic quantisation runs on the CPU only. Make sure to pass device='cpu'.")
        return precision
    if not quantize or device != "cpu":
        return "fp32"
    if cpu_bf16_is_fast():
        return "bf16"
    return "int8" if cpu_int8_is_fast() else "fp32"


def reduce_precision(model: Any, precision: str) -> Any:
    """The model in ``precision`` (fp32 models are returned unchanged)."""
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        return quantize_int8(model)
    return model


def quantize_int8(model: Any) -> Any:
    """int8 ``nn.Linear`` layers with per-token activation and per-channel weight scales.

    Uses :func:`quantize_linears`: torch's ``quantize_dynamic`` gives a
    whole batch of activations one 7-bit scale, and MiniLM's outlier channels then cost this model
    1-3 macro-F1 points; per-token scales keep it within a few tenths of fp32.
    """
    return quantize_linears(model)


class Int8Linear(torch.nn.Module):
    """An ``nn.Linear`` in int8: per-row (token) activation scales, per-output-channel weight scales."""

    qweight: torch.Tensor
    wscale: torch.Tensor
    bias: torch.Tensor

    def __init__(self, linear: Any) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
        self.register_buffer("qweight", torch.round(weight / scale[:, None]).to(torch.int8).t().contiguous())
        self.register_buffer("wscale", scale)
        bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(weight.shape[0])
        self.register_buffer("bias", bias)
        self.out_features = int(weight.shape[0])

    def forward(self, x: Any) -> Any:
        shape = x.shape
        flat = x.reshape(-1, shape[-1]).float()
        # max |x| per row as max(max x, -min x): two plain reductions, ~25x cheaper on CPU than
        # linalg.vector_norm(ord=inf), which used to take half of the model's time
        scale = torch.maximum(flat.amax(dim=1, keepdim=True), flat.amin(dim=1, keepdim=True).neg_())
        scale.clamp_(min=1e-8).div_(127.0)
        qx = torch.div(flat, scale).round_().to(torch.int8)
        out = torch._int_mm(qx, self.qweight).to(torch.float32)
        out.mul_(scale).mul_(self.wscale).add_(self.bias)
        return out.view(*shape[:-1], self.out_features)


def quantize_linears(model: Any) -> Any:
    """Replace every ``nn.Linear`` of ``model`` (in place) by an :class:`Int8Linear`; returns ``model``."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, Int8Linear(child))
    return model


TRACE_ENV = "FEEDBACK_ENGINE_TRACE"  # 0: run the eager models, no TorchScript trace


class _Output(torch.nn.Module):
    """``(input_ids[, attention_mask]) -> one field of the output``: what the tracer records."""

    def __init__(self, model: Any, field: str) -> None:
        super().__init__()
        self.model = model
        self.field = field

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return getattr(self.model(input_ids=input_ids, attention_mask=attention_mask), self.field)


def trace_frozen(model: Any, field: str, masked: bool) -> Any:
    """``model`` (a BERT-style encoder) traced with TorchScript and frozen, returning ``field`` of
    its output, or ``False`` where the tracer fails. With ``masked``, traced on a padded example so
    that the attention mask is always applied (an encoder may skip a mask of ones); without, for
    one unpadded text and no mask at all.

    Why: over short texts a six-layer encoder spends much of its time dispatching about a hundred
    small operators per pass, and the frozen graph (weights folded in as constants) dispatches
    fewer. Measured on the 2-core box, one thread, bf16 (``bench/trace_compare.py``, two runs):
    MiniLM embeddings 1.17x and 1.02x eager, sentiment 1.13x and 1.10x, one text p50 4.4 vs 6.9 ms,
    identical outputs.
    """
    import warnings

    ids = torch.tensor([[101, 1045, 2001, 5338, 3807, 2023, 3204, 102], [101, 2023, 2003, 102, 0, 0, 0, 0]])
    example = (ids, (ids != 0).long()) if masked else (ids[:1],)
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the tracer reads every attribute: "loss_type=None ... unrecognized"
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about Python values recorded as constants
            traced = torch.jit.freeze(torch.jit.trace(_Output(model, field).eval(), example, check_trace=False))
            traced(*example)  # the first run of a frozen module optimises it
        return traced
    except Exception:  # noqa: BLE001 - any tracer failure falls back to the eager model
        return False
    finally:
        hf_logging.set_verbosity(verbosity)


def _on_cpu(model: Any) -> bool:
    try:
        return all(p.device.type == "cpu" for p in model.parameters())
    except (AttributeError, TypeError):
        return False


class Traces:
    """The frozen traces (:func:`trace_frozen`) of whatever model is passed, each made on first use,
    under a lock: with and without a mask. ``get(model, masked)`` is the traced module, or ``False``
    (run eager) where tracing failed, the model is not all on the CPU, ``enabled`` is off, or
    ``FEEDBACK_ENGINE_TRACE=0`` was set when it was first asked for. A different model object (one
    reloaded on a GPU, say) drops the traces of the last one: they never run stale weights."""

    def __init__(self, field: str, enabled: bool = True) -> None:
        import threading

        self.field = field
        self.enabled = enabled
        self.made: dict[bool, Any] = {}
        self._model: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a Ray actor gets the models by value) without the traces and the lock: the
        receiving process traces again on first use."""
        return {"field": self.field, "enabled": self.enabled}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["field"], state["enabled"])  # type: ignore[misc]

    def get(self, model: Any, masked: bool) -> Any:
        made = self.made  # read once: another thread may replace it
        if self._model is model and masked in made:
            return made[masked]  # the hot path: every batch of analyze, no lock
        with self._lock:
            if self._model is not model:
                self._model, self.made = model, {}
            if masked not in self.made:
                on = self.enabled and os.environ.get(TRACE_ENV, "").strip().lower() not in {"0", "false", "no", "off"}
                self.made[masked] = trace_frozen(model, self.field, masked) if on and _on_cpu(model) else False
            return self.made[masked]

    def run(self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``field`` of ``model``'s output for a batch (with a mask) or one unpadded text (without)."""
        traced = self.get(model, attention_mask is not None)
        if traced is False:
            return getattr(model(input_ids=input_ids, attention_mask=attention_mask), self.field)
        return traced(input_ids) if attention_mask is None else traced(input_ids, attention_mask)
