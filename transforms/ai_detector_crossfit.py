"""Cross-fitted stage-1 scores: each training record scored by a fastText model that never saw its group.

The cascade's combiner must learn how far to trust stage 1 on texts stage 1
did not train on; once stage 1 trains on every train file, the only such
scores on the train files are out of fold. :func:`out_of_fold_scores` trains K
models, each on K-1 folds, with the shipped model's parameters, and scores
the held-out fold. A fold holds whole upstream groups (the shared data's split
keys, recovered from the record ids): all generators' versions of one
Fast-DetectGPT document, the six DetectRL variants of one generated item, one
OUTFOX problem statement's essays; other records are their own group.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

from provsieve.transforms.ai_detector_training import Record, TrainParams, train_model, write_training_file

_FASTDETECTGPT = re.compile(r"^fastdetectgpt-\w+-(\w+)\.([\w-]+)\.[\w.-]+?\.(\d+)\.(?:human|ai)$")
_DETECTRL_ALIGNED = re.compile(
    r"^detectrl-\w+-(?:direct_prompt|prompt_few_shot_llm|prompt_ICO_llm|paraphrase_polish_llm|"
    r"paraphrase_back_translation_llm|paraphrase_dipper_llm)_test-(\d+)$")
_OUTFOX = re.compile(r"^outfox-\w+-[\w-]+?-(\d+)$")


def crossfit_group(record_id: str) -> str:
    """The upstream group of a record, from its id (records of one group share a fold).

    * ``fastdetectgpt-<split>-<exp>.<domain>.<generator>.<i>.<label>``: the
      generator files of one experiment and domain are index-aligned on the
      same human documents: ``fdg:<exp>.<domain>.<i>``.
    * ``detectrl-<split>-<one of the six aligned files>_test-<i>``: the same
      item in every attack file: ``detectrl:<i>``.
    * ``outfox-<split>-<generator>-<i>``: the files are index-aligned on the
      problem statements: ``outfox:<i>``.
    * anything else (HC3-Plus, Dolma topics, DetectRL's other human files, web
      pages): the record itself.
    """
    m = _FASTDETECTGPT.match(record_id)
    if m:
        return f"fdg:{m[1]}.{m[2]}.{int(m[3])}"
    m = _DETECTRL_ALIGNED.match(record_id)
    if m:
        return f"detectrl:{int(m[1])}"
    m = _OUTFOX.match(record_id)
    if m:
        return f"outfox:{int(m[1])}"
    return f"id:{record_id}"


def crossfit_fold(record_id: str, folds: int) -> int:
    """The fold of a record: ``sha256(group)[:8] mod folds``."""
    return int(hashlib.sha256(crossfit_group(record_id).encode("utf-8")).hexdigest()[:8], 16) % folds


def fold_splits(records: Sequence[Record], folds: int) -> list[tuple[list[Record], list[Record]]]:
    """(training records, held-out records) of each fold: a group is never on both sides."""
    if folds < 2:
        raise ValueError("cross-fitting needs at least 2 folds")
    fold = [crossfit_fold(r["id"], folds) for r in records]
    return [([r for r, f in zip(records, fold) if f != k], [r for r, f in zip(records, fold) if f == k])
            for k in range(folds)]


def _fold_scores(args: tuple[list[Record], list[Record], TrainParams, int, bool]) -> tuple[dict[str, float], int]:
    """Train on one fold's complement and score the fold; returns the scores and the hash-table size used.

    fastText 0.9.3 sometimes stops with "Encountered NaN" (measured: one fold
    of the shipped train files failed at learning rates 0.2 to 0.025 and two
    seeds, and trained at 0.2 with ``bucket`` 150,001; on a tiny data set the
    same call fails at random between runs, so it is not only the data); the
    fold is then retrained with the next table size, which changes only which
    n-grams share a row.
    """
    import dataclasses
    import sys

    from provsieve.transforms.ai_detector import AIDetector

    train, held, params, fold, quantize = args
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fold{fold}.txt"
        write_training_file(train, path, params.seed, params.web_repeat, params.balance)
        for attempt in range(4):
            try:
                model = train_model(path, params, quantize=quantize)
                break
            except RuntimeError as err:
                if "NaN" not in str(err) or attempt == 3:
                    raise
                params = dataclasses.replace(params, bucket=params.bucket + 1)
                print(f"fold {fold}: fastText stopped on NaN, retraining with bucket {params.bucket}", file=sys.stderr)
    detector = AIDetector(model=model)
    scores = detector.score_texts([r["text"] for r in held])
    return {r["id"]: s for r, (s, _) in zip(held, scores) if s is not None}, params.bucket


def out_of_fold_scores(records: Sequence[Record], params: TrainParams, folds: int = 5, workers: int = 1,
                       quantize: bool = True) -> tuple[dict[str, float], list[int]]:
    """Stage-1 score of every record by the model trained on the other folds (by :func:`crossfit_fold`).

    Each fold model is trained as the shipped one (same parameters, balancing
    and web repetition, single thread: reproducible, unless a fold needed the
    NaN retry of :func:`_fold_scores`); ``workers`` trains that many folds at once. Returns the scores and each
    fold's ``bucket`` (the shipped one unless fastText stopped on NaN).
    ``quantize`` as the shipped model (off only for data too small to quantise).
    """
    jobs = [(train, held, params, k, quantize) for k, (train, held) in enumerate(fold_splits(records, folds))]
    if workers <= 1:
        parts = [_fold_scores(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_fold_scores, jobs))
    out: dict[str, float] = {}
    for scores, _ in parts:
        out.update(scores)
    return out, [bucket for _, bucket in parts]
