"""Pairwise quality of NearDedup (in a Beam pipeline) vs datasketch's MinHashLSH, on a corpus with truth.

    python bench/near_dup_quality.py --docs 10000 [--seed 0] [--threshold 0.69] [--num-perm 112]

Generates the corpus with near_dup_corpus.py when it is not in bench/_work/
yet, runs ``NearDedup`` on Beam's embedded FnApiRunner (documents are read
inside the pipeline and built with ``new_document``), and prints pairwise
precision / recall / F1 against the truth clusters, recall restricted to true
pairs whose exact word-5-gram Jaccard is >= 0.8, wall time and peak RSS of the
pipeline part; then the same metrics for datasketch's in-memory ``MinHashLSH``
(same bands x rows, fed the bit-identical signatures) with every query
candidate joined (its usual use) and with candidates verified at the same
threshold.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from near_dup_corpus import ensure_corpus  # noqa: E402

from provsieve.transforms.minhash import (  # noqa: E402
    DEFAULT_NGRAM,
    DEFAULT_NUM_PERM,
    DEFAULT_SEED,
    DEFAULT_THRESHOLD,
    lsh_params,
    minhash_signatures,
    shingle_hashes,
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_shard(shard: int, path: str, n_shards: int):
    from provsieve.transforms.document import new_document

    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % n_shards == shard:
                rec = json.loads(line)
                yield new_document(source_uri=path, source_format="jsonl", source_index=i,
                                   text=rec["text"], url=rec["url"], crawl_date=rec["crawl_date"])


def _label(doc) -> tuple[int, str]:
    return doc.source_index, doc.duplicate_of or doc.dup_cluster_id


def run_pipeline(path: Path, args) -> tuple[list[str], dict, float, float]:
    """Predicted cluster label per line, the near_dedup counters, wall seconds, peak RSS (MB)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from provsieve.transforms.near_dedup import NearDedup

    labels: dict[int, str] = {}
    out = path.with_suffix(f".labels.{args.threshold}.jsonl")
    t0 = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions([])) as p:
        _ = (p
             | beam.Create(range(args.shards))
             | beam.FlatMap(_read_shard, str(path), args.shards)
             | NearDedup(args.threshold, args.num_perm, args.ngram, args.seed)
             | beam.Map(lambda d: json.dumps(_label(d)))
             | beam.io.WriteToText(str(out), shard_name_template=""))
    wall = time.perf_counter() - t0
    counters = {c.key.metric.name: c.committed for c in p.result.metrics().query()["counters"]
                if c.key.metric.namespace == "near_dedup"}
    with open(out, encoding="utf-8") as f:
        for line in f:
            i, label = json.loads(line)
            labels[i] = label
    return [labels[i] for i in range(len(labels))], counters, wall, peak_rss_mb()


def pair_metrics(pred: list, truth: list, true_pairs_hi: list[tuple[int, int]]) -> dict:
    """Pairwise precision / recall / F1, and recall on the given (high-Jaccard) true pairs."""
    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    both = Counter(zip(pred, truth))
    tp = sum(pairs(n) for n in both.values())
    predicted = sum(pairs(n) for n in Counter(pred).values())
    actual = sum(pairs(n) for n in Counter(truth).values())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hi = sum(pred[i] == pred[j] for i, j in true_pairs_hi) / max(1, len(true_pairs_hi))
    return {"precision": precision, "recall": recall, "f1": f1, "recall_j80": hi,
            "pred_pairs": predicted, "true_pairs": actual}


def true_pair_jaccards(texts: list[str], truth: list[str], ngram: int) -> list[tuple[int, int, float]]:
    """Exact word-n-gram Jaccard (on the 32-bit shingle hashes) of every truly duplicate pair."""
    hashes, offsets = shingle_hashes(texts, ngram)
    sets = [np.unique(hashes[offsets[i]:offsets[i + 1]]) for i in range(len(texts))]
    members = defaultdict(list)
    for i, c in enumerate(truth):
        members[c].append(i)
    out = []
    for ids in members.values():
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                i, j = ids[a], ids[b]
                inter = len(np.intersect1d(sets[i], sets[j], assume_unique=True))
                out.append((i, j, inter / (len(sets[i]) + len(sets[j]) - inter)))
    return out


def datasketch_lsh(sigs: np.ndarray, args, verify: bool) -> tuple[list[int], float]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    bands, rows = lsh_params(args.threshold, args.num_perm)
    lsh = MinHashLSH(num_perm=args.num_perm, params=(bands, rows))
    mhs = [MinHash(args.num_perm, seed=args.seed, hashvalues=s, scheme="affine32") for s in sigs]
    for i, m in enumerate(mhs):
        lsh.insert(i, m)
    parent = list(range(len(mhs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(mhs):
        for j in lsh.query(m):
            if j != i and (not verify or m.jaccard(mhs[j]) >= args.threshold):
                ri, rj = find(i), find(j)
                parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(len(mhs))], time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--num-perm", type=int, default=DEFAULT_NUM_PERM)
    ap.add_argument("--ngram", type=int, default=DEFAULT_NGRAM)
    ap.add_argument("--shards", type=int, default=8, help="read shards inside the pipeline")
    ap.add_argument("--no-datasketch", action="store_true")
    args = ap.parse_args()
    args.seed_minhash = DEFAULT_SEED
    path = ensure_corpus(args.docs, args.seed)
    rss_before = peak_rss_mb()
    pred, counters, wall, rss = run_pipeline(path, argparse.Namespace(**{**vars(args), "seed": DEFAULT_SEED}))

    recs = [json.loads(line) for line in open(path, encoding="utf-8")]
    texts, truth = [r["text"] for r in recs], [r["cluster"] for r in recs]
    jac = true_pair_jaccards(texts, truth, args.ngram)
    hi = [(i, j) for i, j, jv in jac if jv >= 0.8]
    bands, rows = lsh_params(args.threshold, args.num_perm)
    print(f"corpus {path.name}: {len(recs)} docs, {len(set(truth))} truth clusters, "
          f"{len(jac)} true pairs ({len(hi)} with Jaccard >= 0.8); "
          f"threshold {args.threshold}, {args.num_perm} perms = {bands} bands x {rows} rows")
    print("NearDedup counters:", dict(sorted(counters.items())))
    rows_out = [("NearDedup (Beam FnApiRunner)", pair_metrics(pred, truth, hi),
                 f"{wall:.1f}s wall, peak RSS {rss:.0f} MB (before pipeline {rss_before:.0f} MB)")]
    if not args.no_datasketch:
        sigs = np.vstack([minhash_signatures(texts[i:i + 512], args.num_perm, args.ngram, DEFAULT_SEED)
                          for i in range(0, len(texts), 512)])
        for verify in (False, True):
            labels, secs = datasketch_lsh(sigs, argparse.Namespace(**{**vars(args), "seed": DEFAULT_SEED}),
                                          verify)
            name = "datasketch MinHashLSH" + (" + verify" if verify else " (candidates)")
            rows_out.append((name, pair_metrics(labels, truth, hi), f"{secs:.1f}s index+query"))
    print(f"{'method':34} {'precision':>9} {'recall':>7} {'F1':>6} {'recall@J>=0.8':>13}  pairs(pred/true)  time")
    for name, m, extra in rows_out:
        print(f"{name:34} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:6.4f} {m['recall_j80']:13.4f}"
              f"  {m['pred_pairs']}/{m['true_pairs']}  {extra}")
    # recall by exact Jaccard bin, for NearDedup
    bins = defaultdict(lambda: [0, 0])
    for i, j, jv in jac:
        b = min(int(jv * 10), 9) / 10
        bins[b][0] += pred[i] == pred[j]
        bins[b][1] += 1
    print("NearDedup recall by true Jaccard:",
          ", ".join(f"[{b:.1f},{b + 0.1:.1f}): {f / n:.3f} ({n})" for b, (f, n) in sorted(bins.items())))


if __name__ == "__main__":
    main()
