"""Vectorised MinHash signatures, bit-identical to ``datasketch.MinHash``.

A document's shingles are its word ``ngram``-grams after
:func:`~provsieve.transforms.document.normalize_text` (a document with fewer
words than ``ngram`` has one shingle: all of its words). A shingle is the UTF-8
bytes of its words joined by one space (:func:`shingles`), and its 32-bit hash
is :func:`H`. Then, for every texts ``t``::

    m = datasketch.MinHash(num_perm, seed=seed, hashfunc=H)
    m.update_batch(shingles(t, ngram))
    assert (m.hashvalues == minhash_signatures([t], num_perm, ngram, seed)[0]).all()

(datasketch's default ``affine32`` scheme: ``h -> a * fmix32(h) + b mod 2**32``
with datasketch's own permutations, so signatures are ``uint32``).

Why ``H`` is not SHA-1: ``H`` is defined on *words*, so the hot path hashes each
word once with numpy over the UTF-8 bytes of a whole batch and combines ``ngram``
consecutive word hashes with a few array operations, instead of calling a hash
function once per shingle from Python. ``H`` itself is the pure-Python
reference of exactly that computation:

* word hash ``w(x) = fmix64(poly(x) ^ len(x))`` with
  ``poly(x) = sum(x[k] * P**k) mod 2**64`` over the word's bytes;
* shingle hash ``H(s) = fmix64(len(words) + sum(w(words[k]) * K**(k+1))) >> 32``
  (all mod ``2**64``), where ``words = s.split(b" ")`` (none for ``b""``).

``P`` and ``K`` are odd 64-bit constants and ``fmix64`` is MurmurHash3's
finaliser. Collisions between distinct shingles are as rare as for any 32-bit
hash, which is all MinHash needs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from provsieve.transforms.document import normalize_text

__all__ = [
    "DEFAULT_NGRAM",
    "DEFAULT_NUM_PERM",
    "DEFAULT_SEED",
    "DEFAULT_THRESHOLD",
    "H",
    "estimated_jaccard",
    "lsh_params",
    "minhash_signatures",
    "permutations",
    "shingle_hashes",
    "shingles",
]

DEFAULT_NUM_PERM = 112
DEFAULT_NGRAM = 5
DEFAULT_SEED = 1
DEFAULT_THRESHOLD = 0.69
"""Minimum estimated Jaccard of a verified near-duplicate pair. With :data:`LSH_WEIGHTS` and 112
permutations the bands are 18 x 6 (from 0.67 to 0.71), the S-curve whose midpoint ``(1/18) ** (1/6)`` is 0.62:
pairs a little above the threshold are almost always candidates (datasketch's default weights give 14 x 8,
midpoint 0.72, which misses a fifth of the pairs at J = 0.76)."""

_M64 = (1 << 64) - 1
_P = 0x100000001B3  # FNV-1a prime: odd, so invertible mod 2**64
_K = 0x9E3779B97F4A7C15  # golden ratio, odd
_FMIX64 = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)
_FMIX32 = (0x85EBCA6B, 0xC2B2AE35)
_ROW_CHUNK = 2048
"""Shingles per block of the permutation step: 2048 x 112 uint32 is ~1 MB (L2)."""


# --- the pure-Python reference ------------------------------------------------------

def _fmix64_int(x: int) -> int:
    x ^= x >> 33
    x = (x * _FMIX64[0]) & _M64
    x ^= x >> 33
    x = (x * _FMIX64[1]) & _M64
    return x ^ (x >> 33)


def _word_hash_int(word: bytes) -> int:
    poly = 0
    power = 1
    for byte in word:
        poly = (poly + byte * power) & _M64
        power = (power * _P) & _M64
    return _fmix64_int(poly ^ len(word))


def H(shingle: bytes) -> int:
    """The 32-bit shingle hash (pure Python reference; see the module docstring).

    Pass it as ``hashfunc`` to ``datasketch.MinHash`` to reproduce
    :func:`minhash_signatures` bit for bit.
    """
    words = shingle.split(b" ") if shingle else []
    acc = len(words)
    for k, word in enumerate(words):
        acc = (acc + _word_hash_int(word) * pow(_K, k + 1, 1 << 64)) & _M64
    return _fmix64_int(acc) >> 32


def shingles(text: str, ngram: int = DEFAULT_NGRAM) -> list[bytes]:
    """The shingles of ``text`` as :func:`H` and datasketch take them.

    Word ``ngram``-grams of the normalised text, UTF-8, words joined by one
    space; a text with fewer than ``ngram`` words (even none) has one shingle.
    Duplicates are kept (MinHash ignores them).
    """
    norm = normalize_text(text)
    words = norm.split(" ") if norm else []
    if len(words) < ngram:
        return [" ".join(words).encode("utf-8", "surrogatepass")]
    return [" ".join(words[i:i + ngram]).encode("utf-8", "surrogatepass")
            for i in range(len(words) - ngram + 1)]


# --- the vectorised path ------------------------------------------------------------

def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(33))
    x *= np.uint64(_FMIX64[0])
    x ^= x >> np.uint64(33)
    x *= np.uint64(_FMIX64[1])
    x ^= x >> np.uint64(33)
    return x


def _fmix32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x *= np.uint32(_FMIX32[0])
    x ^= x >> np.uint32(13)
    x *= np.uint32(_FMIX32[1])
    x ^= x >> np.uint32(16)
    return x


class _Powers:
    """``P**j`` and ``P**-j`` mod 2**64 for j < n, grown on demand, shared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fwd = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        fwd, inv = self.fwd, self.inv
        if len(fwd) >= n:
            return fwd, inv
        with self._lock:
            size = max(n, 2 * len(self.fwd), 1 << 16)
            fwd = np.full(size, _P, dtype=np.uint64)
            fwd[0] = 1
            np.cumprod(fwd, out=fwd)
            inv = np.full(size, pow(_P, -1, 1 << 64), dtype=np.uint64)
            inv[0] = 1
            np.cumprod(inv, out=inv)
            self.fwd, self.inv = fwd, inv
        return fwd, inv


_POWERS = _Powers()
_K_POWERS = np.array([pow(_K, k + 1, 1 << 64) for k in range(64)], dtype=np.uint64)


def _word_hashes(norms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of all words of the normalised texts, and word offsets per text."""
    counts = np.fromiter((n.count(" ") + 1 if n else 0 for n in norms),
                         dtype=np.int64, count=len(norms))
    word_offsets = np.zeros(len(norms) + 1, dtype=np.int64)
    np.cumsum(counts, out=word_offsets[1:])
    if word_offsets[-1] == 0:
        return np.zeros(0, dtype=np.uint64), word_offsets
    data = " ".join(n for n in norms if n).encode("utf-8", "surrogatepass")
    buf = np.frombuffer(data, dtype=np.uint8)
    spaces = np.flatnonzero(buf == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [len(buf)]))
    fwd, inv = _POWERS.get(len(buf) + 1)
    prefix = np.zeros(len(buf) + 1, dtype=np.uint64)
    np.cumsum(buf * fwd[:len(buf)], out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * inv[starts]
    return _fmix64(poly ^ (ends - starts).astype(np.uint64)), word_offsets


def shingle_hashes(texts: Sequence[str], ngram: int = DEFAULT_NGRAM, *, normalized: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``H`` of every shingle of every text, vectorised.

    Returns ``(hashes, offsets)``: ``hashes[offsets[i]:offsets[i + 1]]`` are the
    ``uint32`` hashes of ``shingles(texts[i], ngram)``, in order.
    ``normalized=True``: the texts are already :func:`normalize_text`'s output.
    """
    if not 1 <= ngram <= len(_K_POWERS):
        raise ValueError(f"ngram must be in 1..{len(_K_POWERS)}, got {ngram}")
    norms = list(texts) if normalized else [normalize_text(t) for t in texts]
    words, word_offsets = _word_hashes(norms)
    n_words = np.diff(word_offsets)
    n_shingles = np.maximum(n_words - ngram + 1, 1)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(n_shingles, out=offsets[1:])
    total = int(offsets[-1])
    # first word of every shingle, and how many words it has (< ngram only for short texts)
    doc = np.repeat(np.arange(len(texts)), n_shingles)
    first = word_offsets[doc] + (np.arange(total) - offsets[doc])
    length = np.minimum(n_words, ngram)[doc].astype(np.uint64)
    acc = length.copy()
    if len(words):
        short = length < ngram
        for k in range(ngram):
            term = words[np.minimum(first + k, len(words) - 1)] * _K_POWERS[k]
            if short.any():
                term[length <= k] = 0
            acc += term
    return (_fmix64(acc) >> np.uint64(32)).astype(np.uint32), offsets


@lru_cache(maxsize=16)
def permutations(num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED
                 ) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``(a, b)`` for ``MinHash(num_perm, seed=seed)`` (affine32), read from it."""
    from datasketch import MinHash

    a, b = MinHash(num_perm, seed=seed).permutations
    a, b = np.array(a, dtype=np.uint32), np.array(b, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def _min_permuted(hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
                  ) -> np.ndarray:
    """Per-segment column minimum of ``a * fmix32(hashes) + b``, block by block."""
    n_docs = len(offsets) - 1
    out = np.empty((n_docs, len(a)), dtype=np.uint32)
    hv = _fmix32(hashes)
    block = np.empty((_ROW_CHUNK, len(a)), dtype=np.uint32)

    def permuted(r0: int, r1: int) -> np.ndarray:
        blk = block[:r1 - r0]
        np.multiply(hv[r0:r1, None], a, out=blk)
        blk += b
        return blk

    d = 0
    while d < n_docs:
        d2 = int(np.searchsorted(offsets, offsets[d] + _ROW_CHUNK, side="right")) - 1
        d2 = min(max(d2, d + 1), n_docs)
        r0, r1 = int(offsets[d]), int(offsets[d2])
        if r1 - r0 <= _ROW_CHUNK:
            np.minimum.reduceat(permuted(r0, r1), offsets[d:d2] - r0, axis=0, out=out[d:d2])
        else:  # one document longer than a block
            out[d] = np.iinfo(np.uint32).max
            for s in range(r0, r1, _ROW_CHUNK):
                np.minimum(out[d], permuted(s, min(s + _ROW_CHUNK, r1)).min(axis=0), out=out[d])
        d = d2
    return out


def minhash_signatures(texts: Sequence[str], num_perm: int = DEFAULT_NUM_PERM,
                       ngram: int = DEFAULT_NGRAM, seed: int = DEFAULT_SEED, *,
                       normalized: bool = False) -> np.ndarray:
    """MinHash signature matrix of ``texts``: shape ``(len(texts), num_perm)``, ``uint32``.

    Row ``i`` equals ``datasketch.MinHash(num_perm, seed=seed, hashfunc=H)``
    updated with ``shingles(texts[i], ngram)``. Pass batches of a few hundred
    texts: memory is the batch's text plus ~20 bytes per word.
    ``normalized=True``: the texts are already :func:`normalize_text`'s output.
    """
    a, b = permutations(num_perm, seed)
    if not len(texts):
        return np.empty((0, num_perm), dtype=np.uint32)
    hashes, offsets = shingle_hashes(texts, ngram, normalized=normalized)
    return _min_permuted(hashes, offsets, a, b)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray | float:
    """Fraction of equal MinHash values (datasketch's ``MinHash.jaccard``); broadcasts."""
    return np.count_nonzero(sig_a == sig_b, axis=-1) / sig_a.shape[-1]


LSH_WEIGHTS = (0.1, 0.9)
"""Weights of false-positive and false-negative probability mass when choosing bands x rows.

Every candidate pair is verified (estimated Jaccard >= threshold) before it links two documents, so a false
candidate costs one signature comparison and a missed one costs a duplicate: on the 100k benchmark corpus,
datasketch's default (0.5, 0.5) gives 14 x 8 at 0.69 and 36 of the 40 true pairs (word-5-gram J >= 0.8) that
the dedup missed were never candidates; (0.1, 0.9) gives 18 x 6, which makes 4,691 of 4,697 of those pairs
verified candidates against 4,655, for 14 % more candidates and no verified pair across true clusters
(``bench/near_dup_misses.py``)."""


@lru_cache(maxsize=64)
def lsh_params(threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
               weights: tuple[float, float] = LSH_WEIGHTS) -> tuple[int, int]:
    """``(bands, rows)`` as datasketch's ``MinHashLSH(threshold, num_perm, weights)`` picks them.

    Minimises ``weights[0]`` x false-positive + ``weights[1]`` x false-negative probability mass
    (datasketch's ``_optimal_param``; reimplemented here when datasketch is absent). 112 permutations and
    :data:`LSH_WEIGHTS` give 18 x 6 for thresholds 0.66-0.69.
    """
    try:
        from datasketch.lsh import _optimal_param
    except ImportError:  # pragma: no cover - datasketch is a dependency
        return _optimal_param_fallback(threshold, num_perm, weights)
    return _optimal_param(threshold, num_perm, *weights)


def _optimal_param_fallback(threshold: float, num_perm: int, weights: tuple[float, float]) -> tuple[int, int]:
    from scipy.integrate import quad

    def fp(b: int, r: int) -> float:
        return quad(lambda s: 1 - (1 - s ** r) ** b, 0.0, threshold)[0]

    def fn(b: int, r: int) -> float:
        return quad(lambda s: 1 - (1 - (1 - s ** r) ** b), threshold, 1.0)[0]

    best, best_err = (0, 0), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            err = weights[0] * fp(b, r) + weights[1] * fn(b, r)
            if err < best_err:
                best, best_err = (b, r), err
    return best
