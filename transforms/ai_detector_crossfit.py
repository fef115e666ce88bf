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
import sys
from typing import Sequence

from provsieve.transforms.ai_detector_training import Record, TrainParams, train_detector_model

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


def _fold_model(train: Sequence[Record], params: TrainParams, quantize: bool):
    """One fold's detector, trained in process by the shipped model's own path with every field of ``params``."""
    from provsieve.transforms.ai_detector import AIDetector

    model, _ = train_detector_model(train, params, quantize=quantize)
    return AIDetector(model=model)


def out_of_fold_scores(records: Sequence[Record], params: TrainParams, folds: int = 5, workers: int = 1,
                       quantize: bool = True, attempts: int = 4) -> tuple[dict[str, float], list[int]]:
    """Stage-1 score of every record by the model trained on the other folds (by :func:`crossfit_fold`).

    Each fold model is trained by
    :func:`~provsieve.transforms.ai_detector_training.train_detector_model`
    (as ``provsieve train-detector``) with all of ``params`` (balancing, web
    repetition, loss, quantisation), ``workers`` threads at a time. The "Encountered NaN" that stopped
    most fold trainings in the previous round was fastText reading
    uninitialised memory (see
    :func:`~provsieve.transforms.ai_detector_training.zero_filled_allocations`,
    now used by every training); a fold that fails on NaN anyway is trained
    again, and the count is returned.
    Returns the scores and the trainings per fold.
    ``quantize`` as the shipped model (off only for data too small to quantise).
    """
    from concurrent.futures import ThreadPoolExecutor

    splits = fold_splits(records, folds)
    tries = [0] * folds
    out: dict[str, float] = {}

    def one(k: int) -> dict[str, float]:
        for _ in range(attempts):
            tries[k] += 1
            try:
                detector = _fold_model(splits[k][0], params, quantize)
                break
            except (RuntimeError, ValueError) as err:
                if "NaN" not in str(err) or tries[k] >= attempts:
                    raise
                print(f"fold {k}: fastText stopped on NaN, training it again", file=sys.stderr)
        held = splits[k][1]
        scores = detector.score_texts([r["text"] for r in held])
        return {r["id"]: s for r, (s, _) in zip(held, scores) if s is not None}

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for part in pool.map(one, range(folds)):
            out.update(part)
    return out, tries
