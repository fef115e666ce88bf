"""Fitting the cascade's combiner: LM statistics of labelled texts, an L2 logistic model, out-of-fold figures.

The combiner must be fitted on texts stage 1 never saw: fastText's scores on
its own training data are near-perfect (AUROC 0.999 on the train files
against 0.85 on dev), so a combiner fitted there would learn to trust it
blindly. ``provsieve train-cascade`` therefore fits either on the dev files
or on the train files with cross-fitted (out-of-fold) stage-1 scores, and
reports every figure out of fold (K folds of whole upstream groups) and
leave one source out (fitted on the other sources: a stand-in for
generators and domains never seen). The LM's per-token arrays come from
:mod:`provsieve.transforms.lm_token_cache`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_cascade import predict_pieces
from provsieve.transforms.ai_detector_crossfit import crossfit_fold

Record = dict[str, Any]


def stratified_sample(records: Sequence[Record], per_group: int, keys: Sequence[str] = ("source", "label"),
                      salt: str = "cascade") -> list[Record]:
    """At most ``per_group`` records of each (source, label) group, the same ones on every run (hash order)."""
    groups: dict[tuple, list[Record]] = {}
    for r in records:
        groups.setdefault(tuple(str(r.get(k)) for k in keys), []).append(r)
    out = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda r: hashlib.sha256(f"{salt}:{r['id']}".encode()).hexdigest())
        out.extend(ranked[:per_group])
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 weights: Optional[np.ndarray] = None) -> dict[str, Any]:
    """L2-penalised logistic regression on standardised features (scipy L-BFGS); the intercept is not penalised.

    Returns ``mean``, ``scale``, ``coef`` and ``intercept`` as in the shipped
    JSON (so :class:`~provsieve.transforms.ai_cascade.CascadeCombiner` reads it).
    """
    from scipy.optimize import minimize  # here, not at the top: every provsieve command imports this module

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.mean()
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = z @ theta[1:] + theta[0]
        # log(1 + exp(-m)) for y=1, log(1 + exp(m)) for y=0, computed stably
        signed = np.where(y > 0.5, -margin, margin)
        value = np.sum(w * np.logaddexp(0.0, signed)) / len(y) + 0.5 * l2 * np.dot(theta[1:], theta[1:]) / len(y)
        p = 1.0 / (1.0 + np.exp(-margin))
        g = w * (p - y) / len(y)
        grad = np.concatenate([[g.sum()], z.T @ g + l2 * theta[1:] / len(y)])
        return float(value), grad

    result = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": result.x[1:].tolist(),
            "intercept": float(result.x[0])}


def balanced_weights(y: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Weights that give each (group, label) cell the same total, so no source or label dominates the fit."""
    cells: dict[tuple[str, int], int] = {}
    for g, label in zip(groups, y):
        cells[(g, int(label))] = cells.get((g, int(label)), 0) + 1
    return np.array([1.0 / cells[(g, int(label))] for g, label in zip(groups, y)])


MIN_PIECE = 40
"""A gate piece with fewer training records than this (or one label only) uses the model of all records."""


def fit_pieces(x: np.ndarray, y: np.ndarray, piece: Optional[np.ndarray], n_pieces: int, l2: float,
               weights: Optional[np.ndarray] = None) -> list[dict[str, Any]]:
    """One logistic model per gate piece (``piece`` None: one model), as a gated combiner's ``pieces``."""
    if piece is None or n_pieces == 1:
        return [fit_logistic(x, y, l2, weights)]
    every = None
    out = []
    for k in range(n_pieces):
        mask = piece == k
        if mask.sum() < MIN_PIECE or len(set(y[mask].tolist())) < 2:
            every = every or fit_logistic(x, y, l2, weights)
            out.append(every)
        else:
            out.append(fit_logistic(x[mask], y[mask], l2, None if weights is None else weights[mask]))
    return out


def _held_out(x: np.ndarray, y: np.ndarray, test_sets: Sequence[np.ndarray], l2: float,
              weights: Optional[np.ndarray], piece: Optional[np.ndarray], n_pieces: int) -> np.ndarray:
    out = np.empty(len(y), dtype=np.float64)
    for test in test_sets:
        if not test.any():
            continue
        train = ~test
        models = fit_pieces(x[train], y[train], None if piece is None else piece[train], n_pieces, l2,
                            None if weights is None else weights[train])
        out[test] = predict_pieces(models, x[test], None if piece is None else piece[test])
    return out


def out_of_fold(x: np.ndarray, y: np.ndarray, ids: Sequence[str], folds: int, l2: float,
                weights: Optional[np.ndarray] = None, piece: Optional[np.ndarray] = None,
                n_pieces: int = 1) -> np.ndarray:
    """Out-of-fold predictions: each record scored by the model (per gate piece) fitted on the other folds.

    Folds hold whole upstream groups (:func:`crossfit_fold`: one document's human and machine versions together),
    as stage 1's cross-fitting.
    """
    fold = np.array([crossfit_fold(i, folds) for i in ids])
    return _held_out(x, y, [fold == k for k in range(folds)], l2, weights, piece, n_pieces)


def leave_one_source_out(x: np.ndarray, y: np.ndarray, sources: Sequence[str], l2: float,
                         weights: Optional[np.ndarray] = None, piece: Optional[np.ndarray] = None,
                         n_pieces: int = 1) -> np.ndarray:
    """Each record scored by the model fitted on the other sources only (the held-out sources are unseen ones)."""
    sources = np.asarray(sources)
    return _held_out(x, y, [sources == s for s in sorted(set(sources.tolist()))], l2, weights, piece, n_pieces)


def routing_low(human_stage1: Sequence[float], quantile: float) -> float:
    """The routing band's lower edge: the ``quantile`` of the human stage-1 scores (e.g. 0.7: the top 30 % routed)."""
    return float(np.quantile(np.asarray(human_stage1, dtype=np.float64), quantile))


def pipeline_flags(stage1: Sequence[Optional[float]], stage1_thresholds: Sequence[float],
                   cascade: Sequence[Optional[float]], stage2_thresholds: Sequence[float]) -> list[Optional[float]]:
    """1.0 where ``--ai-detector cascade`` rejects a record, else 0.0 (None: no score).

    As ``decide.cascade_verdict``: stage 2 only adds, so a record is flagged
    when stage 1 flags it at its own threshold or when it was routed
    (``cascade`` score ``1 + p2``) and its stage-2 probability reaches its own
    (length band's) stage-2 threshold.
    """
    # c - 1.0 >= t2, not c >= 1.0 + t2: the threshold is computed on c - 1.0, and adding 1.0 loses its last bit
    return [None if s1 is None else float(s1 >= t1 or (c is not None and c - 1.0 >= t2))
            for s1, t1, c, t2 in zip(stage1, stage1_thresholds, cascade, stage2_thresholds)]


def format_flag_table(rows: Sequence[Any], title: str) -> str:
    """The flagged share (AI rows) and false-positive rate (human rows) of :func:`pipeline_flags` rows."""
    width = max([len(r.group) for r in rows] + [5])
    head = f"{'group':<{width}}  {'human':>6} {'ai':>6}  {'FPR':>7} {'flagged':>7}"
    lines = [title, head, "-" * len(head)]
    for r in rows:
        fpr = "      -" if r.fpr_at_t != r.fpr_at_t else f"{r.fpr_at_t:7.4f}"
        tpr = "      -" if r.tpr_at_t != r.tpr_at_t else f"{r.tpr_at_t:7.4f}"
        lines.append(f"{r.group:<{width}}  {r.n_human:>6} {r.n_ai:>6}  {fpr} {tpr}")
    return "\n".join(lines)

