"""Figures of a fitted cascade: ``eval-detector --detector cascade`` and ``train-cascade --evaluate``.

Stage 1 at its thresholds, the cascade's scores at the stage-2 thresholds, and
what the pipeline decides (stage 2 on routed documents, else stage 1), per
source, generator and domain; ``--evaluate`` adds each source scored by a refit
that left it out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from provsieve.pipeline.cascade_sample import cascade_scores, prepare, stage2_probabilities
from provsieve.transforms.ai_cascade import CascadeCombiner
from provsieve.transforms.ai_cascade_training import format_flag_table, pipeline_flags
from provsieve.transforms.ai_detector import AIDetector, ThresholdPolicy
from provsieve.transforms.ai_detector_training import Record, format_table, load_records, metrics_rows, rows_to_json


def evaluation_rows(records: list[Record], stage1: Sequence[Optional[float]], policy: ThresholdPolicy,
                     cascade: Sequence[Optional[float]], stage2: ThresholdPolicy) -> tuple[list, list, list]:
    """Metrics rows of stage 1 (at ``policy``), of the cascade's scores (at ``stage2``), and of what the pipeline decides."""
    stage1_thresholds = [policy.threshold_for_text(r["text"]) for r in records]
    stage2_thresholds = [stage2.threshold_for_text(r["text"]) for r in records]
    return (metrics_rows(records, stage1, stage1_thresholds),
            metrics_rows(records, [None if c is None else c - 1.0 for c in cascade], stage2_thresholds),
            metrics_rows(records, pipeline_flags(stage1, stage1_thresholds, cascade, stage2_thresholds), 0.5))


def evaluate_held_out(paths: Sequence[str], detector: AIDetector, meta: dict[str, Any], stage2: ThresholdPolicy,
                       refit: Callable[[Optional[str]], tuple[dict[str, Any], float]],
                       args: argparse.Namespace, unigram: Optional[np.ndarray] = None) -> dict[str, Any]:
    """``--evaluate``: the fitted combiner on records it never saw, and per source with that source left out of the fit.

    The left-out figures refit the chosen recipe (band included) without the
    source's --fit records and score that source's --evaluate records: the
    stand-in for the unseen domains of the held-out check. Stage 1 is the
    shipped model on these records; the stage-2 thresholds are the fitted
    combiner's (chosen on --fit only). ``unigram``: the table ``--unigram`` loaded, for the ``uni_*`` features.
    """
    records = [r for p in paths for r in load_records(p)]
    # the refits first: the LM then scores only the records that some fit's band routes
    refits = {source: refit(source) for source in sorted({str(r.get("source")) for r in records})}
    lm_from = min([meta["band"][0], *(low for _, low in refits.values())])
    prep = prepare(records, detector, args.evaluate_per_group, Path(args.cache), meta["lm"]["max_tokens"], args.workers,
                   not args.cached_only, lm_from=lm_from,
                   unigram=unigram)
    idx = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    sample = [records[i] for i in idx]
    stage1 = [prep.stage1[i] for i in idx]

    def scores(model: dict[str, Any], low: float) -> list[Optional[float]]:
        combiner = CascadeCombiner({**meta, **model, "band": [low, 1.0], "version": "tmp", "threshold": 1.0})
        p2 = stage2_probabilities(prep, combiner)
        return cascade_scores(stage1, [p2[i] for i in idx], low)

    fitted = scores({}, meta["band"][0])  # the fitted combiner: meta's own model
    loso: list[Optional[float]] = [None] * len(sample)
    for source, (model, low) in refits.items():
        left = scores(model, low)
        for k, r in enumerate(sample):
            if str(r.get("source")) == source:
                loso[k] = left[k]
    out: dict[str, Any] = {"files": [Path(p).name for p in paths], "records": len(sample)}
    for name, cascade in (("fitted", fitted), ("leave_one_source_out", loso)):
        stage1_rows, cascade_rows, decided_rows = evaluation_rows(sample, stage1, detector.policy, cascade, stage2)
        out.setdefault("stage1", rows_to_json(stage1_rows))  # the same on both passes
        out[f"cascade_{name}"] = rows_to_json(cascade_rows)
        out[f"flagged_by_pipeline_{name}"] = {g: {"fpr": v["fpr_at_t"], "flagged": v["tpr_at_t"]}
                                              for g, v in rows_to_json(decided_rows).items()}
        print()
        print(format_table(cascade_rows, None, title=f"held out ({', '.join(out['files'])}): cascade "
                                                      f"{name.replace('_', ' ')}, stage-2 thresholds {stage2.describe()}"))
        print()
        print(format_flag_table(decided_rows, f"held out: what the pipeline decides, {name.replace('_', ' ')}"))
    return out


def eval_cascade(records: list[Record], detector: AIDetector, args: argparse.Namespace) -> int:
    """``eval-detector --detector cascade``: stage 1, the cascade and the routed share on one evaluation sample."""
    combiner = CascadeCombiner.load(args.cascade)
    low, n_tokens = combiner.band[0], combiner.max_tokens
    prep = prepare(records, detector, args.per_group, Path(args.cache), n_tokens, args.workers, lm_from=low,
                   unigram=combiner.unigram_table() if combiner.uses_unigram else None)
    p2 = stage2_probabilities(prep, combiner)
    idx = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    sample = [records[i] for i in idx]
    stage1 = [prep.stage1[i] for i in idx]
    cascade = cascade_scores(stage1, [p2[i] for i in idx], low)
    policy = ThresholdPolicy.constant(args.threshold) if args.threshold is not None else detector.policy
    stage1_rows, cascade_rows, decided_rows = evaluation_rows(sample, stage1, policy, cascade, combiner.policy)
    print(format_table(stage1_rows, None, title=f"stage 1: {detector.version}, threshold {policy.describe()} "
                                                f"({len(sample)} records: at most {args.per_group} per source and label)"))
    print()
    print(format_table(cascade_rows, None, title=f"cascade: {combiner.version}, band >= {low:.4f}, stage-2 thresholds "
                                                  f"{combiner.policy.describe()}"))
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
