"""Unigram-normalised LM features (Ghostbuster-style): how much the context, not the word, made a token predictable.

A causal LM's log-probability of a token mixes two things: how common the
token is anywhere (simple vocabulary: student essays, Wikipedia boilerplate)
and how much the preceding text made it predictable (what machine text is
high on). Ghostbuster (Verma et al., NAACL 2024) divides the strong model's
token probabilities by weak models' (unigram, trigram). Here the weak model
is a **unigram table over the LM's own tokenizer vocabulary**, counted on
human text (``provsieve build-unigram``: the train files'
humans and the train split's web pages, never dev), add-k smoothed and kept
as float16 log-probabilities (``models/lm_unigram.npy``, ~96 KB).

Per token ``g_i = logprob_i - log p_uni(token_i)`` (the context gain); per
document :func:`unigram_features`. Position ``i`` of a document's
:class:`~provsieve.transforms.lm_features.TokenArrays` scores ``tokens[i]``
(the scorer prepends its start token), so the per-position unigram
log-probabilities are ``table[tokens]`` over the same token ids.
"""

from __future__ import annotations

import hashlib
import io
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from provsieve.transforms.ai_detector_crossfit import crossfit_fold
from provsieve.transforms.ai_detector_training import Record

UNIGRAM_PACKAGE = "provsieve.transforms"
UNIGRAM_RESOURCE = "models/lm_unigram.npy"
DEFAULT_ADD_K = 0.5
UNIGRAM_FEATURE_NAMES = ("uni_logprob_mean", "uni_gain_mean", "uni_gain_std", "uni_gain_q10", "uni_gain_q50",
                         "uni_gain_q90", "uni_gain_negative_share", "uni_ratio_mean")
_GAIN_QUANTILES = (0.1, 0.5, 0.9)


def needs_unigram(names: Iterable[str]) -> bool:
    """Whether any of these feature names (``a*b`` products included) is a ``uni_*`` feature, needing the table."""
    return any("uni_" in name for name in names)


def token_counts(token_lists: Iterable[Sequence[int]], vocab_size: int) -> np.ndarray:
    """How often each token id occurs over all the lists (int64, ``vocab_size`` long); an id out of range is an error."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    for ids in token_lists:
        arr = np.asarray(ids, dtype=np.int64)
        if arr.size:
            if arr.min() < 0 or arr.max() >= vocab_size:
                raise ValueError(f"token id out of range [0, {vocab_size})")
            counts += np.bincount(arr, minlength=vocab_size)
    return counts


def count_groups(counted: Sequence[tuple[Record, np.ndarray]], folds: int,
                 vocab_size: int) -> dict[tuple[str, int], np.ndarray]:
    """Token counts by (source, cross-fitting fold) of the texts, so a table can leave out a source's or a fold's.

    ``counted``: each text's record and token ids (``build-unigram``'s ``human_token_ids``).
    """
    groups: dict[tuple[str, int], list[np.ndarray]] = {}
    for r, ids in counted:
        groups.setdefault((str(r.get("source")), crossfit_fold(r["id"], folds)), []).append(ids)
    return {key: token_counts(lists, vocab_size) for key, lists in sorted(groups.items())}


def unigram_logprobs(counts: np.ndarray, add_k: float = DEFAULT_ADD_K) -> np.ndarray:
    """Add-k smoothed log-probabilities ``log((c + k) / (N + k V))`` of the counts, as float16 (what is shipped)."""
    counts = np.asarray(counts, dtype=np.float64)
    if add_k <= 0:
        raise ValueError("add_k must be positive (an unseen token needs a probability)")
    logp = np.log(counts + add_k) - np.log(counts.sum() + add_k * counts.size)
    return logp.astype(np.float16)


def save_table(table: np.ndarray, path: Path) -> str:
    """Write the table as ``.npy`` (float16); returns its sha256 (recorded in the combiner's metadata)."""
    path = Path(path)
    np.save(path, np.asarray(table, dtype=np.float16), allow_pickle=False)
    return file_sha256(path)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table_bytes(path: Optional[str] = None, resource: str = UNIGRAM_RESOURCE) -> bytes:
    """The ``.npy`` bytes of the table at ``path``, or of the package's ``resource``."""
    if path is None:
        return resources.files(UNIGRAM_PACKAGE).joinpath(resource).read_bytes()
    return Path(path).read_bytes()


def table_from_bytes(data: bytes) -> np.ndarray:
    """A table from its ``.npy`` bytes; anything but a 1-d float16 array is an error."""
    table = np.load(io.BytesIO(data), allow_pickle=False)
    if table.ndim != 1 or table.dtype != np.float16:
        raise ValueError(f"a unigram table is a 1-d float16 array, got {table.dtype} {table.shape}")
    return table


def load_table(path: Optional[str] = None, resource: str = UNIGRAM_RESOURCE,
               sha256: Optional[str] = None) -> np.ndarray:
    """The table at ``path``, or the package's ``resource``; ``sha256``: the digest it must have."""
    data = table_bytes(path, resource)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"unigram table {path or resource}: sha256 {hashlib.sha256(data).hexdigest()} is not "
                         f"the expected {sha256}")
    return table_from_bytes(data)


def check_table_vocab(table: np.ndarray, vocab_size: int, name: str) -> None:
    """A table not counted over the tokenizer's vocabulary (``vocab_size`` ids) is an error naming it and both sizes.

    Checked once when the model is loaded: otherwise every batch would fail on
    a token id past the table's end (or silently read the wrong token's entry).
    """
    if len(table) != vocab_size:
        raise ValueError(f"unigram table {name}: {len(table)} entries, but the tokenizer has {vocab_size} token ids "
                         f"(count the table with this tokenizer: provsieve build-unigram)")


def per_token_unigram(table: np.ndarray, tokens: Sequence[int]) -> np.ndarray:
    """``log p_uni`` of each token (float64), aligned with the document's per-position LM arrays."""
    return np.asarray(table)[np.asarray(tokens, dtype=np.int64)].astype(np.float64)  # index first: 96 values, not 49k


def unigram_features(logprob: np.ndarray, unigram: np.ndarray) -> dict[str, float]:
    """The document's unigram-normalised features from per-position LM log-probs and unigram log-probs.

    ``uni_logprob_mean``: mean ``log p_uni`` (vocabulary rarity);
    ``uni_gain_*``: mean, std and q10/q50/q90 of ``g = logprob - log p_uni``;
    ``uni_gain_negative_share``: share of tokens the context made *less*
    likely than their frequency (``g < 0``); ``uni_ratio_mean``: Ghostbuster's
    ``mean(logprob / log p_uni)``. Arrays of different or zero length are an error.
    """
    logprob = np.asarray(logprob, dtype=np.float64)
    unigram = np.asarray(unigram, dtype=np.float64)
    if logprob.shape != unigram.shape or logprob.ndim != 1 or logprob.size == 0:
        raise ValueError(f"need two equal non-empty 1-d arrays, got {logprob.shape} and {unigram.shape}")
    gain = logprob - unigram
    out = {"uni_logprob_mean": float(unigram.mean()), "uni_gain_mean": float(gain.mean()),
           "uni_gain_std": float(gain.std())}
    for q, v in zip(_GAIN_QUANTILES, np.quantile(gain, _GAIN_QUANTILES)):
        out[f"uni_gain_q{round(q * 100):02d}"] = float(v)
    out["uni_gain_negative_share"] = float(np.mean(gain < 0))
    out["uni_ratio_mean"] = float(np.mean(logprob / unigram))  # log p_uni < 0 always (add-k, V > 1)
    return out
