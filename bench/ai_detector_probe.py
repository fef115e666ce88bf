"""A linear probe on the LM's pooled hidden state (issue 14, session 9) against the shipped combiner, same records.

The hidden state comes from the logits the cascade already computes
(:mod:`provsieve.transforms.lm_probe`: ``pinv(E) @ mean(logits)``, SmolLM2's
tied embedding), cached per record (id, runtime, token count) in
``--vectors`` so each is computed once (``--extract`` runs the LM on the
records of both samples that are missing). The protocol and records are
``bench/ai_detector_tree_combiner.py``'s (gated logistic combiner,
stage1:0.9, band q0.6 of the train humans' cross-fitted stage-1 scores;
train out of fold and leave one source out, dev held out and dev leave one
source out). The probe's inputs are the pooled vector reduced by a PCA
(``k`` components, added to a feature set as ``probe_*``) fitted on the
train sample's records (humans and AI, no labels, never a dev record)
**without the held-out part**: each fold's and each source's fit has its own
basis (:func:`rows_by_basis`), the dev held out column the full sample's.

    python bench/ai_detector_probe.py --stage1-cache CACHE.json --cache LM-TOKENS.jsonl --vectors HIDDEN.jsonl \
        [--extract] [--pools mean half] [--k 16 32 64] [--l2 10 100] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from ai_detector_tree_combiner import (  # noqa: E402 - bench/ is the script's folder
    Rows,
    evaluate,
    load_sample,
    logistic_fit,
    result_line,
    sample_arguments,
    write_results,
)

from provsieve.pipeline.cascade_cli import FEATURE_SETS
from provsieve.transforms.ai_cascade import predict_logistic
from provsieve.transforms.ai_cascade_training import balanced_weights, fit_logistic, routing_low
from provsieve.transforms.ai_detector import AIDetector
from provsieve.transforms.ai_detector_crossfit import crossfit_fold
from provsieve.transforms.lm_model import RUNTIME
from provsieve.transforms.lm_probe import POOLS

FOLDS = 5


def _encode(v: np.ndarray) -> str:
    return base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")


def _decode(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").astype(np.float64)


def read_vectors(path: Path, tokens: int) -> dict[str, dict[str, np.ndarray]]:
    """The cached pooled vectors of ``path`` for this runtime and token count, by record id."""
    out: dict[str, dict[str, np.ndarray]] = {}
    if not path.exists():
        return out
    for line in path.read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["runtime"] == RUNTIME and row["max_tokens"] == tokens:
            out[row["id"]] = {p: _decode(row[p]) for p in POOLS}
    return out


def extract_vectors(records: Iterable[dict[str, Any]], path: Path, tokens: int) -> int:
    """Run the LM on the records missing from ``path`` and append their pooled vectors; returns how many."""
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_model import _reader, gguf_weights, shipped_gguf_path
    from provsieve.transforms.lm_probe import logits_inverse, output_embedding, pooled_hidden

    have = read_vectors(path, tokens)
    todo = {r["id"]: r["text"] for r in records if r["id"] not in have}
    if not todo:
        return 0
    inverse = logits_inverse(output_embedding(gguf_weights(_reader(shipped_gguf_path()))))
    scorer = SmolLMScorer(max_tokens=tokens, threads=1)
    done = 0
    with path.open("a", encoding="utf-8") as out:
        for rid, text in sorted(todo.items()):
            ids = scorer.tokens(text)
            if not ids:
                continue
            pooled = pooled_hidden(scorer.logits(ids), inverse)
            out.write(json.dumps({"id": rid, "runtime": RUNTIME, "max_tokens": tokens, "positions": len(ids),
                                  **{p: _encode(getattr(pooled, p)) for p in POOLS}}) + "\n")
            done += 1
            if done % 200 == 0:
                out.flush()
                print(f"  {done}/{len(todo)} vectors", flush=True)
    return done


def measure_cost(texts: Sequence[str], tokens: int) -> dict[str, float]:
    """CPU ms per document of the LM pass (tokens + logits) and of the pooled hidden state from its logits, side by side."""
    import time

    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_model import _reader, gguf_weights, shipped_gguf_path
    from provsieve.transforms.lm_probe import logits_inverse, output_embedding, pooled_hidden

    start = time.process_time()
    inverse = logits_inverse(output_embedding(gguf_weights(_reader(shipped_gguf_path()))))
    setup = time.process_time() - start
    scorer = SmolLMScorer(max_tokens=tokens, threads=1)
    lm = probe = 0.0
    n = 0
    for text in texts:
        start = time.process_time()
        ids = scorer.tokens(text)
        if not ids:
            continue
        logits = scorer.logits(ids)
        mid = time.process_time()
        pooled_hidden(logits, inverse)
        lm, probe, n = lm + mid - start, probe + time.process_time() - mid, n + 1
    return {"docs": n, "lm_ms": 1e3 * lm / n, "probe_ms": 1e3 * probe / n, "ratio": probe / lm,
            "inverse_setup_s": setup}


def lowest_band_edge(train: dict[str, Any], quantile: float) -> float:
    """The lowest routing-band edge any fit of :func:`evaluate` uses (all train records, or one source left out).

    Records below it are never routed, so they need no vector.
    """
    humans = [(s, src) for r, s, src in zip(train["records"], train["stage1"], train["sources"]) if r["label"] == "human"]
    return min(routing_low([s for s, src in humans if src != left], quantile) for left in {None, *train["sources"]})


def pca_basis(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, the first ``k`` principal directions (k, d) and their standard deviations, of the rows of ``x``."""
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    return mean, vt[:k], s[:k] / np.sqrt(max(len(x) - 1, 1))


def with_probe(feats: Sequence[Optional[dict[str, float]]], vectors: Sequence[Optional[np.ndarray]],
               mean: np.ndarray, basis: np.ndarray) -> list[Optional[dict[str, float]]]:
    """Each feature row with ``probe_i`` (the vector's projection on PCA direction i) added."""
    out: list[Optional[dict[str, float]]] = []
    for f, v in zip(feats, vectors):
        if f is None or v is None:
            out.append(None)
            continue
        z = basis @ (v - mean)
        out.append({**f, **{f"probe_{i}": float(z[i]) for i in range(len(z))}})
    return out


def outside_part(sources: Sequence[str], folds: Sequence[int]) -> Callable[[str, int], bool]:
    """Whether train record i is outside the held-out part ``key`` (``"all"``, ``"fold:F"``, ``"source:S"``)."""
    def outside(key: str, i: int) -> bool:
        if key == "all":
            return True
        kind, value = key.split(":", 1)
        return (sources[i] != value) if kind == "source" else (str(folds[i]) != value)
    return outside


def rows_by_basis(train: dict[str, Any], dev: dict[str, Any], tv: Sequence[Optional[np.ndarray]],
                  dv: Sequence[Optional[np.ndarray]], k: int) -> Rows:
    """The feature rows of each held-out part, the probe from a PCA fitted on the train records outside it."""
    folds = [crossfit_fold(r["id"], FOLDS) for r in train["records"]]
    memo: dict[tuple[str, str], list[Optional[dict[str, float]]]] = {}
    bases: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    outside = outside_part(train["sources"], folds)

    def rows_for(which: str, key: str) -> list[Optional[dict[str, float]]]:
        if key not in bases:
            bases[key] = pca_basis(np.array([v for i, v in enumerate(tv) if v is not None and outside(key, i)]), k)[:2]
        if (which, key) not in memo:
            data, vectors = (train, tv) if which == "train" else (dev, dv)
            memo[(which, key)] = with_probe(data["feats"], vectors, *bases[key])
        return memo[(which, key)]
    return rows_for


def rows_by_stacked_probe(train: dict[str, Any], dev: dict[str, Any], tv: Sequence[Optional[np.ndarray]],
                          dv: Sequence[Optional[np.ndarray]], l2: float) -> Rows:
    """The feature rows of each held-out part with one stacked feature, ``probe_score``: the logit of a probe's P(ai).

    The probe (an L2 logistic model on the whole pooled vector, its own
    penalty ``l2``) is fitted on the train records outside the held-out part;
    those records get scores out of fold (the cross-fitting folds among them),
    the held-out part's records and the dev records the score of the probe
    fitted on all of them. So the combiner never sees a probe score of a
    record the probe was fitted on.
    """
    folds = [crossfit_fold(r["id"], FOLDS) for r in train["records"]]
    labels = np.array([r["label"] == "ai" for r in train["records"]], dtype=float)
    memo: dict[tuple[str, str], list[Optional[dict[str, float]]]] = {}
    scores: dict[str, tuple[dict[int, float], np.ndarray]] = {}

    outside = outside_part(train["sources"], folds)

    def fitted(idx: Sequence[int]) -> dict[str, Any]:
        y = labels[list(idx)]
        return fit_logistic(np.array([tv[i] for i in idx]), y, l2,
                            balanced_weights(y, [train["sources"][i] for i in idx]))

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p))

    def probe_scores(key: str) -> tuple[dict[int, float], np.ndarray]:
        if key not in scores:
            idx = [i for i, v in enumerate(tv) if v is not None and outside(key, i)]
            out: dict[int, float] = {}
            for f in sorted({folds[i] for i in idx}):
                model = fitted([i for i in idx if folds[i] != f])
                test = [i for i in idx if folds[i] == f]
                out.update(zip(test, logit(predict_logistic(model, np.array([tv[i] for i in test])))))
            model = fitted(idx)
            inside = [i for i, v in enumerate(tv) if v is not None and not outside(key, i)]
            if inside:
                out.update(zip(inside, logit(predict_logistic(model, np.array([tv[i] for i in inside])))))
            have = [k for k, v in enumerate(dv) if v is not None]
            dev_scores = np.full(len(dv), np.nan)
            dev_scores[have] = logit(predict_logistic(model, np.array([dv[k] for k in have])))
            scores[key] = (out, dev_scores)
        return scores[key]

    def rows_for(which: str, key: str) -> list[Optional[dict[str, float]]]:
        if (which, key) not in memo:
            by_train, by_dev = probe_scores(key)
            if which == "train":
                memo[(which, key)] = [None if f is None or i not in by_train else {**f, "probe_score": float(by_train[i])}
                                      for i, f in enumerate(train["feats"])]
            else:
                memo[(which, key)] = [None if f is None or np.isnan(by_dev[k]) else {**f, "probe_score": float(by_dev[k])}
                                      for k, f in enumerate(dev["feats"])]
        return memo[(which, key)]
    return rows_for


def pooled(data: dict[str, Any], vectors: dict[str, dict[str, np.ndarray]], pools: Sequence[str]
           ) -> list[Optional[np.ndarray]]:
    """Each record's chosen pools side by side (None without a vector)."""
    return [None if r["id"] not in vectors else np.concatenate([vectors[r["id"]][p] for p in pools])
            for r in data["records"]]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sample_arguments(ap)
    ap.add_argument("--vectors", required=True, help="the pooled hidden vectors' cache (jsonl, made by --extract)")
    ap.add_argument("--extract", action="store_true", help="run the LM on the sampled records missing from --vectors")
    ap.add_argument("--cost", type=int, default=0, metavar="N",
                    help="only measure the probe's cost on the first N routable dev records (CPU ms per document)")
    ap.add_argument("--only", choices=["train", "dev"], default=None, help="--extract one sample only")
    ap.add_argument("--pools", nargs="+", default=["mean"], choices=POOLS,
                    help="the pooled vectors concatenated before the PCA (one probe per list)")
    ap.add_argument("--k", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--l2", type=float, nargs="+", default=[10.0])
    ap.add_argument("--features", nargs="+", default=["stage1+all+length-gated"], choices=sorted(FEATURE_SETS))
    ap.add_argument("--stacked", type=float, nargs="*", default=None, metavar="L2",
                    help="instead of PCA components, one cross-fitted probe score (the probe's own L2 penalties)")
    ap.add_argument("--reference", action="store_true", help="also each feature set without the probe")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    detector = AIDetector()
    stage1 = json.loads(Path(args.stage1_cache).read_text("utf-8"))["scores"]
    ai_text = Path(args.data_dir) / "ai-text"
    cache, vpath = Path(args.cache), Path(args.vectors)
    train = load_sample(sorted(glob.glob(str(ai_text / "*-train.jsonl"))), detector, args.per_group, cache,
                        args.tokens, stage1)
    dev = load_sample(sorted(glob.glob(str(ai_text / "*-dev.jsonl"))), detector, 400, cache, args.tokens, None)
    print(f"train {len(train['records'])} records, dev {len(dev['records'])}", flush=True)
    if args.cost:
        low = lowest_band_edge(train, args.quantile)
        texts = [r["text"] for r, s in zip(dev["records"], dev["stage1"]) if s >= low][:args.cost]
        print(json.dumps(measure_cost(texts, args.tokens)), flush=True)
        return 0
    if args.extract:
        low = lowest_band_edge(train, args.quantile)
        for name, data in (("train", train), ("dev", dev)):
            if args.only in (None, name):
                routable = [r for r, s in zip(data["records"], data["stage1"]) if s >= low]
                print(f"{name}: {len(routable)} records at or above the lowest band edge {low:.4f}", flush=True)
                print(f"{name}: {extract_vectors(routable, vpath, args.tokens)} new vectors", flush=True)
        return 0
    vectors = read_vectors(vpath, args.tokens)
    tv, dv = pooled(train, vectors, args.pools), pooled(dev, vectors, args.pools)
    print(f"vectors: train {sum(v is not None for v in tv)}, dev {sum(v is not None for v in dv)}", flush=True)
    results: dict[str, Any] = {}
    for set_name in args.features:
        if args.reference:
            res = evaluate(logistic_fit(10.0, 0.9), FEATURE_SETS[set_name], train, dev, args.quantile, FOLDS)
            results[f"{set_name} | l2 10"] = res
            print(f"{set_name:44s} {'':14s} " + result_line(res), flush=True)
        for probe_l2 in args.stacked or []:
            rows_for = rows_by_stacked_probe(train, dev, tv, dv, probe_l2)
            for l2 in args.l2:
                res = evaluate(logistic_fit(l2, 0.9), [*FEATURE_SETS[set_name], "probe_score"], train, dev,
                               args.quantile, FOLDS, rows_for)
                label = f"{set_name}+stacked probe[{'+'.join(args.pools)}] probe l2 {probe_l2:g} l2 {l2:g}"
                results[label] = res
                print(f"{label:58s} " + result_line(res), flush=True)
        for k in ([] if args.stacked is not None else args.k):
            rows_for = rows_by_basis(train, dev, tv, dv, k)
            names = [*FEATURE_SETS[set_name], *(f"probe_{i}" for i in range(k))]
            for l2 in args.l2:
                res = evaluate(logistic_fit(l2, 0.9), names, train, dev, args.quantile, FOLDS, rows_for)
                label = f"{set_name}+probe[{'+'.join(args.pools)}] k {k} l2 {l2:g}"
                results[label] = res
                print(f"{label:58s} " + result_line(res), flush=True)
    write_results(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
