"""Which true near-duplicate pairs does provsieve's dedup miss, and at which step?

    python bench/near_dup_misses.py --docs 100000 [--out bench/_work/out_100000_warc_w1]

Reads a finished ``provsieve run`` output over the benchmark corpus (``bench/end_to_end.py`` leaves one) and
its truth. For every true pair with word-5-gram Jaccard >= 0.8 (on the corpus texts) that provsieve did not put
in one cluster, it recomputes, on the texts provsieve extracted (the output's ``text`` column): the exact
Jaccard of provsieve's shingles, the MinHash estimate of its signatures, and whether the LSH bands make the pair
a candidate. Each missed pair is put in the first step that loses it:

- ``extracted text below threshold``: the pages' extracted texts are less alike than the corpus texts;
- ``estimate below threshold``: the exact Jaccard is >= the threshold, the MinHash estimate < it (verification);
- ``not an LSH candidate``: no band agrees;
- ``candidate, verified``: the pair itself passes, the clusters still differ (capped buckets, assignment).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import WORK, build  # noqa: E402
from near_dup_quality import true_pair_jaccards  # noqa: E402
from vs_datatrove import provsieve_clusters, quality, truth_of  # noqa: E402

from provsieve.transforms.minhash import minhash_signatures, shingle_hashes  # noqa: E402
from provsieve.transforms.near_dedup import lsh_bands_rows  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--threshold", type=float, default=0.69)
    ap.add_argument("--num-perm", type=int, default=112)
    args = ap.parse_args()
    corpus = build(args.docs)
    out = args.out or WORK / f"out_{args.docs}_warc_w1"
    urls, truth, texts = truth_of(corpus)
    hi = [(i, j, jac) for i, j, jac in true_pair_jaccards(texts, truth, 5) if jac >= 0.8]
    pred = provsieve_clusters(out)
    missed = [(i, j, jac) for i, j, jac in hi if pred.get(urls[i]) != pred.get(urls[j])]
    q = quality(pred, urls, truth, [(i, j) for i, j, _ in hi])
    print(f"pairwise precision {q['precision']:.4f}, recall {q['recall']:.4f}, recall J>=0.8 {q['recall_j80']:.4f}")
    extracted = {}
    for part in ("human", "rejected"):
        for row in pq.read_table(out / part, columns=["url", "text"]).to_pylist():
            extracted[row["url"]] = row["text"] or ""
    bands, rows = lsh_bands_rows(args.threshold, args.num_perm)
    steps = collections.Counter()
    examples = collections.defaultdict(list)
    for i, j, jac in missed:
        a, b = extracted.get(urls[i], ""), extracted.get(urls[j], "")
        hashes, offsets = shingle_hashes([a, b], 5)
        sa, sb = np.unique(hashes[offsets[0]:offsets[1]]), np.unique(hashes[offsets[1]:offsets[2]])
        inter = len(np.intersect1d(sa, sb, assume_unique=True))
        exact = inter / max(1, len(sa) + len(sb) - inter)
        sigs = minhash_signatures([a, b], args.num_perm)
        estimate = float(np.mean(sigs[0] == sigs[1]))
        banded = sigs[:, : bands * rows].reshape(2, bands, rows)
        candidate = bool((banded[0] == banded[1]).all(axis=1).any())
        if exact < args.threshold:
            step = "extracted text below threshold"
        elif estimate < args.threshold - 1e-9:
            step = "estimate below threshold"
        elif not candidate:
            step = "not an LSH candidate"
        else:
            step = "candidate, verified"
        steps[step] += 1
        examples[step].append((round(jac, 3), round(exact, 3), round(estimate, 3), urls[i], urls[j]))
    print(f"{len(hi)} true pairs with J >= 0.8, {len(missed)} missed ({len(missed) / max(1, len(hi)):.2%}); "
          f"LSH {bands} bands x {rows} rows, threshold {args.threshold}")
    for step, n in steps.most_common():
        print(f"  {step}: {n}")
        for ex in sorted(examples[step])[:5]:
            print("     corpus J, extracted J, estimate:", *ex)
    estimates = [e[2] for v in examples.values() for e in v]
    if estimates:
        print(f"estimates of missed pairs: min {min(estimates):.3f}, median {np.median(estimates):.3f}, "
              f"max {max(estimates):.3f}")


if __name__ == "__main__":
    main()
