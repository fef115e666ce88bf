"""MinHash signatures: bit-identity with datasketch, shingling, LSH parameters."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from provsieve.transforms.minhash import (
    DEFAULT_THRESHOLD,
    H,
    LSH_WEIGHTS,
    estimated_jaccard,
    lsh_params,
    minhash_signatures,
    shingle_hashes,
    shingles,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def datasketch_signature(text: str, num_perm: int = 112, ngram: int = 5, seed: int = 1) -> np.ndarray:
    m = MinHash(num_perm, seed=seed, hashfunc=H)
    m.update_batch(shingles(text, ngram))
    return m.hashvalues


def assert_identical(texts, num_perm=112, ngram=5, seed=1):
    sigs = minhash_signatures(texts, num_perm, ngram, seed)
    assert sigs.shape == (len(texts), num_perm)
    assert sigs.dtype == datasketch_signature("x", num_perm, ngram, seed).dtype
    for text, sig in zip(texts, sigs):
        assert np.array_equal(sig, datasketch_signature(text, num_perm, ngram, seed)), text[:80]


def generated_texts(n: int = 60, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzÄéßΣσςİıǅﬁ０１２日本語😀"
    punct = [" ", "  ", ", ", ". ", "\n\n", "\t", " — ", "'s ", "_", "-"]
    texts = ["", "   ", "!!!", "one", "one two three four", "one two three four five",
             "ONE two, THREE four; five six", "x" * 3000]
    for _ in range(n):
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                 for _ in range(rng.choice([1, 3, 4, 5, 6, 50, 400]))]
        texts.append("".join(w + rng.choice(punct) for w in words))
    texts.append(" ".join(f"w{i}" for i in range(5000)))  # longer than one block
    return texts


def test_bit_identical_on_generated_texts():
    assert_identical(generated_texts())


def test_bit_identical_other_parameters():
    texts = generated_texts(15, seed=3)
    assert_identical(texts, num_perm=64, ngram=3, seed=42)
    assert_identical(texts, num_perm=128, ngram=1, seed=0)


def _real_texts(limit_per_file: int = 60) -> list[str]:
    texts = []
    for path in sorted((SHARED_DATA / "ai-text").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for i, line in zip(range(limit_per_file), f):
                texts.append(json.loads(line)["text"])
    for path in sorted((SHARED_DATA / "crawl").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for i, line in zip(range(limit_per_file), f):
                texts.append(json.loads(line)["text"])
    return texts


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="no ../shared/data")
def test_bit_identical_on_real_texts():
    texts = _real_texts()
    assert len(texts) > 400
    assert_identical(texts)


def test_batching_does_not_change_signatures():
    texts = generated_texts(30, seed=11)
    whole = minhash_signatures(texts)
    one_by_one = np.vstack([minhash_signatures([t]) for t in texts])
    assert np.array_equal(whole, one_by_one)
    assert minhash_signatures([]).shape == (0, 112)


def test_prenormalized_texts_give_the_same_signatures():
    from provsieve.transforms.document import normalize_text

    texts = generated_texts(30, seed=12) + ["Ünïcödé — TEXT, with   punctuation!", ""]
    norms = [normalize_text(t) for t in texts]
    assert np.array_equal(minhash_signatures(texts), minhash_signatures(norms, normalized=True))


def test_shingles_and_vectorised_hashes():
    assert shingles("A b, c!", 5) == [b"a b c"]  # short text: one shingle of all words
    assert shingles("", 5) == [b""]
    assert shingles("one two three four five six", 5) == [b"one two three four five",
                                                          b"two three four five six"]
    texts = ["A b, c!", "", "one two three four five six", "Ünïcödé ﬁne"]
    hashes, offsets = shingle_hashes(texts, 5)
    assert list(np.diff(offsets)) == [1, 1, 2, 1]
    assert hashes.tolist() == [H(s) for t in texts for s in shingles(t, 5)]


def test_h_is_32_bit_and_word_order_sensitive():
    values = {H(b"a b c d e"), H(b"e d c b a"), H(b"a b c d"), H(b"ab c d e"), H(b"")}
    assert len(values) == 5
    assert all(0 <= v < 2 ** 32 for v in values)


def test_estimated_jaccard():
    a, b = minhash_signatures(["the quick brown fox jumps over the lazy dog " * 3,
                               "the quick brown fox jumps over the lazy cat " * 3])
    assert estimated_jaccard(a, a) == 1.0
    assert 0.0 < estimated_jaccard(a, b) < 1.0


def test_lsh_params_match_datasketch():
    from datasketch import MinHashLSH

    assert lsh_params(DEFAULT_THRESHOLD, 112) == (18, 6)
    assert lsh_params(DEFAULT_THRESHOLD, 112, (0.5, 0.5)) == (14, 8)  # datasketch's default weights
    for t in (0.5, 0.72, 0.8, 0.9):
        lsh = MinHashLSH(threshold=t, num_perm=112, weights=LSH_WEIGHTS)
        assert lsh_params(t, 112) == (lsh.b, lsh.r)
