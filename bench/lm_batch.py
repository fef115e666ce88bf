"""The stage-2 LM at batch 1 vs batched: ms per document of the handler's whole per-document work, one core.

    python bench/lm_batch.py [--docs 64] [--batches 1 4 8 16] [--rounds 3] [--data FILE.jsonl[.gz]]

What is timed, per document: tokenising its first ``max_tokens`` tokens, the
CTranslate2 int8 forward pass (``SmolLMScorer.logits`` at batch 1,
``SmolLMScorer.logits_batch`` on consecutive chunks of B documents otherwise)
and :func:`token_arrays` of its logits; this is what
:func:`~provsieve.transforms.lm_handler.score_documents` does per document
besides the combiner (58 us). Batch sizes are interleaved round by round in
one process, so their ratios hold on a shared machine. After the timings: the
largest |difference| of each per-position array from batch 1 (int8 noise of
padded batches), and the tokens per document.

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


def arrays_at(scorer, texts: list[str], batch: int) -> list[TokenArrays]:
    """Every text's per-position arrays, the LM run on chunks of ``batch`` consecutive documents."""
    out: list[TokenArrays] = []
    for start in range(0, len(texts), batch):
        tokens = [scorer.tokens(t) for t in texts[start:start + batch]]
        logits = [scorer.logits(tokens[0])] if batch == 1 else scorer.logits_batch(tokens)
        out += [token_arrays(x, np.asarray(t)) for x, t in zip(logits, tokens)]
    return out


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
    times: dict[int, list[float]] = {b: [] for b in args.batches}
    results: dict[int, list[TokenArrays]] = {}
    for _ in range(args.rounds):
        for b in args.batches:
            t = time.perf_counter()
            results[b] = arrays_at(scorer, texts, b)
            times[b].append((time.perf_counter() - t) / len(texts))
    print(f"{data.name}: {len(texts)} documents, tokens per document min {min(lengths)} / median "
          f"{statistics.median(lengths):.0f} / max {max(lengths)}, one thread, {args.rounds} interleaved rounds")
    base_b = min(args.batches)
    base = statistics.median(times[base_b])
    print(f"{'batch':>5} {'ms/doc':>7} {'vs batch ' + str(base_b):>10}  max |d| from batch {base_b}: "
          "logprob / entropy / variance, ranks differing")
    for b in args.batches:
        med = statistics.median(times[b])
        d = {f: max(float(np.abs(getattr(x, f) - getattr(y, f)).max()) for x, y in zip(results[b], results[base_b]))
             for f in ("logprob", "entropy", "variance")}
        ranks = sum(int(np.count_nonzero(x.rank != y.rank)) for x, y in zip(results[b], results[base_b]))
        print(f"{b:>5} {1000 * med:>7.1f} {base / med:>9.2f}x  {d['logprob']:.4f} / {d['entropy']:.4f} / "
              f"{d['variance']:.4f}, {ranks} of {sum(lengths)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
