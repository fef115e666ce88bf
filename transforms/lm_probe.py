"""The LM's pooled hidden state of a document, recovered from its logits (issue 14's probe features).

SmolLM2 ties its input and output embeddings: the logits of position ``t``
are ``E @ h_t`` with ``h_t`` the final-norm hidden state (576 dims) and ``E``
the (vocab x 576) embedding. CTranslate2's ``Generator.forward_batch`` returns
logits only, so a mean of hidden states over positions is the least-squares
solution of the same mean of logits: ``pinv(E) @ mean_t(logits_t)``, one
(576 x vocab) product per pooled vector. ``E`` is the GGUF's embedding
dequantised to float32, as in the runtime's float32 model, so the recovered
state matches the NumPy reference pass (tests/test_lm_probe.py); through the
int8 model of sessions 7-10 it was close, not exact (model card).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np

POOLS = ("mean", "half", "last")
"""Pooled vectors: mean over all positions, over the second half of the window, the last position's."""


class PooledHidden(NamedTuple):
    mean: np.ndarray
    half: np.ndarray
    last: np.ndarray


def output_embedding(weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """The (vocab, hidden) matrix of the output layer: ``output.weight``, or the tied ``token_embd.weight``."""
    return np.asarray(weights.get("output.weight", weights["token_embd.weight"]), dtype=np.float32)


def logits_inverse(embedding: np.ndarray) -> np.ndarray:
    """pinv(E), (hidden, vocab) float32, computed in float64 (E has full column rank)."""
    return np.linalg.pinv(embedding.astype(np.float64)).astype(np.float32)


def pooled_hidden(logits: np.ndarray, inverse: np.ndarray) -> PooledHidden:
    """The pooled hidden states of one document's (positions, vocab) logits (:data:`POOLS`)."""
    logits = np.asarray(logits, dtype=np.float32)
    n = logits.shape[0]
    weights = np.zeros((3, n), dtype=np.float32)  # the three poolings as one product (BLAS, not numpy's mean)
    weights[0] = 1.0 / n
    weights[1, n // 2:] = 1.0 / (n - n // 2)
    weights[2, -1] = 1.0
    mean, half, last = (inverse @ (weights @ logits).T).T  # (hidden, vocab) @ (vocab, 3): inverse read once
    return PooledHidden(mean, half, last)
