"""``provsieve build-unigram``: the stage-2 unigram table (token frequencies of human text over the LM's vocabulary).

Counted on the human records of the given labelled files (the train files:
never dev) and the *train* split of the given web pages, each distinct text
once, whole texts, with the stage-2 tokenizer; written as float16 add-k
log-probabilities (:mod:`provsieve.transforms.lm_unigram`) with a JSON
sidecar recording the sources, counts and sha256. ``bench/ai_detector_unigram.py``
builds the same tables per held-out fold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from provsieve.transforms.ai_detector_training import Record, load_records, select_split
from provsieve.transforms.lm_unigram import DEFAULT_ADD_K, save_table, token_counts, unigram_logprobs

_BATCH = 256


def distinct_humans(records: Sequence[Record]) -> list[Record]:
    """The human records with a non-blank text, each distinct text once (the first record that has it)."""
    seen: set[str] = set()
    out = []
    for r in records:
        if r.get("label") != "human" or not r["text"].strip():
            continue
        key = hashlib.sha256(r["text"].encode("utf-8")).hexdigest()
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def human_token_ids(records: Sequence[Record], tokenizer: Any) -> list[tuple[Record, np.ndarray]]:
    """Each distinct human text (:func:`distinct_humans`) with its token ids (whole text, no special tokens)."""
    humans = distinct_humans(records)
    out = []
    for start in range(0, len(humans), _BATCH):
        batch = humans[start:start + _BATCH]
        for r, enc in zip(batch, tokenizer.encode_batch([r["text"] for r in batch], add_special_tokens=False)):
            out.append((r, np.asarray(enc.ids, dtype=np.int64)))
    return out


def register(subparsers: "argparse._SubParsersAction") -> None:
    p = subparsers.add_parser(
        "build-unigram", help="count the stage-2 unigram table on human train texts (for the uni_* LM features)",
        description="Token frequencies of the human texts of --train files and of the web pages' train split, "
                    "with the stage-2 tokenizer, written as add-k smoothed float16 log-probabilities (.npy) and "
                    "a JSON sidecar (.json) with the sources, counts and sha256.")
    p.add_argument("--train", nargs="+", required=True, metavar="FILE.jsonl", help="labelled train files (not dev)")
    p.add_argument("--web", nargs="*", default=[], metavar="FILE.jsonl.gz",
                   help="pre-cutoff web pages (human); only their train split is counted")
    p.add_argument("--add-k", type=float, default=DEFAULT_ADD_K)
    p.add_argument("--output", required=True, metavar="TABLE.npy")
    p.set_defaults(func=build_command)


def build_command(args: argparse.Namespace) -> int:
    from provsieve.transforms.lm_model import load_tokenizer

    if any("-dev" in Path(p).name for p in args.train):
        raise SystemExit("build-unigram: the table is counted on train files only (a -dev file was given)")
    tokenizer = load_tokenizer()
    records = [r for p in args.train for r in load_records(p)]
    web = select_split([r for p in args.web for r in load_records(p, "human")], "train")
    counted = human_token_ids(records + web, tokenizer)
    counts = token_counts((ids for _, ids in counted), tokenizer.get_vocab_size())
    sha = save_table(unigram_logprobs(counts, args.add_k), Path(args.output))
    meta = {"file": Path(args.output).name, "sha256": sha, "add_k": args.add_k, "dtype": "float16",
            "vocab_size": int(counts.size), "tokens_counted": int(counts.sum()), "texts_counted": len(counted),
            "web_pages_counted": sum(1 for r, _ in counted if str(r.get("source")).startswith("web:")),
            "train_files": [Path(p).name for p in args.train], "web_files": [Path(p).name for p in args.web],
            "counted_on": "human records of the train files (each distinct text once, whole texts) and the "
                          "train split of the web pages; tokenizer: SmolLM2-135M's (Apache-2.0)"}
    Path(args.output).with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {meta['tokens_counted']:,} tokens of {len(counted):,} human texts, sha256 {sha[:12]}")
    return 0
