"""The records train-cascade and eval-detector score: stage 1 on all, the LM on a stratified sample, the cascade's scores.

Stage 1 runs on every record; the LM's per-token arrays come from the token
cache (:mod:`provsieve.transforms.lm_token_cache`) for a stratified sample of
at most ``per_group`` records per source and label (hash order, the same
records on every run, below the routing band as well as in it), so every
feature set, token count and routing band is compared without the LM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_cascade import CascadeCombiner, candidate_features, in_band
from provsieve.transforms.ai_cascade_training import stratified_sample
from provsieve.transforms.ai_detector import AIDetector, count_words, preprocess
from provsieve.transforms.ai_detector_training import Record
from provsieve.transforms.lm_features import TokenArrays
from provsieve.transforms.lm_model import RUNTIME
from provsieve.transforms.lm_token_cache import extract_token_cache, read_token_cache
from provsieve.transforms.lm_unigram import per_token_unigram


@dataclass
class Prepared:
    """Records with their stage-1 score, words, whether sampled, and (sampled, with a token) their LM arrays.

    ``unigram``: with a unigram table, each such record's per-position unigram
    log-probabilities (:func:`~provsieve.transforms.lm_unigram.per_token_unigram`), for the ``uni_*`` features.
    """

    records: list[Record]
    stage1: list[Optional[float]]
    words: list[int]
    sampled: np.ndarray
    arrays: list[Optional[TokenArrays]]
    unigram: Optional[list[Optional[np.ndarray]]] = None

    def features(self, n_tokens: int) -> list[Optional[dict[str, float]]]:
        """Every candidate feature of each record with LM arrays, at ``n_tokens`` tokens (None without)."""
        uni = self.unigram or [None] * len(self.arrays)
        return [None if a is None or len(a) == 0 else
                candidate_features(s, a.prefix(n_tokens), w, None if u is None else u[:n_tokens])
                for s, a, w, u in zip(self.stage1, self.arrays, self.words, uni)]


def scored_token_ids(records: Sequence[Record], arrays: Sequence[Optional[TokenArrays]],
                     tokenizer: Any = None) -> list[Optional[list[int]]]:
    """Per record with LM arrays, the ids of the tokens its positions score (None without arrays or a token).

    The texts are tokenised again with the stage-2 tokenizer (``tokenizer``,
    loaded if not given; the cache holds no token ids); a count that differs
    from the cached positions means the cache was made with another
    tokenizer, an error.
    """
    from provsieve.transforms.lm_model import first_tokens, load_tokenizer

    tokenizer = tokenizer or load_tokenizer()
    out: list[Optional[list[int]]] = []
    for r, a in zip(records, arrays):
        if a is None or len(a) == 0:
            out.append(None)
            continue
        ids = first_tokens(tokenizer, r["text"], len(a))
        if len(ids) != len(a):
            raise ValueError(f"record {r['id']}: {len(ids)} tokens, but the LM cache scored {len(a)} positions")
        out.append(ids)
    return out


def unigram_by_position(records: Sequence[Record], arrays: Sequence[Optional[TokenArrays]],
                        table: np.ndarray) -> list[Optional[np.ndarray]]:
    """Per record with LM arrays, the unigram log-probability of each scored token (:func:`scored_token_ids`)."""
    return [None if ids is None else per_token_unigram(table, ids) for ids in scored_token_ids(records, arrays)]


def prepare(records: list[Record], detector: AIDetector, per_group: int, cache: Path, max_tokens: int,
            workers: int, extract: bool = True, stage1: Optional[Sequence[Optional[float]]] = None,
            lm_from: Optional[float] = None, unigram: Optional[np.ndarray] = None) -> Prepared:
    """Stage 1 on all records (or the given ``stage1`` scores), the LM on the stratified sample.

    ``lm_from``: the LM runs only on sampled records whose stage-1 score
    reaches it (the others cannot be routed), for evaluating a fitted combiner.
    ``unigram``: a unigram table, for the ``uni_*`` features (:func:`unigram_by_position`).
    """
    if stage1 is None:
        stage1 = [s for s, _ in detector.score_texts([r["text"] for r in records])]
    stage1 = list(stage1)
    chosen = {r["id"] for r, s in zip(records, stage1) if s is not None} if per_group <= 0 else None
    sample = {r["id"] for r in stratified_sample([r for r, s in zip(records, stage1) if s is not None], per_group)} \
        if chosen is None else chosen
    sampled = np.array([r["id"] in sample for r in records], dtype=bool)
    need = {r["id"]: r["text"] for r, s, k in zip(records, stage1, sampled)
            if k and (lm_from is None or s >= lm_from)}
    if extract:
        extract_token_cache(need, max_tokens, cache, RUNTIME, workers=workers)
    cached = read_token_cache(cache, RUNTIME, max_tokens)
    if not extract:  # --cached-only: the sample is what the cache holds
        sampled &= np.array([r["id"] in cached for r in records], dtype=bool)
    words = [count_words(preprocess(r["text"])) for r in records]
    arrays = [cached.get(r["id"]) if k else None for r, k in zip(records, sampled)]
    return Prepared(records, stage1, words, sampled, arrays,
                    None if unigram is None else unigram_by_position(records, arrays, unigram))


def stage2_probabilities(prep: Prepared, combiner: CascadeCombiner) -> list[Optional[float]]:
    """The combiner's P(ai) of every record it routes (stage-1 score in its band) and has LM arrays for."""
    uni = prep.unigram or [None] * len(prep.arrays)
    return [combiner.score(s, a, w, u) if a is not None and len(a) and in_band(s, combiner.band) else None
            for s, a, w, u in zip(prep.stage1, prep.arrays, prep.words, uni)]


def cascade_scores(stage1: Sequence[Optional[float]], p2: Sequence[Optional[float]], low: float) -> list[Optional[float]]:
    """One ranking score for the cascade: ``1 + P2`` for routed records, the stage-1 score below the band."""
    out = []
    for s, p in zip(stage1, p2):
        out.append(None if s is None else (1.0 + p if (s >= low and p is not None) else min(s, low - 1e-9)))
    return out


def routed_cascade_scores(stage1: Sequence[Optional[float]], routed: Sequence[int], p: Sequence[float],
                          low: float) -> list[Optional[float]]:
    """:func:`cascade_scores` of every record, given the stage-2 probabilities ``p`` of the ``routed`` ones only."""
    p2: list[Optional[float]] = [None] * len(stage1)
    for k, v in zip(routed, p):
        p2[k] = float(v)
    return cascade_scores(stage1, p2, low)

