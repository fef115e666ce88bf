"""The AI detector's second stage: which documents go to the language model, and how its verdict is combined.

Stage 1 is the fastText score (``ai_score``). Stage 2 computes a small LM's
statistics of the document (:mod:`provsieve.transforms.lm_features`) and
combines them with stage 1 by a logistic model (``ai_stage2_score``). This
module holds the pure parts: the feature vector, the combiner (coefficients
shipped as ``models/ai_cascade.json``, fitted by ``provsieve train-cascade``)
and the routing rule. The LM itself is in :mod:`provsieve.transforms.lm_handler`.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_detector import ThresholdPolicy
from provsieve.transforms.document import Document
from provsieve.transforms.lm_features import TokenArrays, token_features
from provsieve.transforms.lm_unigram import (UNIGRAM_PACKAGE, load_table, needs_unigram, per_token_unigram,
                                             unigram_features)
from provsieve.transforms.date_tiers import is_trusted_human
from provsieve.transforms.decide import ai_verdict

CASCADE_PACKAGE = "provsieve.transforms"
CASCADE_RESOURCE = "models/ai_cascade.json"

_LOGIT_CLIP = 1e-6


def stage1_logit(score: float) -> float:
    """log(p / (1 - p)) of the stage-1 probability, clipped to +-13.8 (p in [1e-6, 1 - 1e-6])."""
    p = min(max(float(score), _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return math.log(p / (1.0 - p))


def candidate_features(stage1_score: float, arrays: TokenArrays, words: int,
                       unigram: Optional[np.ndarray] = None) -> dict[str, float]:
    """Every feature the combiner may use, by name; the shipped model picks a subset (chosen on dev).

    Stage 1's logit, the LM features of the document's token arrays
    (:func:`~provsieve.transforms.lm_features.token_features`), ``log_words``
    (the length in preprocessed words) and ``log_tokens`` (LM tokens scored).
    The lengths are domain-free gates: a feature named ``a*b`` is the product
    of two of these (e.g. ``fast_detectgpt*log_words``), which lets the model
    trust the LM more or less by length instead of one global weighting.
    ``unigram``: the per-position unigram log-probabilities of the same tokens
    (:func:`~provsieve.transforms.lm_unigram.per_token_unigram`), which add the
    ``uni_*`` features (:func:`~provsieve.transforms.lm_unigram.unigram_features`).
    """
    out = {"stage1_logit": stage1_logit(stage1_score), **token_features(arrays)}
    if unigram is not None:
        if len(unigram) != len(arrays):
            raise ValueError(f"{len(unigram)} unigram log-probabilities for {len(arrays)} scored tokens")
        out.update(unigram_features(arrays.logprob, unigram))
    out["log_words"] = math.log1p(max(words, 0))
    out["log_tokens"] = math.log1p(len(arrays))
    return out


def feature_value(row: Mapping[str, float], name: str) -> float:
    """A feature of ``row`` by name, ``a*b`` being the product of ``a`` and ``b``."""
    if name in row:
        return row[name]
    left, sep, right = name.partition("*")
    if not sep:
        raise KeyError(f"unknown cascade feature {name!r}")
    return feature_value(row, left) * feature_value(row, right)


def feature_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    """The rows' features ``names``, in that order (unstandardised): one row per document."""
    rows = list(rows)
    return np.array([[feature_value(row, name) for name in names] for row in rows],
                    dtype=np.float64).reshape(len(rows), len(names))


def logistic(x: np.ndarray, mean: Any, scale: Any, coef: Any, intercept: float) -> np.ndarray:
    """P(ai) of a logistic model on standardised features (the combiner's, and the one being fitted)."""
    z = ((np.asarray(x, dtype=np.float64) - np.asarray(mean)) / np.asarray(scale)) @ np.asarray(coef) + intercept
    return 1.0 / (1.0 + np.exp(-z))


def predict_logistic(model: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """:func:`logistic` of a model given as ``{"mean", "scale", "coef", "intercept"}`` (a combiner piece)."""
    return logistic(x, model["mean"], model["scale"], model["coef"], model["intercept"])


def predict_pieces(models: Sequence[Mapping[str, Any]], x: np.ndarray, piece: Optional[np.ndarray]) -> np.ndarray:
    """P(ai) of each row of ``x`` by the model of its gate piece (``piece``: the piece index of each row)."""
    if piece is None or len(models) == 1:
        return predict_logistic(models[0], x)
    out = np.empty(len(x), dtype=np.float64)
    for k, model in enumerate(models):
        mask = piece == k
        if mask.any():
            out[mask] = predict_logistic(model, x[mask])
    return out


def piece_of(gate_values: Any, edges: Sequence[float]) -> np.ndarray:
    """The piece of a gated combiner each gate value falls in: 0 below ``edges[0]``, ..., ``len(edges)`` above the last."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), np.asarray(gate_values, dtype=np.float64), side="right")


class CascadeCombiner:
    """A fitted combiner: standardised features -> P(ai), one logistic model or one per piece of a gate.

    A gated (piecewise) combiner has ``gate`` = ``{"feature": name, "edges": [...]}``
    (e.g. ``log_words`` at 80 and 160 words) and ``pieces``, one logistic
    model (``mean``, ``scale``, ``coef``, ``intercept``) per interval of the gate
    feature: it learns when to trust which signal by length or stage-1 score.
    """

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.meta = dict(meta)
        self.version: str = str(meta["version"])
        self.features: list[str] = list(meta["features"])
        gate = meta.get("gate")
        self.gate_feature: Optional[str] = None if gate is None else str(gate["feature"])
        self.edges: list[float] = [] if gate is None else [float(e) for e in gate["edges"]]
        pieces = meta["pieces"] if gate is not None else [meta]
        self.pieces = [{**{k: np.asarray(m[k], dtype=np.float64) for k in ("mean", "scale", "coef")},
                        "intercept": float(m["intercept"])} for m in pieces]
        self.policy = ThresholdPolicy.from_metadata(dict(meta), float(meta["threshold"]))
        """The stage-2 threshold by length band (``threshold_bands``, as stage 1's), else the one ``threshold``."""
        self.threshold = self.policy.highest
        band = meta.get("band", [0.0, 1.0])
        self.band: tuple[float, float] = (float(band[0]), float(band[1]))
        self.max_tokens = int(meta.get("lm", {}).get("max_tokens", 128))
        self.unigram_meta: Optional[dict[str, Any]] = meta.get("unigram")
        """The unigram table of the ``uni_*`` features (``file``, ``sha256``, how it was counted), or None."""
        self._unigram: Optional[np.ndarray] = None
        self._folder: Optional[Path] = None
        if self.uses_unigram and self.unigram_meta is None:
            raise ValueError("combiner metadata: uni_* features need a 'unigram' table entry")
        if len(self.pieces) != len(self.edges) + 1:
            raise ValueError("combiner metadata: a gate with n edges needs n + 1 pieces")
        if any(not (len(self.features) == m["mean"].size == m["scale"].size == m["coef"].size) for m in self.pieces):
            raise ValueError("combiner metadata: features, mean, scale and coef differ in length")

    @classmethod
    def load(cls, path: Optional[str] = None) -> "CascadeCombiner":
        """The combiner at ``path`` (JSON), or the one shipped in the package."""
        if path is None:
            text = resources.files(CASCADE_PACKAGE).joinpath(CASCADE_RESOURCE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        combiner = cls(json.loads(text))
        combiner._folder = None if path is None else Path(path).parent
        if combiner.uses_unigram:  # a missing table is an error when the pipeline is built, not at worker setup
            combiner.unigram_path()
        return combiner

    @property
    def uses_unigram(self) -> bool:
        """Whether a feature (or a gate) needs the unigram table."""
        return needs_unigram([*self.features, self.gate_feature or ""])

    def unigram_path(self) -> Optional[Path]:
        """Where the metadata's table is: beside the combiner's file (a path), else in the package (None).

        Neither is an error naming the file and both places looked in.
        """
        if self.unigram_meta is None:
            raise ValueError(f"the combiner {self.version!r} has no unigram table")
        name = str(self.unigram_meta["file"])
        local = None if self._folder is None else self._folder / name
        if local is not None and local.is_file():
            return local
        if resources.files(UNIGRAM_PACKAGE).joinpath(f"models/{name}").is_file():
            return None
        beside = "" if local is None else f"{local} (beside the combiner) nor "
        raise FileNotFoundError(f"the combiner {self.version!r} needs the unigram table {name!r}, found neither at "
                                f"{beside}{UNIGRAM_PACKAGE}/models/{name} (in the package): put the table "
                                f"train-cascade --unigram read beside the combiner's JSON")

    def unigram_table(self) -> np.ndarray:
        """The table named by the metadata (:meth:`unigram_path`), sha256 checked; read once."""
        if self._unigram is None:
            local = self.unigram_path()
            name = str(self.unigram_meta["file"])
            self._unigram = load_table(None if local is None else str(local), resource=f"models/{name}",
                                       sha256=str(self.unigram_meta["sha256"]))
        return self._unigram

    def unigram_of(self, tokens: Sequence[int]) -> Optional[np.ndarray]:
        """The per-position unigram log-probabilities of ``tokens`` if the combiner uses them, else None."""
        return per_token_unigram(self.unigram_table(), tokens) if self.uses_unigram else None

    def predict_rows(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """P(ai) of feature rows (:func:`candidate_features`), each by its gate piece's model."""
        rows = list(rows)
        x = feature_matrix(rows, self.features)
        piece = piece_of([feature_value(r, self.gate_feature) for r in rows], self.edges) if self.gate_feature else None
        return predict_pieces(self.pieces, x, piece)

    def score(self, stage1_score: float, arrays: TokenArrays, words: int,
              unigram: Optional[np.ndarray] = None) -> float:
        """P(ai) of one document from its stage-1 score and token arrays (cut to the combiner's ``max_tokens``).

        ``unigram``: the per-position unigram log-probabilities of the same
        tokens (:meth:`unigram_of`), needed when the combiner uses them.
        """
        if self.uses_unigram and unigram is None:
            raise ValueError(f"the combiner {self.version!r} needs the tokens' unigram log-probabilities")
        n = self.max_tokens
        row = candidate_features(stage1_score, arrays.prefix(n), words,
                                 None if not self.uses_unigram else np.asarray(unigram)[:n])
        return float(self.predict_rows([row])[0])


def in_band(score: Optional[float], band: tuple[float, float]) -> bool:
    """Stage-1 score within the routing band (inclusive)."""
    return score is not None and band[0] <= score <= band[1]


def should_route(doc: Document, band: tuple[float, float], trust: str,
                 stage1_policy: Optional[ThresholdPolicy] = None) -> bool:
    """Whether stage 2 scores ``doc``: only a live document that could be rejected for its stage-1 band.

    Not already rejected, judged confidently by stage 1 (long enough, and, with
    language ID, a supported language), not exempt under the trust policy, and
    its ``ai_score`` within ``band``. With ``stage1_policy`` (the run's stage-1 thresholds, given when the run
    rejects and knows them before it starts), not a document stage 1 rejects at them either: stage 2 only adds
    (:func:`~provsieve.transforms.decide.cascade_verdict`), so its score could not change that verdict.
    """
    if not (doc.reject_reason is None and bool(doc.ai_confident) and in_band(doc.ai_score, band)
            and not is_trusted_human(doc, trust)):
        return False
    return stage1_policy is None or ai_verdict(doc, stage1_policy, trust).reject_reason is None
