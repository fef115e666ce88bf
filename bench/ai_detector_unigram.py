"""Unigram-normalised LM features (issue 14) against the shipped combiner, with a unigram table per held-out fold.

The same protocol and records as ``bench/ai_detector_tree_combiner.py`` (the
gated logistic combiner, stage1:0.9, L2 10, band q0.6 of the train humans'
cross-fitted stage-1 scores; train out of fold and leave one source out, dev
held out and dev leave one source out), from the caches of ``train-cascade``
(no LM run: the texts are re-tokenised with the stage-2 tokenizer and the
positions checked against the cache's arrays). **No leakage through the
table:** the unigram counts come from the train files' humans (each distinct
text once) and the train split's web pages; every held-out fit uses a table
without the held-out part's humans (the fold's, or the source's, for train
and dev leave one source out alike); dev held out uses the full table.

    python bench/ai_detector_unigram.py --stage1-cache CACHE.json --cache LM-TOKENS.jsonl \
        [--features stage1+all+length-gated stage1+all+unigram+length-gated ...] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

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
from provsieve.pipeline.cascade_sample import scored_token_ids
from provsieve.pipeline.unigram_cli import human_token_ids
from provsieve.transforms.ai_cascade import candidate_features
from provsieve.transforms.ai_detector import AIDetector
from provsieve.transforms.ai_detector_training import load_records, select_split
from provsieve.transforms.lm_model import load_tokenizer
from provsieve.transforms.lm_unigram import DEFAULT_ADD_K, count_groups, per_token_unigram, unigram_logprobs

FOLDS = 5


def _load_with_ids(paths: Sequence[str], detector: AIDetector, per_group: int, cache: Path, tokens: int,
                  stage1: Optional[dict[str, float]], tokenizer: Any) -> dict[str, Any]:
    """The tree bench's records (stage-1 score, words, LM arrays) with the token ids each array position scores."""
    data = load_sample(paths, detector, per_group, cache, tokens, stage1)
    data["ids"] = scored_token_ids(data["records"], data["arrays"], tokenizer)
    return data


def featurise(data: Mapping[str, Any], table: Optional[np.ndarray]) -> list[Optional[dict[str, float]]]:
    return [None if a is None or len(a) == 0 else
            candidate_features(s, a, w, None if table is None else per_token_unigram(table, t))
            for s, a, w, t in zip(data["stage1"], data["arrays"], data["words"], data["ids"])]


def rows_by_table(train: dict[str, Any], dev: dict[str, Any], tables: Mapping[str, np.ndarray]) -> Rows:
    """The feature rows of each held-out part with its own table (a source without counted humans: the full one)."""
    memo: dict[tuple[str, str], list[dict[str, float]]] = {}

    def rows_for(which: str, key: str) -> list[dict[str, float]]:
        key = key if key in tables else "all"
        if (which, key) not in memo:
            memo[(which, key)] = featurise(train if which == "train" else dev, tables[key])
        return memo[(which, key)]
    return rows_for


def fold_tables(groups: Mapping[tuple[str, int], np.ndarray], add_k: float) -> dict[str, np.ndarray]:
    """The full table and one without each source's and each fold's humans (``groups``: counts by (source, fold))."""
    total = sum(groups.values())
    tables = {"all": unigram_logprobs(total, add_k)}
    for s in sorted({s for s, _ in groups}):
        tables[f"source:{s}"] = unigram_logprobs(total - sum(c for (g, _), c in groups.items() if g == s), add_k)
    for f in range(FOLDS):
        tables[f"fold:{f}"] = unigram_logprobs(total - sum(c for (_, g), c in groups.items() if g == f), add_k)
    return tables


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sample_arguments(ap)
    ap.add_argument("--l2", type=float, nargs="+", default=[10.0])
    ap.add_argument("--add-k", type=float, default=DEFAULT_ADD_K)
    ap.add_argument("--features", nargs="+", default=["stage1+all+length-gated", "stage1+all+unigram+length-gated"],
                    choices=sorted(FEATURE_SETS))
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    detector = AIDetector()
    tokenizer = load_tokenizer()
    stage1 = json.loads(Path(args.stage1_cache).read_text("utf-8"))["scores"]
    ai_text = Path(args.data_dir) / "ai-text"
    cache = Path(args.cache)
    train_paths = sorted(glob.glob(str(ai_text / "*-train.jsonl")))
    web = [r for p in sorted(glob.glob(str(Path(args.data_dir) / "crawl" / "CC-MAIN-*.jsonl.gz")))
           for r in load_records(p, "human")]
    counted = human_token_ids([r for p in train_paths for r in load_records(p)] + select_split(web, "train"),
                              tokenizer)
    tables = fold_tables(count_groups(counted, FOLDS, tokenizer.get_vocab_size()), args.add_k)
    train = _load_with_ids(train_paths, detector, args.per_group, cache, args.tokens, stage1, tokenizer)
    dev = _load_with_ids(sorted(glob.glob(str(ai_text / "*-dev.jsonl"))), detector, 400, cache, args.tokens, None, tokenizer)
    print(f"train {len(train['records'])} records, dev {len(dev['records'])}; unigram counts over "
          f"{len(counted)} human texts", flush=True)
    rows_for = rows_by_table(train, dev, tables)
    results = {}
    for set_name in args.features:
        for l2 in args.l2:
            res = evaluate(logistic_fit(l2, 0.9), FEATURE_SETS[set_name], train, dev, args.quantile, FOLDS, rows_for)
            results[f"{set_name} | l2 {l2:g}"] = res
            print(f"{set_name:40s} l2 {l2:<4g} " + result_line(res), flush=True)
    write_results(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
