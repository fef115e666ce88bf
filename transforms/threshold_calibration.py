"""``--calibrate-fpr``: the run's own threshold, exact, from counts that stay small whatever the corpus.

The threshold is the (1 - fpr) quantile of the provably-human scores, just above the
(m+1)-th highest of the n scores, m = floor(fpr x n)
(:func:`~provsieve.transforms.ai_detector.calibrated_threshold`). Gathering the scores
into one list would put n floats on one worker. Instead the scores are counted in
rounds: by bucket of width 2^-16, then, of the bucket that holds the wanted rank, by
sub-bucket of width 2^-32, then, of that sub-bucket, by exact value. Each round's
counts hold at most 2^16 + 1 keys (scores lie in [0, 1]) and the rank is carried
from round to round, so the result is the number the one list would give, with
three small combines and three one-element side inputs.
"""

from __future__ import annotations

import collections
import math
from typing import Iterable, NamedTuple, Optional, Union

import apache_beam as beam
import numpy as np

from provsieve.transforms.ai_detector import DEFAULT_THRESHOLD

BUCKET_BITS = 16
"""Each bucketing round splits the previous round's bucket into 2^16 (a score in [0, 1] starts in one of 2^16 + 1)."""
BUCKET_ROUNDS = 2
"""Rounds by bucket before the last, by exact value: 2^-32 wide sub-buckets hold few distinct scores."""

Key = Union[int, float]


class Choice(NamedTuple):
    """The key (bucket or value) of one round that holds the wanted score, and that score's rank inside it."""

    key: Key
    rank: int
    """0-based, from the highest score of the key."""
    lowest: bool
    """fpr x n reaches every score: the threshold is the lowest score itself, not just above it."""


def round_key(score: float, level: int) -> Key:
    """The score's key in round ``level``: its bucket (``floor(score x 2^(16 (level + 1)))``), in the last round itself."""
    if level >= BUCKET_ROUNDS:
        return score
    return math.floor(score * (1 << (BUCKET_BITS * (level + 1))))


def choose(counts: dict[Key, int], rank: int, lowest: bool) -> Choice:
    """The key of ``counts`` (highest first) that holds the score of ``rank`` among them, and its rank in that key."""
    for key in sorted(counts, reverse=True):
        if rank < counts[key]:
            return Choice(key, rank, lowest)
        rank -= counts[key]
    raise ValueError(f"rank beyond the {sum(counts.values())} counted scores")


def first_choice(counts: dict[Key, int], fpr: float) -> Optional[Choice]:
    """The first round's choice: where the (m+1)-th highest score is, m = floor(fpr x n); None without scores."""
    n = sum(counts.values())
    if n == 0:
        return None
    m = int(math.floor(fpr * n + 1e-9))
    return choose(counts, n - 1, True) if m >= n else choose(counts, m, False)


def next_choice(counts: dict[Key, int], previous: Optional[Choice]) -> Optional[Choice]:
    return None if previous is None else choose(counts, previous.rank, previous.lowest)


def in_choice(score: float, level: int, choice: Optional[Choice]) -> bool:
    return choice is not None and round_key(score, level) == choice.key


def threshold_of(choice: Optional[Choice], default: float) -> float:
    """The last round's choice (a score) -> the threshold; ``default`` without scores."""
    if choice is None:
        return default
    return float(choice.key) if choice.lowest else float(np.nextafter(choice.key, np.inf))


def is_score(score: Optional[float]) -> bool:
    return score is not None and not math.isnan(score)


def threshold_in_rounds(scores: Iterable[Optional[float]], fpr: float, default: float = DEFAULT_THRESHOLD) -> float:
    """What :class:`CalibrateThreshold` computes, round by round in one process (for tests and checks)."""
    members = [s for s in scores if is_score(s)]
    choice = first_choice(collections.Counter(round_key(s, 0) for s in members), fpr)
    for level in range(1, BUCKET_ROUNDS + 1):
        members = [s for s in members if in_choice(s, level - 1, choice)]
        choice = next_choice(collections.Counter(round_key(s, level) for s in members), choice)
    return threshold_of(choice, default)


class CountKeys(beam.CombineFn):
    """Keys -> ``{key: count}`` (one round's counts: at most 2^16 + 1 keys)."""

    def create_accumulator(self) -> collections.Counter:
        return collections.Counter()

    def add_input(self, counts: collections.Counter, key: Key) -> collections.Counter:
        counts[key] += 1
        return counts

    def merge_accumulators(self, accumulators: Iterable[collections.Counter]) -> collections.Counter:
        merged = collections.Counter()
        for counts in accumulators:
            merged.update(counts)
        return merged

    def extract_output(self, counts: collections.Counter) -> dict[Key, int]:
        return dict(counts)


class CalibrateThreshold(beam.PTransform):
    """PCollection[float] of provably-human scores -> singleton [threshold] (module docstring).

    Exactly :func:`~provsieve.transforms.ai_detector.calibrated_threshold` of
    all the scores; ``default`` (DEFAULT_THRESHOLD) when there is none. None
    and NaN scores are left out. Use with ``beam.pvalue.AsSingleton``.
    """

    def __init__(self, fpr: float, default: Optional[float] = None) -> None:
        super().__init__()
        if not 0.0 <= fpr <= 1.0:
            raise ValueError(f"fpr must be in [0, 1], got {fpr}")
        self._fpr = fpr
        self._default = DEFAULT_THRESHOLD if default is None else default

    def expand(self, pcoll):
        members = pcoll | "DropNone" >> beam.Filter(is_score)
        choice = (members
                  | "Keys 0" >> beam.Map(round_key, 0)
                  | "Count 0" >> beam.CombineGlobally(CountKeys())
                  | "Choose 0" >> beam.Map(first_choice, self._fpr))
        for level in range(1, BUCKET_ROUNDS + 1):
            members = members | f"In choice {level - 1}" >> beam.Filter(
                in_choice, level - 1, beam.pvalue.AsSingleton(choice))
            choice = (members
                      | f"Keys {level}" >> beam.Map(round_key, level)
                      | f"Count {level}" >> beam.CombineGlobally(CountKeys())
                      | f"Choose {level}" >> beam.Map(next_choice, beam.pvalue.AsSingleton(choice)))
        return choice | "Threshold" >> beam.Map(threshold_of, self._default)
