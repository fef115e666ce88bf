"""The cascade on sources neither stage saw: per dev source S, stage 1 and the combiner both trained without S.

The cascade's "dev leave one source out" figures leave S out of the
combiner's fit only; its stage-1 scores (and the routing) come from the
shipped fastText model, which trained on S. Here, for each of the five
sources S:

* stage 1: a fastText model with the shipped model's parameters trained on
  the other sources' train records and the web train pages
  (``leave_one_source_out``, as ``bench/ai_detector_generalisation.py``), its
  length-band thresholds chosen on the other sources' dev humans and the web
  dev pages (<= 1 % FPR per group, as there);
* the combiner: each variant (feature set, routing quantile, gate) fitted on
  the train sample without S (stage-1 scores cross-fitted with the shipped
  parameters, ``--stage1-cache``: their fold models saw S's train records, so
  the combiner is not told how far to distrust stage 1 on a new source), its
  band from those records' humans;
* the stage-2 thresholds: per length band, <= ``--target-fpr`` on each other
  source's dev domain's humans and the web dev pages, all scored by this
  pipeline (stage 1 without S, then the combiner);
* then S's dev sample (the LM arrays of ``--cache``) is scored by that
  pipeline: AUROC, TPR@1%FPR of the cascade's ranking score, and what the
  pipeline flags (stage 1 at its bands or stage 2 at its own: ``pipeline_flags``).

Pooled rows concatenate the five sources' scores. Also: the routed share of
S's records and of the held-out web pages, and the held-out web pages flagged.

    nice -n 10 .venv/bin/python bench/ai_detector_unseen.py --stage1-cache /work/cache/stage1-oof.json \\
        --cache /work/cache/lm-tokens.jsonl --json unseen.json > unseen.log
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_detector_generalisation import threshold_groups, train_split  # noqa: E402
from ai_detector_tree_combiner import fit_in_band, load_sample, logistic_fit, sample_arguments, write_results  # noqa: E402

from provsieve.pipeline.cascade_cli import FEATURE_SETS  # noqa: E402
from provsieve.pipeline.cascade_sample import routed_cascade_scores  # noqa: E402
from provsieve.pipeline.detector_cli import DEFAULT_BANDS  # noqa: E402
from provsieve.transforms.ai_cascade import candidate_features, feature_matrix  # noqa: E402
from provsieve.transforms.ai_cascade_training import pipeline_flags  # noqa: E402
from provsieve.transforms.ai_detector import AIDetector, ThresholdPolicy, band_thresholds, text_words  # noqa: E402
from provsieve.transforms.ai_detector_leaveout import LeaveOut, leave_one_source_out  # noqa: E402
from provsieve.transforms.ai_detector_training import auroc, load_records, select_split, tpr_at_fpr  # noqa: E402

SHIPPED = ("stage1+all+length-gated", 0.6, 0.9)
"""The shipped recipe: feature set, routing quantile, stage-1 gate edge (l2 10, 96 tokens)."""
VARIANTS = [(f, q, None if f.startswith("lm-only") else 0.9)
            for f in ("stage1+all+length-gated", "stage1+entropy+length-gated", "lm-only+all+length-gated")
            for q in (0.0, 0.3, 0.6)]


def name_of(variant: tuple[str, float, Optional[float]]) -> str:
    f, q, gate = variant
    return f"{f} q{q:.1f} gate {'none' if gate is None else f'stage1:{gate:g}'}"


def pick(items: Sequence[Any], ks: Sequence[int]) -> list:
    return [items[k] for k in ks]


def scored(model: Any, names: Sequence[str], s1: Sequence[Optional[float]],
           feats: Sequence[Optional[dict[str, float]]], low: float) -> list[Optional[float]]:
    """The cascade's ranking score of each record (``1 + P2`` when routed and with LM arrays, else stage 1)."""
    routed = [k for k, (s, f) in enumerate(zip(s1, feats)) if s is not None and s >= low and f is not None]
    rows = [feats[k] for k in routed]
    p = model(feature_matrix(rows, names), rows) if rows else np.array([])
    return routed_cascade_scores(s1, routed, p, low)


def summary(records: Sequence[dict], rank: Sequence[Optional[float]], flags: Sequence[Optional[float]],
            routed: Sequence[bool]) -> dict[str, Any]:
    """AUROC, TPR@1%FPR, flagged share, FPR, FPR per domain and the routed shares of one set of scored records."""
    keep = [k for k, v in enumerate(rank) if v is not None]
    y = np.array([records[k]["label"] == "ai" for k in keep])
    s = np.array([rank[k] for k in keep])
    f = np.array([flags[k] for k in keep], dtype=float)
    r = np.array([routed[k] for k in keep], dtype=bool)
    has_h = bool((~y).any())
    domains = sorted({records[k].get("domain") for k in keep if records[k]["label"] == "human"})
    return {"n_human": int((~y).sum()), "n_ai": int(y.sum()),
            "auroc": auroc(y, s) if has_h else float("nan"), "tpr_1": tpr_at_fpr(y, s, 0.01) if has_h else float("nan"),
            "flagged": float(f[y].mean()), "fpr": float(f[~y].mean()) if has_h else float("nan"),
            "fpr_domain": {d: float(np.mean([flags[k] for k in keep if records[k]["label"] == "human"
                                             and records[k].get("domain") == d])) for d in domains},
            "routed_human": float(r[~y].mean()) if has_h else float("nan"), "routed_ai": float(r[y].mean())}


def fmt(x: float) -> str:
    return "     -" if x != x else f"{x:6.3f}"


def table(rows: dict[str, dict[str, Any]]) -> str:
    head = (f"{'variant':<58} {'left out':<14} {'human':>5} {'ai':>5}  {'AUROC':>6} {'TPR@1%':>6} {'flag':>6} "
            f"{'FPR':>6} {'maxFPRd':>7} {'rt_h':>5} {'rt_ai':>5} {'web fl':>6} {'web rt':>6}")
    lines = [head, "-" * len(head)]
    for key, r in rows.items():
        variant, source = key.split(" | ")
        max_d = max(r["fpr_domain"].values(), default=float("nan"))
        lines.append(f"{variant:<58} {source:<14} {r['n_human']:>5} {r['n_ai']:>5}  {fmt(r['auroc'])} {fmt(r['tpr_1'])} "
                     f"{fmt(r['flagged'])} {fmt(r['fpr'])} {fmt(max_d):>7} {fmt(r['routed_human'])[1:]} "
                     f"{fmt(r['routed_ai'])[1:]} {r.get('web_flagged', '-'):>6} {fmt(r.get('web_routed', float('nan')))}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sample_arguments(ap)
    ap.add_argument("--target-fpr", type=float, default=0.005, help="the stage-2 thresholds' FPR per group (as shipped)")
    ap.add_argument("--l2", type=float, default=10.0)
    ap.add_argument("--only", nargs="*", default=None, help="left-out sources to run (default: all five)")
    ap.add_argument("--quantize", action="store_true", help="quantise each stage-1 model as the shipped one (slower)")
    ap.add_argument("--combiner-stage1", choices=["oof", "pair"], default="oof",
                    help="the combiner's train records' stage-1 scores: oof (--stage1-cache, cross-fitted with the "
                         "shipped parameters, their fold models saw S) or pair (for a record of source T, a model "
                         "trained without S and T: stage 1 on a source it never saw, as on S)")
    ap.add_argument("--stage1-shipped", action="store_true",
                    help="check: the shipped stage 1 and its thresholds on dev (only the combiner leaves S out; "
                         "the shipped recipe's AUROC/TPR@1%% must then match ai_detector_tree_combiner's dev LOSO)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    import json

    data = Path(args.data_dir)
    detector = AIDetector()
    params = dict(detector.metadata.get("params", {}))
    stage1_oof = json.loads(Path(args.stage1_cache).read_text("utf-8"))["scores"]
    cache = Path(args.cache)
    train_files = sorted(glob.glob(str(data / "ai-text" / "*-train.jsonl")))
    dev_files = sorted(glob.glob(str(data / "ai-text" / "*-dev.jsonl")))
    sample = load_sample(train_files, detector, args.per_group, cache, args.tokens, stage1_oof)
    dev = load_sample(dev_files, detector, 400, cache, args.tokens, None)
    train_all = [r for p in train_files for r in load_records(p)]
    dev_all = [r for p in dev_files for r in load_records(p)]
    web = [r for p in sorted(glob.glob(str(data / "crawl" / "CC-MAIN-*.jsonl.gz"))) for r in load_records(p, "human")]
    web_sets = {split: load_sample_web(select_split(web, split), detector, cache, args.tokens)
                for split in ("dev", "holdout")}
    web_train = select_split(web, "train")
    sources = args.only or sorted({str(r["source"]) for r in dev_all})
    variants = [SHIPPED] + [v for v in VARIANTS if v != SHIPPED]
    rows: dict[str, dict[str, Any]] = {}
    pooled: dict[str, dict[str, list]] = {}
    web_flags: dict[str, int] = {}

    def add(variant: str, source: str, recs: list, rank: list, flags: list, routed: list) -> None:
        rows[f"{variant} | {source}"] = summary(recs, rank, flags, routed)
        part = pooled.setdefault(variant, {"recs": [], "rank": [], "flags": [], "routed": []})
        for key, vals in (("recs", recs), ("rank", rank), ("flags", flags), ("routed", routed)):
            part[key] += list(vals)

    pair_scores: dict[frozenset, dict[str, Optional[float]]] = {}

    def without(left: frozenset) -> dict[str, Optional[float]]:
        """Stage-1 scores of the train sample's records of the ``left`` sources by a model trained without them."""
        if left not in pair_scores:
            split = LeaveOut("source", "+".join(sorted(left)), [r for r in train_all if r["source"] not in left]
                             + list(web_train), [], [])
            model, secs = train_split(split, params, args.quantize)
            print(f"stage 1 without {sorted(left)} trained in {secs} s", file=sys.stderr, flush=True)
            mine = [r for r in sample["records"] if r["source"] in left]
            pair_scores[left] = {r["id"]: s for r, (s, _) in zip(mine, model.score_texts([r["text"] for r in mine]))}
        return pair_scores[left]

    for source in sources:
        split = leave_one_source_out(train_all, dev_all, web_train, sources=[source])[0]
        if args.stage1_shipped:
            model_s, policy_s = detector, detector.policy
        else:
            model_s, secs = train_split(split, params, args.quantize)
            print(f"{source}: stage 1 without it trained in {secs} s", file=sys.stderr, flush=True)
            thr_humans = split.threshold_humans + web_sets["dev"]["records"]
            policy_s, _ = band_thresholds(threshold_groups(thr_humans, [s for s, _ in model_s.score_texts(
                [r["text"] for r in thr_humans])]), DEFAULT_BANDS, 0.01)
        fit_sample = sample
        if args.combiner_stage1 == "pair":
            s1_fit = [None if src == source else without(frozenset((source, src)))[r["id"]]
                      for r, src in zip(sample["records"], sample["sources"])]
            fit_sample = {**sample, "stage1": s1_fit,
                          "feats": [None if s is None or a is None else candidate_features(s, a, w)
                                    for s, a, w in zip(s1_fit, sample["arrays"], sample["words"])]}
        # every dev sample record (the other sources' humans set the stage-2 thresholds) and the web pages, by it
        parts = {"dev": dev, "web_dev": web_sets["dev"], "web_holdout": web_sets["holdout"]}
        s1 = {k: [s for s, _ in model_s.score_texts([r["text"] for r in p["records"]])] for k, p in parts.items()}
        feats = {k: [None if a is None or len(a) == 0 or s is None else candidate_features(s, a, w)
                     for s, a, w in zip(s1[k], p["arrays"], p["words"])] for k, p in parts.items()}
        t1 = {k: [policy_s.threshold_for(text_words(r["text"])) for r in p["records"]] for k, p in parts.items()}
        mine = [k for k, r in enumerate(dev["records"]) if str(r["source"]) == source]
        others = [k for k, r in enumerate(dev["records"]) if str(r["source"]) != source and r["label"] == "human"]
        recs = pick(dev["records"], mine)
        s1_mine = pick(s1["dev"], mine)
        add("stage 1 alone" + ("" if args.stage1_shipped else " (fastText without S)"), source, recs, s1_mine,
            pipeline_flags(s1_mine, pick(t1["dev"], mine), [None] * len(mine), [1.0] * len(mine)), [False] * len(mine))
        keep = [k for k, src in enumerate(sample["sources"]) if src != source]
        for variant in variants:
            names = FEATURE_SETS[variant[0]]
            model, low = fit_in_band(logistic_fit(args.l2, variant[2]), names, fit_sample, keep, variant[1],
                                     fit_sample["feats"])
            rank = {k: scored(model, names, s1[k], feats[k], low) for k in parts}
            # as train-cascade: every human record counts, a record not routed at its stage-1 score minus 1
            groups = threshold_groups(pick(dev["records"], others) + web_sets["dev"]["records"],
                                      [None if c is None else c - 1.0 for c in pick(rank["dev"], others) + rank["web_dev"]])
            stage2, _ = band_thresholds(groups, DEFAULT_BANDS, args.target_fpr)
            stage2 = ThresholdPolicy(tuple((w, max(t, 0.0)) for w, t in stage2.bands))
            t2 = {k: [stage2.threshold_for(text_words(r["text"])) for r in p["records"]] for k, p in parts.items()}
            flags = {k: pipeline_flags(s1[k], t1[k], rank[k], t2[k]) for k in parts}
            routed = {k: [c is not None and c >= 1.0 for c in rank[k]] for k in parts}
            add(name_of(variant), source, recs, pick(rank["dev"], mine), pick(flags["dev"], mine),
                pick(routed["dev"], mine))
            row = rows[f"{name_of(variant)} | {source}"]
            row["web_flagged"] = int(sum(f or 0 for f in flags["web_holdout"]))
            row["web_routed"] = float(np.mean(routed["web_holdout"]))
            row["stage2_thresholds"] = stage2.describe()
            web_flags[name_of(variant)] = web_flags.get(name_of(variant), 0) + row["web_flagged"]
        print(table({k: v for k, v in rows.items() if k.endswith(f"| {source}")}), flush=True)
    for variant, part in pooled.items():
        rows[f"{variant} | pooled"] = summary(part["recs"], part["rank"], part["flags"], part["routed"])
        if variant in web_flags:
            rows[f"{variant} | pooled"]["web_flagged"] = web_flags[variant]
    print("\n== mean over the left-out sources with humans (AUROC, TPR@1%FPR) and the worst source's TPR@1%FPR")
    for variant in pooled:
        per = [rows[f"{variant} | {src}"] for src in sources if rows[f"{variant} | {src}"]["n_human"]]
        if per:
            rows[f"{variant} | pooled"]["mean_source"] = {m: float(np.mean([r[m] for r in per])) for m in ("auroc", "tpr_1")}
            print(f"{variant:<58} {rows[f'{variant} | pooled']['mean_source']['auroc']:.4f} "
                  f"{rows[f'{variant} | pooled']['mean_source']['tpr_1']:.4f}  worst {min(r['tpr_1'] for r in per):.4f}")
    print("\n== all (web fl: held-out web pages flagged, summed over the five pipelines; "
          f"{len(web_sets['holdout']['records'])} pages each)")
    print(table(rows))
    write_results(rows, args.json)
    return 0


def load_sample_web(pages: list[dict], detector: AIDetector, cache: Path, tokens: int) -> dict[str, Any]:
    """The web pages with LM arrays in the cache (all of them, as train-cascade's ``--web``), as :func:`load_sample`."""
    from provsieve.pipeline.cascade_sample import prepare

    prep = prepare(pages, detector, 0, cache, tokens, 1, extract=False)
    idx = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    return {"records": [pages[i] for i in idx], "words": [prep.words[i] for i in idx],
            "arrays": [prep.arrays[i].prefix(tokens) for i in idx]}


if __name__ == "__main__":
    raise SystemExit(main())
