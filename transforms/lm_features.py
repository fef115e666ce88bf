"""Per-document statistics of a causal language model's predictions (pure NumPy).

The input is what one forward pass of a causal LM gives over a document's
first tokens: ``logits[i]`` is the model's prediction (unnormalised, over the
vocabulary) for ``targets[i]``, the token that actually follows. From these
come the zero-shot machine-text signals of the literature, one number each:

- ``mean_logprob``: mean log P(token) (machine text is more predictable);
- ``mean_entropy``: mean entropy of the predictive distribution;
- ``mean_logrank``: mean log of the token's rank (1 = the model's top choice), as in GLTR / DetectLLM;
- ``fast_detectgpt``: Fast-DetectGPT's analytic sampling discrepancy with the scoring model as
  the sampling model: ``(sum log p(x_i) - sum E[log p]) / sqrt(sum Var[log p])``
  (Bao et al. 2024, eq. 4 with the expectation and variance taken in closed form);
- ``binoculars``: log-perplexity over cross-perplexity (Hans et al. 2024) with one model as both
  observer and performer, where the cross-perplexity is the mean entropy: ``-mean_logprob / mean_entropy``.

Every function is vectorised over the positions; the largest array is the
logits themselves (positions x vocabulary, float32).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import numpy as np

FEATURE_NAMES = ("mean_logprob", "mean_entropy", "mean_logrank", "fast_detectgpt", "binoculars")


class LMStatistics(NamedTuple):
    """One document's statistics (see the module docstring); ``n_tokens`` scored positions."""

    mean_logprob: float
    mean_entropy: float
    mean_logrank: float
    fast_detectgpt: float
    binoculars: float
    n_tokens: int

    def features(self) -> list[float]:
        return [float(getattr(self, name)) for name in FEATURE_NAMES]


class TokenArrays(NamedTuple):
    """Per position of one document: what every statistic here is computed from (and what the cache stores).

    ``logprob`` is log P(actual token), ``entropy`` the predictive entropy
    (``-E[log p]``), ``variance`` ``Var[log p]`` under the model's own
    distribution (Fast-DetectGPT's denominator) and ``rank`` the token's rank
    (1 = the model's top choice). Any prefix ``[:n]`` is the arrays of the
    document's first ``n`` tokens (a causal LM's prediction depends only on
    what precedes it).
    """

    logprob: np.ndarray
    entropy: np.ndarray
    variance: np.ndarray
    rank: np.ndarray

    def prefix(self, n: int) -> "TokenArrays":
        return TokenArrays(*(a[:n] for a in self))

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.logprob.shape[0])


ROW_BLOCK = 4
"""Positions per block in :func:`token_arrays`: 4 x 49,152 float32 logits (0.8 MB) and their temporaries stay in a
core's L2 cache, which halved the time of a 96-token document against the whole matrix at once (51.7 -> 23.1 ms,
session 13) with bit-identical arrays."""


def row_blocks(n: int, block: int = ROW_BLOCK) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive blocks of ``block`` rows over ``n`` rows; a last block of one row joins the
    one before (NumPy reduces a 1-row matrix by another kernel, whose last bits differ), so every block of a
    matrix of 2 or more rows has at least 2, and the sums are those of the whole matrix."""
    if block < 2:
        raise ValueError(f"block must be at least 2 rows, got {block}")
    starts = list(range(0, n, block))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [(a, starts[i + 1] if i + 1 < len(starts) else n) for i, a in enumerate(starts)]


def token_arrays(logits: np.ndarray, targets: np.ndarray) -> TokenArrays:
    """The per-position arrays of one document from ``logits`` (positions x vocab) and the ``targets`` they predict.

    Written for speed: with ``s = logits - max``, ``e = exp(s)`` and
    ``Z = sum e``, ``log p = s - log Z``, ``E[log p] = sum(e s) / Z - log Z`` and
    ``Var[log p] = sum(e s^2) / Z - (sum(e s) / Z)^2``; the row sums are float32
    (pairwise / BLAS), everything after them float64. The rank compares ``s``,
    which orders the vocabulary as ``log p`` does. Each row depends on its own
    logits only, so the matrix is done in blocks of :data:`ROW_BLOCK` rows
    (:func:`row_blocks`) that stay in cache. An empty document is an error.
    """
    logits = np.asarray(logits, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.int64)
    if logits.ndim != 2 or logits.shape[0] != targets.shape[0] or logits.shape[0] == 0:
        raise ValueError(f"need logits (n, vocab) and n targets with n >= 1, got {logits.shape} and {targets.shape}")
    n = targets.shape[0]
    logprob, entropy, variance = np.empty(n), np.empty(n), np.empty(n)
    rank = np.empty(n, dtype=np.int64)
    for start, stop in row_blocks(n, ROW_BLOCK):
        part = logits[start:stop]
        shifted = part - part.max(axis=1, keepdims=True)
        weights = np.exp(shifted)
        z = weights.sum(axis=1).astype(np.float64)
        first = np.einsum("ij,ij->i", weights, shifted).astype(np.float64)  # sum e s
        weighted = np.multiply(weights, shifted, out=weights)
        second = np.einsum("ij,ij->i", weighted, shifted).astype(np.float64)  # sum e s^2
        log_z = np.log(z)
        target_shifted = shifted[np.arange(stop - start), targets[start:stop]]
        logprob[start:stop] = target_shifted.astype(np.float64) - log_z
        entropy[start:stop] = -(first / z - log_z)  # -E[log p]
        variance[start:stop] = np.maximum(second / z - (first / z) ** 2, 0.0)
        rank[start:stop] = 1 + np.count_nonzero(shifted > target_shifted[:, None], axis=1)
    return TokenArrays(logprob=logprob, entropy=entropy, variance=variance, rank=rank)


def statistics_from_tokens(arrays: TokenArrays) -> LMStatistics:
    """The document statistics (see the module docstring) of per-position arrays; empty arrays are an error."""
    if len(arrays) == 0:
        raise ValueError("no token to compute statistics of")
    mean_logprob = float(np.mean(arrays.logprob))
    mean_entropy = float(np.mean(arrays.entropy))
    spread = float(np.sqrt(np.sum(arrays.variance)))
    return LMStatistics(
        mean_logprob=mean_logprob,
        mean_entropy=mean_entropy,
        mean_logrank=float(np.log(arrays.rank).mean()),
        fast_detectgpt=float((np.sum(arrays.logprob) + np.sum(arrays.entropy)) / spread) if spread > 0 else 0.0,
        binoculars=float(-mean_logprob / mean_entropy) if mean_entropy > 0 else 0.0,
        n_tokens=len(arrays),
    )


def lm_statistics(logits: np.ndarray, targets: np.ndarray) -> LMStatistics:
    """The statistics of one document from ``logits`` (positions x vocab) and the ``targets`` they predict."""
    return statistics_from_tokens(token_arrays(logits, targets))


SHORT_PREFIX = 32
"""The second prefix length of the curvature and ratio features (``name@32``): the start of a text alone."""
_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def token_features(arrays: TokenArrays) -> dict[str, float]:
    """Every per-document LM feature the combiner may use, by name (chosen on dev by ``train-cascade``).

    The five statistics of :class:`LMStatistics`; the same curvature, ratio
    and mean log-prob over the first :data:`SHORT_PREFIX` tokens only
    (``@32``); GLTR's rank buckets (Gehrmann et al. 2019: share of tokens of
    rank 1, <= 10, <= 100 and > 1000); the spread of the per-token log-prob
    and entropy (standard deviation and quantiles ``_q10`` ... ``_q90``); the
    distribution of the per-token normalised surprise and the share of very
    surprising tokens (:func:`surprise_features`); the change between the
    window's two halves (:func:`half_change_features`).
    """
    stats = statistics_from_tokens(arrays)
    short = statistics_from_tokens(arrays.prefix(SHORT_PREFIX))
    out = dict(zip(FEATURE_NAMES, stats.features()))
    for name in ("mean_logprob", "fast_detectgpt", "binoculars"):
        out[f"{name}@{SHORT_PREFIX}"] = float(getattr(short, name))
    rank = arrays.rank
    out["rank1_share"] = float(np.mean(rank == 1))
    out["rank10_share"] = float(np.mean(rank <= 10))
    out["rank100_share"] = float(np.mean(rank <= 100))
    out["rank_over1000_share"] = float(np.mean(rank > 1000))
    for name, values in (("logprob", arrays.logprob), ("entropy", arrays.entropy)):
        out[f"{name}_std"] = float(np.std(values))
        for q, v in zip(_QUANTILES, np.quantile(values, _QUANTILES)):
            out[f"{name}_q{round(q * 100):02d}"] = float(v)
    surprise = normalised_surprise(arrays)
    out.update(surprise_features(arrays, surprise))
    out.update(half_change_features(arrays, surprise))
    return out


SURPRISING_LOGPROB = math.log(1e-4)
"""A token is *very surprising* when the model gave it probability below 1e-4 (``surprising_share``)."""
_SURPRISE_QUANTILES = (0.1, 0.5, 0.9)


def normalised_surprise(arrays: TokenArrays) -> np.ndarray:
    """Per token, Fast-DetectGPT's term ``(log p(x_i) - E[log p]) / sqrt(Var[log p])`` (0 where the variance is 0).

    ``E[log p]`` is minus the entropy, so this is ``(logprob + entropy) /
    sqrt(variance)``: how far the actual token's log-probability lies above
    what the model expects at that position, in the model's own standard
    deviations (machine text: above, human text: around or below).
    """
    sd = np.sqrt(arrays.variance)
    return np.divide(arrays.logprob + arrays.entropy, sd, out=np.zeros(len(arrays)), where=sd > 0)


def surprise_features(arrays: TokenArrays, surprise: Optional[np.ndarray] = None) -> dict[str, float]:
    """The distribution of :func:`normalised_surprise` over the document and the share of very surprising tokens.

    ``surprise_mean``, ``surprise_std`` and quantiles ``surprise_q10`` /
    ``_q50`` / ``_q90`` of the per-token normalised surprise; ``surprising_share``:
    the share of tokens with ``log p < log 1e-4`` (burstiness: human text has
    more tokens the model did not expect at all). ``surprise``: the arrays'
    normalised surprise if already computed.
    """
    z = normalised_surprise(arrays) if surprise is None else surprise
    out = {"surprise_mean": float(np.mean(z)), "surprise_std": float(np.std(z))}
    for q, v in zip(_SURPRISE_QUANTILES, np.quantile(z, _SURPRISE_QUANTILES)):
        out[f"surprise_q{round(q * 100):02d}"] = float(v)
    out["surprising_share"] = float(np.mean(arrays.logprob < SURPRISING_LOGPROB))
    return out


def half_change_features(arrays: TokenArrays, surprise: Optional[np.ndarray] = None) -> dict[str, float]:
    """Mean of the second half of the window minus the first half's, for log-prob, entropy and normalised surprise.

    ``logprob_half_change``, ``entropy_half_change``, ``surprise_half_change``;
    the first half is the first ``n // 2`` tokens, and a one-token document has 0.
    The idea tested: a model's text stays as predictable as it starts, while
    the LM gains context on human text as the window goes on (a weak signal on
    the train files: see the model card). ``surprise``: as
    :func:`surprise_features`'s.
    """
    half = len(arrays) // 2
    z = normalised_surprise(arrays) if surprise is None else surprise
    out = {}
    for name, values in (("logprob", arrays.logprob), ("entropy", arrays.entropy), ("surprise", z)):
        out[f"{name}_half_change"] = float(np.mean(values[half:]) - np.mean(values[:half])) if half else 0.0
    return out
