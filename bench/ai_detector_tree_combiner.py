"""A small gradient-boosted tree combiner (LightGBM) against the shipped gated logistic one, same features and records.

Both are fitted on the train files' sample with cross-fitted stage-1 scores
(the caches of ``train-cascade``: ``--stage1-cache``, ``--cache``), on the
records in the routing band (q0.6 of the train humans' stage-1 scores), with
each (source, label) cell given the same total weight. Figures, threshold-free
(AUROC, TPR@1%FPR of the cascade's ranking score ``1 + P2`` above the band,
stage 1 below it, as ``train-cascade`` ranks its candidates):

* train, out of fold (the combiner's grouped folds) and leave one source out;
* dev held out (the fit on all train records), and dev leave one source out
  (each dev source scored by a fit without that source's train records).

``--boosted`` adds a third combiner: the gated logistic one with a few shallow
trees fitted to its residual. Trees can split by source-specific quirks, so the leave-one-source-out columns
are the ones to compare. Deterministic: one thread, fixed seed.

    python bench/ai_detector_tree_combiner.py --stage1-cache CACHE.json --cache LM-TOKENS.jsonl \
        [--features stage1+all+length-gated] [--trees 200] [--depth 3] [--boosted]
"""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from provsieve.pipeline.cascade_cli import FEATURE_SETS, metrics_summary
from provsieve.pipeline.cascade_sample import prepare, routed_cascade_scores
from provsieve.transforms.ai_cascade import feature_matrix, feature_value, piece_of, predict_pieces, stage1_logit
from provsieve.transforms.ai_cascade_training import balanced_weights, fit_pieces, routing_low
from provsieve.transforms.ai_detector import AIDetector
from provsieve.transforms.ai_detector_crossfit import crossfit_fold
from provsieve.transforms.ai_detector_training import load_records, metrics_rows

Fit = Callable[[np.ndarray, np.ndarray, np.ndarray, list], Callable[[np.ndarray, list], np.ndarray]]


def logistic_fit(l2: float, gate_edge: Optional[float]) -> Fit:
    """The shipped recipe's combiner: one L2 logistic model below and one above stage-1 ``gate_edge`` (None: one model)."""
    edges = [] if gate_edge is None else [stage1_logit(gate_edge)]

    def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, rows: list) -> Callable[[np.ndarray, list], np.ndarray]:
        piece = piece_of([feature_value(r, "stage1_logit") for r in rows], edges)
        models = fit_pieces(x, y, piece, len(edges) + 1, l2, w)
        return lambda xt, rt: predict_pieces(models, xt, piece_of([feature_value(r, "stage1_logit") for r in rt],
                                                                     edges))
    return fit


def tree_params(depth: int, rate: float, min_leaf: int, l2: float) -> dict[str, Any]:
    """LightGBM's parameters here: shallow full trees, strong regularisation, one thread, fixed seed."""
    return {"objective": "binary", "max_depth": depth, "num_leaves": 2 ** depth, "learning_rate": rate,
            "min_data_in_leaf": min_leaf, "lambda_l2": l2, "feature_fraction": 0.8, "bagging_fraction": 0.8,
            "bagging_freq": 1, "num_threads": 1, "seed": 7, "deterministic": True, "force_row_wise": True,
            "verbosity": -1}


def lightgbm_fit(trees: int, depth: int, rate: float, min_leaf: int, l2: float) -> Fit:
    """A LightGBM binary classifier (:func:`tree_params`) on the features alone."""
    import lightgbm

    params = tree_params(depth, rate, min_leaf, l2)

    def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, rows: list) -> Callable[[np.ndarray, list], np.ndarray]:
        booster = lightgbm.train(params, lightgbm.Dataset(x, y, weight=w / w.mean()), num_boost_round=trees)
        return lambda xt, rt: booster.predict(xt)
    return fit


def boosted_logistic_fit(l2: float, gate_edge: float, trees: int, depth: int, rate: float, min_leaf: int,
                         tree_l2: float) -> Fit:
    """The gated logistic combiner, then a few shallow trees fitted to its residual (LightGBM from its logit).

    The logistic model's margin is the trees' starting score (``init_score``):
    the trees can only correct it where the data ask (the "when to trust
    which signal" of the issue), instead of learning the whole ranking.
    """
    import lightgbm

    base = logistic_fit(l2, gate_edge)
    params = tree_params(depth, rate, min_leaf, tree_l2)

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p))

    def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, rows: list) -> Callable[[np.ndarray, list], np.ndarray]:
        linear = base(x, y, w, rows)
        booster = lightgbm.train(params, lightgbm.Dataset(x, y, weight=w / w.mean(), init_score=logit(linear(x, rows))),
                                 num_boost_round=trees)
        return lambda xt, rt: 1.0 / (1.0 + np.exp(-(logit(linear(xt, rt)) + booster.predict(xt, raw_score=True))))
    return fit


def fit_in_band(fit: Fit, names: Sequence[str], train: dict[str, Any], keep: Sequence[int], quantile: float,
                feats: Sequence[Optional[dict[str, float]]]) -> tuple[Callable[[np.ndarray, list], np.ndarray], float]:
    """``fit`` on the ``keep`` records of the train sample in their band (>= ``quantile`` of their humans' stage 1).

    Returns the fitted model and the band's lower edge.
    """
    recs, s1, src = train["records"], train["stage1"], train["sources"]
    low = routing_low([s1[k] for k in keep if recs[k]["label"] == "human"], quantile)
    routed = [k for k in keep if s1[k] >= low and feats[k] is not None]
    y = np.array([recs[k]["label"] == "ai" for k in routed], dtype=float)
    rows = [feats[k] for k in routed]
    return fit(feature_matrix(rows, names), y, balanced_weights(y, [src[k] for k in routed]), rows), low


Rows = Callable[[str, str], list]
"""Feature rows of ``"train"`` or ``"dev"`` for a held-out part (``"all"``, ``"fold:F"``, ``"source:S"``)."""


def evaluate(fit: Fit, names: Sequence[str], train: dict[str, Any], dev: dict[str, Any], quantile: float,
             folds: int, rows_for: Optional[Rows] = None) -> dict[str, dict[str, float]]:
    """Train out of fold / leave one source out, dev held out / leave one source out (see the module docstring).

    ``rows_for``: the feature rows each fit and its held-out part use (default: ``train["feats"]`` and
    ``dev["feats"]`` for every part); ``bench/ai_detector_unigram.py`` gives each part its own unigram table.
    """
    rows_for = rows_for or (lambda which, key: train["feats"] if which == "train" else dev["feats"])
    recs, s1, src = train["records"], train["stage1"], train["sources"]
    y_all = np.array([r["label"] == "ai" for r in recs], dtype=float)

    def fitted(keep: Sequence[int], key: str) -> tuple[Callable, float]:
        return fit_in_band(fit, names, train, keep, quantile, rows_for("train", key))

    low_all = routing_low([s for r, s in zip(recs, s1) if r["label"] == "human"], quantile)
    routed_all = [k for k in range(len(recs)) if s1[k] >= low_all]
    out: dict[str, dict[str, float]] = {}
    fold = {k: crossfit_fold(recs[k]["id"], folds) for k in routed_all}
    # weights over the whole band, sliced per fit (as train-cascade's candidate search)
    w_all = dict(zip(routed_all, balanced_weights(y_all[routed_all], [src[k] for k in routed_all])))
    for how, held in (("train_oof", {f"fold:{f}": [k for k in routed_all if fold[k] == f] for f in range(folds)}),
                      ("train_loso", {f"source:{s}": [k for k in routed_all if src[k] == s] for s in sorted(set(src))})):
        p = np.empty(len(routed_all))
        pos = {k: i for i, k in enumerate(routed_all)}
        for key, test in held.items():
            feats = rows_for("train", key)
            test_set = set(test)
            # the band stays the full sample's (as train-cascade's candidate search)
            rows = [feats[k] for k in routed_all if k not in test_set]
            y = np.array([y_all[k] for k in routed_all if k not in test_set])
            model = fit(feature_matrix(rows, names), y,
                        np.array([w_all[k] for k in routed_all if k not in test_set]), rows)
            trows = [feats[k] for k in test]
            p[[pos[k] for k in test]] = model(feature_matrix(trows, names), trows)
        out[how] = metrics_summary(metrics_rows(recs, routed_cascade_scores(s1, routed_all, p, low_all), 2.0))

    drecs, ds1 = dev["records"], dev["stage1"]

    def dev_scores(model: Callable, low: float, which: Sequence[int], key: str) -> dict[int, Optional[float]]:
        dfeats = rows_for("dev", key)
        routed = [k for k in which if ds1[k] >= low and dfeats[k] is not None]
        rows = [dfeats[k] for k in routed]
        p = model(feature_matrix(rows, names), rows) if rows else np.array([])
        sc = routed_cascade_scores([ds1[k] for k in which], [which.index(k) for k in routed], p, low)
        return dict(zip(which, sc))

    model, low = fitted(range(len(recs)), "all")
    every = list(range(len(drecs)))
    held = dev_scores(model, low, every, "all")
    out["dev"] = metrics_summary(metrics_rows(drecs, [held[k] for k in every], 2.0))
    loso: dict[int, Optional[float]] = {}
    for s in sorted({str(r.get("source")) for r in drecs}):
        model, low = fitted([k for k in range(len(recs)) if src[k] != s], f"source:{s}")
        loso.update(dev_scores(model, low, [k for k in every if str(drecs[k].get("source")) == s], f"source:{s}"))
    out["dev_loso"] = metrics_summary(metrics_rows(drecs, [loso[k] for k in every], 2.0))
    return out


def load_sample(paths: Sequence[str], detector: AIDetector, per_group: int, cache: Path, tokens: int,
          stage1: Optional[dict[str, float]]) -> dict[str, Any]:
    records = [r for p in paths for r in load_records(p)]
    given = None if stage1 is None else [stage1.get(r["id"]) for r in records]
    prep = prepare(records, detector, per_group, cache, tokens, 1, extract=False, stage1=given)
    idx = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    feats = prep.features(tokens)
    return {"records": [records[i] for i in idx], "stage1": [prep.stage1[i] for i in idx],
            "feats": [feats[i] for i in idx], "sources": [str(records[i].get("source")) for i in idx],
            "words": [prep.words[i] for i in idx],
            "arrays": [None if prep.arrays[i] is None else prep.arrays[i].prefix(tokens) for i in idx]}


def result_line(res: dict[str, dict[str, float]]) -> str:
    """AUROC / TPR@1% of each of :func:`evaluate`'s columns, on one line."""
    return "  ".join(f"{how} {res[how]['auroc']:.4f}/{res[how]['tpr_1']:.4f}" for how in res)


def write_results(results: dict[str, Any], path: Optional[str]) -> None:
    if path:
        Path(path).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def sample_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of the sample both combiner benches share: data, the caches, tokens, sample size, band."""
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--stage1-cache", required=True, help="train-cascade's --stage1-cache (cross-fitted scores)")
    ap.add_argument("--cache", required=True, help="train-cascade's per-token LM cache")
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--per-group", type=int, default=350)
    ap.add_argument("--quantile", type=float, default=0.6)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sample_arguments(ap)
    ap.add_argument("--features", nargs="+", default=["stage1+all+length-gated"], choices=sorted(FEATURE_SETS))
    ap.add_argument("--trees", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--depth", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--min-leaf", type=int, nargs="+", default=[40, 100])
    ap.add_argument("--tree-l2", type=float, default=10.0)
    ap.add_argument("--boosted", action="store_true",
                    help="also the gated logistic combiner with trees fitted to its residual (from its logit)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    detector = AIDetector()
    stage1 = json.loads(Path(args.stage1_cache).read_text("utf-8"))["scores"]
    ai_text = Path(args.data_dir) / "ai-text"
    cache = Path(args.cache)
    train = load_sample(sorted(glob.glob(str(ai_text / "*-train.jsonl"))), detector, args.per_group, cache, args.tokens,
                  stage1)
    dev = load_sample(sorted(glob.glob(str(ai_text / "*-dev.jsonl"))), detector, 400, cache, args.tokens, None)
    results = {}
    for set_name in args.features:
        names = FEATURE_SETS[set_name]
        candidates = {"logistic gated stage1:0.9 l2 10": logistic_fit(10.0, 0.9)}
        for trees in args.trees:
            for depth in args.depth:
                for min_leaf in args.min_leaf:
                    candidates[f"lightgbm {trees} trees depth {depth} min-leaf {min_leaf}"] = lightgbm_fit(
                        trees, depth, args.rate, min_leaf, args.tree_l2)
                    if args.boosted:
                        candidates[f"logistic + {trees} trees depth {depth} min-leaf {min_leaf}"] = \
                            boosted_logistic_fit(10.0, 0.9, trees, depth, args.rate, min_leaf, args.tree_l2)
        for label, fit in candidates.items():
            res = evaluate(fit, names, train, dev, args.quantile, 5)
            results[f"{set_name} | {label}"] = res
            print(f"{set_name:32s} {label:44s} " + result_line(res), flush=True)
    write_results(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
