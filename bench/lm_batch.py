"""The stage-2 LM at batch 1 vs batched: ms per document of the handler's whole per-document work, one core.

    python bench/lm_batch.py [--docs 64] [--batches 1 4 8 16] [--rounds 3] [--data FILE.jsonl[.gz]]

What is timed, per document: tokenising its first ``max_tokens`` tokens, the
CTranslate2 forward pass in the shipped compute type, float32 (``SmolLMScorer.logits`` at batch 1,
``SmolLMScorer.logits_batch`` on consecutive chunks of B documents otherwise, padded to the longest)
and :func:`token_arrays` of its logits; this is what
:func:`~provsieve.transforms.lm_handler.score_documents` does per document
besides the combiner (58 us). Every batch size runs on the same chunk of
documents one after the other, chunk by chunk: the speed-up is the median of
these paired ratios (with its interquartile range), which holds on a shared
machine; times are CPU seconds of this process (``time.process_time``: the
LM runs on one thread), which do not count waiting for a core. After the timings: the
largest |difference| of each per-position array from batch 1 (0 for documents
of one length; the handler's passes hold only those), and the tokens per document.

Default texts: the end-to-end benchmark corpus's documents (``bench/_work/e2e_*``,
what ``--ai-detector cascade`` routes there) if built, else the detectrl dev file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from provsieve.transforms.lm_features import TokenArrays, token_arrays  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def default_data() -> Path:
    corpora = sorted((ROOT / "bench" / "_work").glob("e2e_*/docs-00000.jsonl.gz"))
    return corpora[0] if corpora else ROOT.parent / "shared" / "data" / "ai-text" / "detectrl-dev.jsonl"


def read_texts(path: Path, n: int, step: int) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(n * step), f)]
    return texts[::step][:n]


def arrays_at(scorer, texts: list[str], batch: int) -> tuple[list[TokenArrays], float]:
    """Every text's per-position arrays, the LM run on chunks of ``batch`` consecutive documents; and the seconds
    spent in the forward passes."""
    out: list[TokenArrays] = []
    forward = 0.0
    for start in range(0, len(texts), batch):
        tokens = [scorer.tokens(t) for t in texts[start:start + batch]]
        t = time.process_time()
        logits = [scorer.logits(tokens[0])] if batch == 1 else scorer.logits_batch(tokens)
        forward += time.process_time() - t
        out += [token_arrays(x, np.asarray(t)) for x, t in zip(logits, tokens)]
    return out, forward


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=64)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--step", type=int, default=7, help="take every step-th document of the file")
    ap.add_argument("--tokens", type=int, default=None, help="default: the shipped combiner's max_tokens")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()

    from provsieve.transforms.ai_cascade import CascadeCombiner
    from provsieve.transforms.lm_handler import SmolLMScorer

    data = args.data or default_data()
    texts = [t for t in read_texts(data, args.docs * 2, args.step) if t.strip()][: args.docs]
    scorer = SmolLMScorer(max_tokens=args.tokens or CascadeCombiner.load().max_tokens, threads=1)
    lengths = [len(scorer.tokens(t)) for t in texts]
    arrays_at(scorer, texts[:4], 4)  # warm-up
    chunk = max(args.batches)
    times: dict[int, list[float]] = {b: [] for b in args.batches}  # seconds per document, one per (round, chunk)
    forward: dict[int, list[float]] = {b: [] for b in args.batches}
    results: dict[int, list[TokenArrays]] = {b: [] for b in args.batches}
    for r in range(args.rounds):
        for start in range(0, len(texts), chunk):  # every batch size on the same chunk, seconds apart
            part = texts[start:start + chunk]
            for b in args.batches:
                t = time.process_time()
                arrays, seconds = arrays_at(scorer, part, b)
                times[b].append((time.process_time() - t) / len(part))
                forward[b].append(seconds / len(part))
                if r == 0:
                    results[b] += arrays
    print(f"{data.name}: {len(texts)} documents, tokens per document min {min(lengths)} / median "
          f"{statistics.median(lengths):.0f} / max {max(lengths)}, one thread, {args.rounds} rounds, batch sizes "
          f"interleaved on each chunk of {chunk} documents")
    base_b = min(args.batches)
    print(f"{'batch':>5} {'cpu ms/doc':>10} {'forward':>8} {'speed-up':>8} {'(IQR)':>13}  max |d| from batch {base_b}: "
          "logprob / entropy / variance, ranks differing")
    for b in args.batches:
        ratios = [x / y for x, y in zip(times[base_b], times[b])]  # paired: the same chunk, the same moment
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        d = {f: max(float(np.abs(getattr(x, f) - getattr(y, f)).max()) for x, y in zip(results[b], results[base_b]))
             for f in ("logprob", "entropy", "variance")}
        ranks = sum(int(np.count_nonzero(x.rank != y.rank)) for x, y in zip(results[b], results[base_b]))
        print(f"{b:>5} {1000 * statistics.median(times[b]):>10.1f} {1000 * statistics.median(forward[b]):>8.1f} "
              f"{statistics.median(ratios):>7.3f}x {q1:>6.3f}-{q3:<6.3f}  {d['logprob']:.4f} / {d['entropy']:.4f} / "
              f"{d['variance']:.4f}, {ranks} of {sum(lengths)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
