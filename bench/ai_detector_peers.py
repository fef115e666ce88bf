"""Side-by-side: the shipped fastText detector vs two peers on the same dev data.

Peers (bench only, see bench/requirements.txt; not project dependencies):

* ``tfidf-lr``: TF-IDF word 1-2-grams + char 3-5-grams, scikit-learn
  LogisticRegression, trained on the same training data as the shipped model
  (``*-train.jsonl`` plus the train split of the 2019 web pages), on raw text
  as such a baseline is normally used.
* ``lmscan``: ``lmscan.scan(text).ai_probability`` (PyPI, zero-shot, no training).

For each detector: AUROC, TPR@1%FPR, TPR@5%FPR overall and per source on
``*-dev.jsonl``, and the false-positive rate on the held-out 2019 web pages at
the threshold giving <= 1% FPR on the dev human texts (the shipped model
uses its shipped length-aware thresholds, ``threshold_bands``).

``--cascade`` adds ``provsieve-cascade`` (``--ai-detector cascade``: the shipped
combiner over fastText and the SmolLM2 features) and evaluates every
detector on the cascade's evaluation sample of the dev files instead (at most
``--per-group`` records per source and label, in the band or not, the sample
``train-cascade`` and ``eval-detector --detector cascade`` take; the LM's
per-token arrays from their cache), so the four rows are on the same records.

    python bench/ai_detector_peers.py [--data-dir ../shared/data] [--cascade [--per-group 400] [--cache F.jsonl]]
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path


from provsieve.transforms.ai_detector import DEFAULT_POLICY, AIDetector, ThresholdPolicy, calibrated_threshold
from provsieve.transforms.ai_detector_training import (
    format_table,
    load_records,
    metrics_rows,
    select_split,
)
from provsieve.transforms.lm_token_cache import DEFAULT_CACHE

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tfidf_lr_scores(train: list[dict], texts: list[str], seed: int) -> list[float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, max_features=300_000, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_features=300_000, sublinear_tf=True),
    )
    clf = make_pipeline(features, LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=seed))
    clf.fit([r["text"] for r in train], [r["label"] == "ai" for r in train])
    return clf.predict_proba(texts)[:, 1].tolist()


def lmscan_scores(texts: list[str]) -> list[float]:
    import lmscan

    return [float(lmscan.scan(t).ai_probability) if t.strip() else 0.0 for t in texts]


def cascade_sample(dev: list[dict], web_holdout: list[dict], args) -> tuple[list[dict], dict]:
    """The cascade's evaluation sample of ``dev`` and the cascade's ranking scores on it and on the web pages."""
    import numpy as np

    from provsieve.pipeline.cascade_sample import cascade_scores, prepare, stage2_probabilities
    from provsieve.transforms.ai_cascade import CascadeCombiner

    combiner = CascadeCombiner.load()
    low, n = combiner.band[0], combiner.max_tokens
    det = AIDetector(args.model)

    def scored(prep):
        return [0.0 if c is None else c for c in cascade_scores(prep.stage1, stage2_probabilities(prep, combiner), low)]

    table = combiner.unigram_table() if combiner.uses_unigram else None
    prep = prepare(dev, det, args.per_group, Path(args.cache), n, args.workers, lm_from=low, unigram=table)
    keep = [i for i in np.flatnonzero(prep.sampled) if prep.stage1[i] is not None]
    web_prep = prepare(web_holdout, det, 0, Path(args.cache), n, args.workers, lm_from=low, unigram=table)
    dev_scores, web_scores = scored(prep), scored(web_prep)
    sample = [dev[i] for i in keep]
    return sample, {"scores": [dev_scores[i] for i in keep] + web_scores, "policy": ThresholdPolicy(tuple((w, 1.0 + t) for w, t in combiner.policy.bands))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA))
    ap.add_argument("--model", default=None, help="fastText model (default: the shipped one)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["provsieve-fasttext", "provsieve-cascade", "tfidf-lr", "lmscan"])
    ap.add_argument("--cascade", action="store_true", help="add the cascade; evaluate all on its sample")
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="per-token LM cache (with --cascade; train-cascade's)")
    ap.add_argument("--per-group", type=int, default=400,
                    help="dev records per source and label (with --cascade; as train-cascade samples them)")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)

    data = Path(args.data_dir)
    train = [r for f in sorted(glob.glob(str(data / "ai-text" / "*-train.jsonl"))) for r in load_records(f)]
    dev = [r for f in sorted(glob.glob(str(data / "ai-text" / "*-dev.jsonl"))) for r in load_records(f)]
    web = [r for f in sorted(glob.glob(str(data / "crawl" / "CC-MAIN-*.jsonl.gz"))) for r in load_records(f, "human")]
    train += select_split(web, "train")
    web_holdout = select_split(web, "holdout")
    detectors = {"provsieve-fasttext": None, "tfidf-lr": None, "lmscan": None}
    cascade: dict[str, list] = {}
    if args.cascade:
        dev, cascade = cascade_sample(dev, web_holdout, args)
        detectors = {"provsieve-fasttext": None, "provsieve-cascade": None, "tfidf-lr": None, "lmscan": None}
    texts = [r["text"] for r in dev] + [r["text"] for r in web_holdout]
    for name in args.skip:
        detectors.pop(name, None)
    summary = []
    for name in detectors:
        t0 = time.time()
        if name == "provsieve-fasttext":
            det = AIDetector(args.model)
            scores = [s if s is not None else 0.0 for s, _ in det.score_texts(texts)]
        elif name == "provsieve-cascade":
            scores = cascade["scores"]
        elif name == "tfidf-lr":
            scores = tfidf_lr_scores(train, texts, args.seed)
        else:
            scores = lmscan_scores(texts)
        elapsed = time.time() - t0
        dev_scores, web_scores = scores[: len(dev)], scores[len(dev) :]
        human_dev = [s for r, s in zip(dev, dev_scores) if r["label"] == "human"]
        # the shipped model: its length-aware thresholds; the others: one threshold at 1 % FPR on dev humans
        policy = (DEFAULT_POLICY if (name == "provsieve-fasttext" and args.model is None) else
                  (cascade["policy"] if name == "provsieve-cascade"
                   else ThresholdPolicy.constant(calibrated_threshold(human_dev, 0.01))))
        dev_thr = [policy.threshold_for_text(r["text"]) for r in dev]
        web_thr = [policy.threshold_for_text(r["text"]) for r in web_holdout]
        rows = [r for r in metrics_rows(dev, dev_scores, dev_thr) if r.group == "overall" or r.group.startswith("source=")]
        web_fpr = sum(s >= t for s, t in zip(web_scores, web_thr)) / max(len(web_scores), 1)
        print(format_table(rows, None, title=f"\n== {name}  ({elapsed:.0f}s; threshold {policy.describe()})"))
        print(f"held-out 2019 web pages: {len(web_scores)} docs, FPR at threshold = {web_fpr:.4f}")
        o = rows[0]
        summary.append((name, o.auroc, o.tpr_1, o.tpr_5, o.tpr_at_t, o.fpr_at_t, web_fpr))

    print("\n== summary (dev overall; web = held-out 2019 pages at each detector's 1%-FPR-on-dev threshold)")
    print(f"{'detector':<20} {'AUROC':>7} {'TPR@1%':>7} {'TPR@5%':>7} {'TPR@thr':>7} {'FPR@thr':>7} {'webFPR':>7}")
    for name, a, t1, t5, tt, ft, w in summary:
        print(f"{name:<20} {a:7.4f} {t1:7.4f} {t5:7.4f} {tt:7.4f} {ft:7.4f} {w:7.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
