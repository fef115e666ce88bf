"""``provsieve train-detector`` and ``provsieve eval-detector`` (added to the CLI by :func:`register`)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from provsieve.transforms.ai_detector import (
    CHUNK_TOKENS,
    DEFAULT_THRESHOLD,
    MAX_CHUNKS,
    MIN_WORDS,
    AIDetector,
    ThresholdPolicy,
    band_thresholds,
    text_words,
)
from provsieve.transforms.ai_detector_training import (
    Record,
    TrainParams,
    format_table,
    load_records,
    metrics_rows,
    rows_to_json,
    select_split,
    train_detector_model,
    trained_languages,
)
from provsieve.transforms.language import LanguageIdentifier
from provsieve.transforms.lm_token_cache import DEFAULT_CACHE


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add the ``train-detector`` and ``eval-detector`` subcommands."""
    d = TrainParams()
    tr = subparsers.add_parser(
        "train-detector",
        help="train, quantise and evaluate the fastText AI-text detector",
        description="Train a supervised fastText AI-text detector from JSONL (text, label=human|ai). "
        "Reproducible for a fixed --seed (single thread).",
    )
    tr.add_argument("--train", nargs="+", required=True, metavar="FILE.jsonl", help="labelled training files")
    tr.add_argument("--dev", nargs="*", default=[], metavar="FILE.jsonl", help="labelled dev files (threshold, metrics)")
    tr.add_argument(
        "--web", nargs="*", default=[], metavar="FILE.jsonl.gz",
        help="pre-cutoff web text (Dolma JSONL, no label: human); hash-split into train / dev (threshold) / holdout (FPR check)",
    )
    tr.add_argument("--output", required=True, metavar="MODEL.ftz", help="model path; metadata goes to MODEL.json")
    tr.add_argument("--version", default=None, help="model version string (default: ai_detector-<date>-<sha8>)")
    tr.add_argument("--target-fpr", type=float, default=0.01, help="max FPR on each human dev group for the threshold")
    tr.add_argument("--threshold-bands", type=int, nargs="+", default=list(DEFAULT_BANDS), metavar="WORDS",
                    help="lower edges (words) of the length bands, each with its own threshold giving <= --target-fpr "
                         "on every dev group's humans and the web dev pages in it; 0 alone: one threshold")
    tr.add_argument("--threshold-groups", choices=["source", "domain"], default="domain",
                    help="the dev human groups each band's threshold must hold on (domain: finer, stricter)")
    tr.add_argument("--seed", type=int, default=d.seed)
    tr.add_argument("--thread", type=int, default=d.thread, help="fastText threads (1 = reproducible)")
    tr.add_argument("--dim", type=int, default=d.dim)
    tr.add_argument("--epoch", type=int, default=d.epoch)
    tr.add_argument("--lr", type=float, default=d.lr)
    tr.add_argument("--word-ngrams", type=int, default=d.wordNgrams)
    tr.add_argument("--minn", type=int, default=d.minn)
    tr.add_argument("--maxn", type=int, default=d.maxn)
    tr.add_argument("--min-count", type=int, default=d.minCount)
    tr.add_argument("--bucket", type=int, default=d.bucket)
    tr.add_argument("--cutoff", type=int, default=d.cutoff, help="quantisation: keep this many words/n-grams (0: all)")
    tr.add_argument("--loss", choices=["softmax", "hs", "ns", "ova"], default=d.loss)
    tr.add_argument("--dsub", type=int, default=d.dsub, help="quantisation: sub-vector size")
    tr.add_argument("--no-qnorm", action="store_true", help="quantisation: do not quantise the norms separately")
    tr.add_argument("--retrain", action="store_true", help="quantisation: retrain after the --cutoff")
    tr.add_argument("--web-repeat", type=int, default=d.web_repeat, help="repeat web training pages this many times")
    tr.add_argument("--no-balance", action="store_true", help="do not oversample the minority label")
    tr.add_argument("--no-quantize", action="store_true")
    tr.set_defaults(func=train_command)

    ev = subparsers.add_parser(
        "eval-detector",
        help="AUROC, TPR at 1%%/5%% FPR and FPR at the threshold, overall and per source/generator/domain",
    )
    ev.add_argument("--data", nargs="+", required=True, metavar="FILE.jsonl")
    ev.add_argument("--model", default=None, help="model path (default: the shipped model)")
    ev.add_argument("--threshold", type=float, default=None, help="default: the model's threshold")
    ev.add_argument("--label", choices=["human", "ai"], default=None, help="label for every record (e.g. an unlabelled crawl)")
    ev.add_argument(
        "--web-split", choices=["all", "train", "dev", "holdout"], default="all",
        help="keep only this hash split of the records (as train-detector --web splits them)",
    )
    ev.add_argument("--identify-languages", action="store_true",
                    help="set each record's language with the shipped language model (und when not confident) "
                         "and report per language; records that have a language field are reported per language "
                         "without it")
    ev.add_argument("--json", default=None, metavar="OUT.json", help="also write the metrics as JSON")
    ev.add_argument("--detector", choices=["fasttext", "cascade"], default="fasttext",
                    help="cascade: also the second stage (needs provsieve[cascade]), on a sample of at most "
                         "--per-group LM-scored records per source and label")
    ev.add_argument("--cascade", default=None, metavar="CASCADE.json", help="combiner (default: the shipped one)")
    ev.add_argument("--per-group", type=int, default=400,
                    help="records sampled per (source, label) group (the same hash order as train-cascade)")
    ev.add_argument("--cache", default=DEFAULT_CACHE,
                    help="per-token LM cache (JSONL by record id and LM runtime, as train-cascade's)")
    ev.add_argument("--workers", type=int, default=1, help="processes for the LM statistics")
    ev.set_defaults(func=eval_command)


DEFAULT_BANDS = (0, 40, 80, 160, 320)
"""Length bands (lower edges in words) of the shipped threshold policy: at least ~100 dev humans in each."""


def _load(paths: Sequence[str], label: Optional[str] = None) -> list[Record]:
    return [r for p in paths for r in load_records(p, label)]


def _languages(records: Sequence[Record]) -> list[str]:
    """The decided language of every record (``und`` where not confident), by the shipped language model."""
    return [lang.code if lang.confident else "und"
            for lang in LanguageIdentifier().identify([r["text"] for r in records])]


def _scores(detector: AIDetector, records: Sequence[Record]) -> list[Optional[float]]:
    return [s for s, _ in detector.score_texts([r["text"] for r in records])]


def train_params(args: argparse.Namespace) -> TrainParams:
    """Every :class:`TrainParams` field from ``train-detector``'s flags."""
    return TrainParams(
        dim=args.dim, epoch=args.epoch, lr=args.lr, wordNgrams=args.word_ngrams, minn=args.minn, maxn=args.maxn,
        minCount=args.min_count, bucket=args.bucket, loss=args.loss, seed=args.seed, thread=args.thread,
        cutoff=args.cutoff, dsub=args.dsub, qnorm=not args.no_qnorm, retrain=args.retrain,
        web_repeat=args.web_repeat, balance=not args.no_balance,
    )


def train_command(args: argparse.Namespace) -> int:
    params = train_params(args)
    train = _load(args.train)
    dev = _load(args.dev)
    web = _load(args.web, "human")
    web_train, web_dev, web_holdout = (select_split(web, s) for s in ("train", "dev", "holdout"))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model, counts = train_detector_model(train + web_train, params, quantize=not args.no_quantize)
    print(f"training lines per label (after balancing): {counts}", file=sys.stderr)
    model.save_model(str(output))
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    version = args.version or f"ai_detector-{_dt.date.today():%Y%m%d}-{digest[:8]}"
    detector = AIDetector(model=model)

    meta: dict[str, Any] = {
        "version": version,
        "sha256": digest,
        "size_bytes": output.stat().st_size,
        "labels": ["__label__ai", "__label__human"],
        "preprocess": "provsieve.transforms.ai_detector.preprocess",
        "chunk_tokens": CHUNK_TOKENS,
        "max_chunks": MAX_CHUNKS,
        "min_words": MIN_WORDS,
        "combine": "token-length-weighted mean of chunk P(ai)",
        "params": dataclasses.asdict(params),
        "quantized": not args.no_quantize,
        "train_files": [Path(p).name for p in args.train],
        "dev_files": [Path(p).name for p in args.dev],
        "web_files": [Path(p).name for p in args.web],
        "web_split_docs": {"train": len(web_train), "dev": len(web_dev), "holdout": len(web_holdout)},
        "train_lines": counts,
    }
    meta["languages"], meta["train_languages"] = trained_languages(_languages(train + web_train))
    policy = ThresholdPolicy.constant(DEFAULT_THRESHOLD)
    if dev or web_dev:
        policy = _choose_policy(detector, dev, web_dev, args.threshold_bands, args.target_fpr, meta,
                                args.threshold_groups)
        if web_holdout:
            hold = [(s, text_words(r["text"])) for r, s in zip(web_holdout, _scores(detector, web_holdout))
                    if s is not None]
            flagged = [s >= policy.threshold_for(w) for s, w in hold]
            meta["web_holdout_fpr"] = round(sum(flagged) / len(flagged), 4) if flagged else None
            meta["web_holdout_docs"] = len(hold)
            print(f"held-out web pages: {len(hold)}, FPR at the policy = {meta['web_holdout_fpr']}")
    threshold = policy.highest
    if len(policy.bands) > 1:
        meta["threshold_bands"] = policy.to_json()
    meta["threshold"] = threshold
    output.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output} ({meta['size_bytes'] / 1e6:.2f} MB), version {version}, thresholds {policy.describe()}")
    return 0


def _choose_policy(detector: AIDetector, dev: Sequence[Record], web_dev: Sequence[Record], edges: Sequence[int],
                   fpr: float, meta: dict[str, Any], group_by: str = "domain") -> ThresholdPolicy:
    """The threshold policy on dev (one threshold when ``edges`` is ``[0]``); records how in ``meta``, prints dev."""
    dev_scores = _scores(detector, dev)
    groups: dict[str, list[tuple[int, float]]] = {}
    for r, s in zip(dev, dev_scores):
        if r["label"] == "human" and s is not None:
            groups.setdefault(f"dev_human:{r.get(group_by)}", []).append((text_words(r["text"]), s))
    if web_dev:
        groups["web_dev"] = [(text_words(r["text"]), s) for r, s in zip(web_dev, _scores(detector, web_dev))
                             if s is not None]
    policy, per_band = band_thresholds(groups, edges, fpr)
    meta["threshold_method"] = (
        f"per length band (lower edges {[b for b, _ in policy.bands]} words, "
        f"provsieve.transforms.ai_detector.text_words), the highest of the thresholds giving FPR <= {fpr} on each "
        f"human group in it ({', '.join(groups)}; calibrated_threshold), then non-increasing with length; "
        f"'threshold' is the strictest band's")
    meta["threshold_per_band_group"] = {b: {g: round(t, 6) for g, t in d.items()} for b, d in per_band.items()}
    if dev:
        thresholds = [policy.threshold_for_text(r["text"]) for r in dev]
        rows = metrics_rows(dev, dev_scores, thresholds)
        meta["dev_metrics"] = rows_to_json(rows)
        print(format_table(rows, None, title=f"dev, thresholds {policy.describe()}"))
        meta["dev_metrics_by_band"] = _band_rates(dev, dev_scores, policy)
    return policy


def _band_rates(records: Sequence[Record], scores: Sequence[Optional[float]],
                policy: ThresholdPolicy) -> dict[str, dict[str, Any]]:
    """Per length band and source: human texts, AI texts, FPR and TPR at the policy (the model card's band table)."""
    out: dict[str, dict[str, Any]] = {}
    for i, (lo, t) in enumerate(policy.bands):
        hi = policy.bands[i + 1][0] if i + 1 < len(policy.bands) else None
        cells: dict[str, list[int]] = {}
        for r, s in zip(records, scores):
            w = text_words(r["text"])
            if s is None or w < lo or (hi is not None and w >= hi):
                continue
            for key in ("all", str(r.get("source"))):
                c = cells.setdefault(key, [0, 0, 0, 0])
                k = 0 if r["label"] == "human" else 2
                c[k] += 1
                c[k + 1] += s >= t
        out[f"{lo}-{hi - 1 if hi else ''}"] = {
            "threshold": round(t, 6),
            **{key: {"human": c[0], "ai": c[2], "fpr": round(c[1] / c[0], 4) if c[0] else None,
                     "tpr": round(c[3] / c[2], 4) if c[2] else None} for key, c in sorted(cells.items())}}
    return out


def eval_command(args: argparse.Namespace) -> int:
    records = _load(args.data, args.label)
    if args.web_split != "all":
        records = select_split(records, args.web_split)
    if not records:
        print("no records", file=sys.stderr)
        return 1
    if args.identify_languages:
        for record, language in zip(records, _languages(records)):
            record["language"] = language
    detector = AIDetector(args.model)
    if args.detector == "cascade":
        from provsieve.pipeline.cascade_eval import eval_cascade

        return eval_cascade(records, detector, args)
    policy = ThresholdPolicy.constant(args.threshold) if args.threshold is not None else detector.policy
    rows = metrics_rows(records, _scores(detector, records), [policy.threshold_for_text(r["text"]) for r in records])
    print(format_table(rows, policy.bands[0][1] if len(policy.bands) == 1 else None,
                       title=f"model {detector.version}, threshold {policy.describe()}"))
    if args.json:
        Path(args.json).write_text(json.dumps(rows_to_json(rows), indent=2) + "\n", encoding="utf-8")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Stand-alone entry point (the ``provsieve`` CLI calls :func:`register` instead)."""
    parser = argparse.ArgumentParser(prog="provsieve-detector")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
