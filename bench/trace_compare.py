"""Frozen TorchScript traces against the eager models, side by side on one thread.

    python bench/trace_compare.py                  # 480 texts of bench/feedback_corpus.py, 5 rounds
    python bench/trace_compare.py --precision fp32 # bf16 is what analyze runs where the CPU has it

What :func:`feedback_engine.nlp.torch_utils.trace_frozen` buys, for both encoders (the committed
sentiment model and all-MiniLM-L6-v2) in one precision: each variant encodes the same texts in the
same length-sorted batches on ONE thread (how analyze runs them), rounds interleaved, and the
median rate is printed with the largest output change against eager. Then one text at a time
(``assign_text``: MiniLM, no mask), eager and traced alternating, p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback_corpus import generate  # noqa: E402


def batches(seqs: list[list[int]], size: int, pad_id: int) -> list[tuple[Any, Any]]:
    import torch

    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = []
    for start in range(0, len(order), size):
        rows = [seqs[i] for i in order[start : start + size]]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, seq in enumerate(rows):
            ids[r, : len(seq)] = torch.tensor(seq)
            mask[r, : len(seq)] = 1
        out.append((ids, mask))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=480)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400, help="one-text calls per variant")
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    args = parser.parse_args(argv)

    import torch

    from feedback_engine.nlp.embed import MiniLMEmbedder
    from feedback_engine.nlp.sentiment.model import DEFAULT_MODEL_DIR, encode_texts, load_classifier, model_input
    from feedback_engine.nlp.torch_utils import trace_frozen

    torch.set_num_threads(1)
    items = generate(args.texts, seed=11)
    texts = list(dict.fromkeys(p.strip() for it in items for p in [it.text, *it.text.split(". ")] if p.strip()))
    texts = texts[: args.texts]
    embedder = MiniLMEmbedder(quantize=args.precision if args.precision == "bf16" else False)
    tokenizer, classifier = load_classifier(str(DEFAULT_MODEL_DIR), "cpu")
    if args.precision == "bf16":
        classifier = classifier.to(torch.bfloat16)
    pad = tokenizer.pad_token_id or 0
    spec = {
        "sentiment": (classifier.eval(), "logits", encode_texts(tokenizer, [model_input(t) for t in texts], 256), 64),
        "embeddings": (embedder.model, "last_hidden_state", encode_texts(tokenizer, texts, 128), 128),
    }
    runs: dict[str, tuple[Any, list[Any]]] = {}
    for kind, (model, field, seqs, size) in spec.items():
        prepared = batches(seqs, size, pad)
        traced = trace_frozen(model, field, masked=True)
        if traced is False:
            print(f"{kind}: the tracer failed; nothing to compare")
            return 1
        runs[f"{kind} eager"] = (
            lambda ids, mask, m=model, f=field: getattr(m(input_ids=ids, attention_mask=mask), f),
            prepared,
        )
        runs[f"{kind} traced"] = (traced, prepared)
    rates: dict[str, list[float]] = {}
    outputs: dict[str, list[np.ndarray]] = {}
    with torch.inference_mode():
        for _ in range(args.rounds):
            for name, (run, prepared) in runs.items():
                started = time.perf_counter()
                outputs[name] = [run(ids, mask).float().numpy() for ids, mask in prepared]
                rates.setdefault(name, []).append(len(texts) / (time.perf_counter() - started))
    load = os.getloadavg()[0]
    print(f"{len(texts)} texts, {args.precision}, 1 thread, {args.rounds} rounds interleaved; load average {load:.1f}")
    for kind in spec:
        eager, traced = statistics.median(rates[f"{kind} eager"]), statistics.median(rates[f"{kind} traced"])
        change = max(
            float(np.abs(a - b).max()) for a, b in zip(outputs[f"{kind} eager"], outputs[f"{kind} traced"], strict=True)
        )
        print(
            f"  {kind:<10} eager {eager:6.0f} texts/s  traced {traced:6.0f} texts/s  ({traced / eager:.2f}x)"
            f"  largest output change {change:.2g}"
        )
    single = trace_frozen(embedder.model, "last_hidden_state", masked=False)
    probes = [t for t in texts if len(t.split()) <= 16][:50] or texts[:50]
    ms: dict[str, list[float]] = {"eager": [], "traced": []}
    with torch.inference_mode():
        for i in range(args.calls):
            ids = torch.tensor(
                embedder.tokenizer([probes[i % len(probes)]], truncation=True, max_length=128)["input_ids"]
            )
            order = ("eager", "traced") if i % 2 else ("traced", "eager")
            for name in order:
                started = time.perf_counter()
                _ = single(ids) if name == "traced" else embedder.model(input_ids=ids).last_hidden_state
                ms[name].append((time.perf_counter() - started) * 1000)
    warm = {k: np.array(v[20:]) for k, v in ms.items()}
    print(
        "  one text (MiniLM forward, no mask): "
        + ", ".join(f"{k} p50 {np.percentile(v, 50):.2f} ms p95 {np.percentile(v, 95):.2f} ms" for k, v in warm.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
