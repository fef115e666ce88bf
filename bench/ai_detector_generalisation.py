"""Stage-1 generalisation: leave-one-source-out and leave-one-generator-out, per fastText setting.

For each setting (``--config NAME key=value ...``: any ``TrainParams`` field,
plus ``detectrl_share`` to keep that share of DetectRL's train records), and
each split of :mod:`provsieve.transforms.ai_detector_leaveout`, a model is
trained in this process on one thread and scored on the left-out dev records:

* AUROC and TPR@1%FPR against the left-out records' own humans (for a source
  without humans, dolma-gpt35-topics, only the flagged share);
* ``flag``/``FPR``: machine and human shares flagged at length-band thresholds
  chosen as ``train-detector`` does (<= 1 % FPR per dev domain and on the web
  dev pages), from the dev humans the split may use.

Prints one table per setting and a summary (mean over splits) of all of them.

    .venv/bin/python bench/ai_detector_generalisation.py --splits dev source \\
        --config ft4 --config wng2 wordNgrams=2 [--quantize] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from provsieve.pipeline.detector_cli import DEFAULT_BANDS
from provsieve.transforms.ai_detector import AIDetector, band_thresholds, text_words
from provsieve.transforms.ai_detector_leaveout import (
    LeaveOut,
    in_distribution,
    leave_one_generator_out,
    leave_one_source_out,
)
from provsieve.transforms.ai_detector_training import (
    TrainParams,
    auroc,
    load_records,
    select_split,
    tpr_at_fpr,
    train_detector_model,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BANDS = DEFAULT_BANDS
FIELDS = frozenset(f.name for f in dataclasses.fields(TrainParams))


def parse_config(items: list[str]) -> tuple[str, dict[str, Any]]:
    name, *pairs = items
    out: dict[str, Any] = {}
    for p in pairs:
        key, _, value = p.partition("=")
        if key == "detectrl_share":
            out[key] = float(value)
        elif key in FIELDS:
            kind = type(getattr(TrainParams(), key))
            out[key] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
        else:
            raise SystemExit(f"unknown setting {key!r} (TrainParams fields or detectrl_share)")
    return name, out


def share_kept(record_id: str, share: float) -> bool:
    return int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:8], 16) % 1000 < share * 1000


def train_split(split: LeaveOut, settings: dict[str, Any], quantize: bool) -> tuple[AIDetector, float]:
    params = TrainParams.from_metadata({k: v for k, v in settings.items() if k != "detectrl_share"})
    share = settings.get("detectrl_share", 1.0)
    train = [r for r in split.train if r["source"] != "detectrl" or share_kept(r["id"], share)]
    t0 = time.perf_counter()
    model, _ = train_detector_model(train, params, quantize=quantize)
    return AIDetector(model=model), round(time.perf_counter() - t0, 1)


def threshold_groups(humans: list[dict], scores: list[Optional[float]]) -> dict[str, list[tuple[int, float]]]:
    """``band_thresholds``' groups: (words, score) of each dev domain's humans and of the web dev pages."""
    groups: dict[str, list[tuple[int, float]]] = {}
    for r, s in zip(humans, scores):
        if s is not None:
            key = "web_dev" if r.get("domain") == "web" else f"dev_human:{r['domain']}"
            groups.setdefault(key, []).append((text_words(r["text"]), s))
    return groups


def split_rows(split: LeaveOut, settings: dict[str, Any], web_dev: list[dict], quantize: bool) -> list[dict[str, Any]]:
    """The split's metrics row (one per source for the in-distribution split, which trains one model)."""
    detector, train_s = train_split(split, settings, quantize)
    thr_records = split.threshold_humans + web_dev
    thr_scores = [s for s, _ in detector.score_texts([r["text"] for r in thr_records])]
    policy, _ = band_thresholds(threshold_groups(thr_records, thr_scores), BANDS, 0.01)
    ev = [(r, s) for r, (s, _) in zip(split.evaluate, detector.score_texts([r["text"] for r in split.evaluate]))
          if s is not None]
    parts = ([(f"dev:{src}", [e for e in ev if e[0]["source"] == src]) for src in sorted({r["source"] for r, _ in ev})]
             if split.kind == "dev" else [(split.name, ev)])
    rows = []
    for name, part in parts:
        y = np.array([r["label"] == "ai" for r, _ in part])
        s = np.array([x for _, x in part])
        flagged = np.array([x >= policy.threshold_for(text_words(r["text"])) for r, x in part])
        has_h = bool((~y).any())
        rows.append({"split": name, "kind": split.kind, "n_human": int((~y).sum()), "n_ai": int(y.sum()),
                     "auroc": auroc(y, s) if has_h else float("nan"),
                     "tpr_1": tpr_at_fpr(y, s, 0.01) if has_h else float("nan"),
                     "flagged": float(flagged[y].mean()), "fpr": float(flagged[~y].mean()) if has_h else float("nan"),
                     "train_s": train_s})
    return rows


def fmt(x: float) -> str:
    return "     -" if x != x else f"{x:6.3f}"


def table(name: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"== {name}", f"{'left out':<32} {'human':>6} {'ai':>6}  {'AUROC':>6} {'TPR@1%':>6} {'flag':>6} {'FPR':>6}",
             "-" * 74]
    for r in rows:
        lines.append(f"{r['split']:<32} {r['n_human']:>6} {r['n_ai']:>6}  {fmt(r['auroc'])} {fmt(r['tpr_1'])} "
                     f"{fmt(r['flagged'])} {fmt(r['fpr'])}")
    return "\n".join(lines)


def mean(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if r[key] == r[key]]
    return float(np.mean(vals)) if vals else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA))
    ap.add_argument("--splits", nargs="+", choices=["dev", "source", "generator"], default=["dev", "source", "generator"])
    ap.add_argument("--only", nargs="*", default=None, help="run only these split names (e.g. outfox detectrl/ChatGPT)")
    ap.add_argument("--config", nargs="+", action="append", metavar="NAME [KEY=VALUE ...]",
                    help="a setting to compare (default: the shipped parameters as 'shipped')")
    ap.add_argument("--quantize", action="store_true", help="quantise each model as the shipped one (slower)")
    ap.add_argument("--json", default=None, help="also write every row as JSON")
    args = ap.parse_args()
    data = Path(args.data_dir)
    train = [r for p in sorted(glob.glob(str(data / "ai-text" / "*-train.jsonl"))) for r in load_records(p)]
    dev = [r for p in sorted(glob.glob(str(data / "ai-text" / "*-dev.jsonl"))) for r in load_records(p)]
    web = [r for p in sorted(glob.glob(str(data / "crawl" / "CC-MAIN-*.jsonl.gz"))) for r in load_records(p, "human")]
    web_train, web_dev = select_split(web, "train"), select_split(web, "dev")
    splits = []
    if "dev" in args.splits:
        splits.append(in_distribution(train, dev, web_train))
    if "source" in args.splits:
        splits += leave_one_source_out(train, dev, web_train)
    if "generator" in args.splits:
        splits += leave_one_generator_out(train, dev, web_train)
    if args.only:
        splits = [s for s in splits if s.name in args.only]
    configs = [parse_config(c) for c in (args.config or [["shipped"]])]
    results: dict[str, list[dict[str, Any]]] = {}
    for name, settings in configs:
        rows = []
        for split in splits:
            rows += split_rows(split, settings, web_dev, args.quantize)
            print(f"{name} {split.name}: AUROC {fmt(rows[-1]['auroc'])} flagged {fmt(rows[-1]['flagged'])} "
                  f"({rows[-1]['train_s']} s)", file=sys.stderr, flush=True)
        results[name] = rows
        print(table(f"{name} {settings}", rows), flush=True)
    print("\n== summary (mean over splits; AUROC/TPR@1% over splits with humans)")
    print(f"{'setting':<20} {'kind':<10} {'AUROC':>6} {'TPR@1%':>6} {'flag':>6} {'maxFPR':>6}")
    for name, rows in results.items():
        for kind in ("dev", "source", "generator"):
            part = [r for r in rows if r["kind"] == kind]
            if part:
                max_fpr = max((r["fpr"] for r in part if r["fpr"] == r["fpr"]), default=float("nan"))
                print(f"{name:<20} {kind:<10} {fmt(mean(part, 'auroc'))} {fmt(mean(part, 'tpr_1'))} "
                      f"{fmt(mean(part, 'flagged'))} {fmt(max_fpr)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"configs": dict(configs), "rows": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
