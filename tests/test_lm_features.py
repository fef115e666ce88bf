"""LM statistics against hand-computed values and a second implementation (scipy)."""

import math

import numpy as np
import pytest
from scipy.special import log_softmax as scipy_log_softmax

from provsieve.transforms.lm_features import TokenArrays, lm_statistics, statistics_from_tokens, token_arrays, token_features


def _reference(logits: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """The statistics written out position by position, in float64 with scipy's log-softmax."""
    logp = scipy_log_softmax(logits.astype(np.float64), axis=1)
    lls, ents, ranks, mus, vars_ = [], [], [], [], []
    for i, t in enumerate(targets):
        p = np.exp(logp[i])
        lls.append(logp[i, t])
        mu = float(np.sum(p * logp[i]))
        ents.append(-mu)
        mus.append(mu)
        vars_.append(float(np.sum(p * (logp[i] - mu) ** 2)))
        ranks.append(1 + sum(1 for v in logp[i] if v > logp[i, t]))
    return {
        "mean_logprob": float(np.mean(lls)),
        "mean_entropy": float(np.mean(ents)),
        "mean_logrank": float(np.mean(np.log(ranks))),
        "fast_detectgpt": float((np.sum(lls) - np.sum(mus)) / math.sqrt(np.sum(vars_))),
        "binoculars": float(-np.mean(lls) / np.mean(ents)),
    }


def test_hand_made_distribution_has_known_values():
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]])
    logits = np.log(probs) + np.array([[3.0], [-7.0]])  # a shift per row changes nothing
    stats = lm_statistics(logits.astype(np.float32), np.array([0, 1]))
    assert stats.n_tokens == 2
    assert stats.mean_logprob == pytest.approx((math.log(0.5) + math.log(0.2)) / 2, abs=1e-6)
    entropy = [-(0.5 * math.log(0.5) + 0.5 * math.log(0.25)), -sum(p * math.log(p) for p in (0.1, 0.2, 0.7))]
    assert stats.mean_entropy == pytest.approx(sum(entropy) / 2, abs=1e-6)
    assert stats.mean_logrank == pytest.approx((math.log(1) + math.log(2)) / 2, abs=1e-9)  # ranks 1 and 2
    assert stats.binoculars == pytest.approx(-stats.mean_logprob / stats.mean_entropy, rel=1e-9)


def test_matches_scipy_reference_on_random_logits():
    rng = np.random.default_rng(7)
    logits = (rng.normal(size=(40, 500)) * 4).astype(np.float32)
    targets = rng.integers(0, 500, size=40)
    stats = lm_statistics(logits, targets)
    ref = _reference(logits, targets)
    for name, value in ref.items():
        assert getattr(stats, name) == pytest.approx(value, rel=1e-4, abs=1e-4), name


def test_predictable_text_scores_as_predictable():
    """Targets that are the model's top choice give rank 1, high log-prob and a positive curvature."""
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(30, 200)).astype(np.float32)
    top = logits.argmax(axis=1)
    low = logits.argmin(axis=1)
    best, worst = lm_statistics(logits, top), lm_statistics(logits, low)
    assert best.mean_logrank == 0.0
    assert best.mean_logprob > worst.mean_logprob
    assert best.fast_detectgpt > 0 > worst.fast_detectgpt


def test_large_logits_do_not_overflow_and_shapes_are_checked():
    logits = np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32)
    stats = lm_statistics(logits, np.array([0]))
    assert stats.mean_logprob == pytest.approx(0.0, abs=1e-6) and math.isfinite(stats.fast_detectgpt)
    with pytest.raises(ValueError):
        lm_statistics(np.zeros((0, 3), dtype=np.float32), np.array([], dtype=np.int64))
    with pytest.raises(ValueError):
        lm_statistics(np.zeros((2, 3), dtype=np.float32), np.array([0]))


def test_matches_float64_reference_at_the_lms_vocabulary_size():
    """64 positions x 49,152 words with a real LM's spread of logits (a few words far above the rest)."""
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(64, 49152)) * 2.0
    logits[:, :20] += rng.uniform(8, 25, size=(64, 20))  # peaked predictions
    targets = rng.integers(0, 40, size=64)
    stats = lm_statistics(logits.astype(np.float32), targets)
    logp = scipy_log_softmax(logits.astype(np.float32).astype(np.float64), axis=1)
    p = np.exp(logp)
    rows = np.arange(64)
    mu = (p * logp).sum(axis=1)
    var = (p * (logp - mu[:, None]) ** 2).sum(axis=1)
    ll = logp[rows, targets]
    assert stats.mean_logprob == pytest.approx(ll.mean(), abs=1e-4)
    assert stats.mean_entropy == pytest.approx(-mu.mean(), abs=1e-4)
    assert stats.fast_detectgpt == pytest.approx((ll.sum() - mu.sum()) / np.sqrt(var.sum()), rel=1e-4)
    ranks = 1 + (logp > ll[:, None]).sum(axis=1)
    assert stats.mean_logrank == pytest.approx(np.log(ranks).mean(), abs=1e-6)


def test_token_arrays_give_the_same_statistics_at_every_prefix():
    """The cache's arrays: a prefix of them gives the statistics of the logits' prefix."""
    rng = np.random.default_rng(5)
    logits = (rng.normal(size=(20, 300)) * 3).astype(np.float32)
    targets = rng.integers(0, 300, size=20)
    arrays = token_arrays(logits, targets)
    assert len(arrays) == 20 and len(arrays.prefix(8)) == 8
    for n in (1, 8, 20):
        assert statistics_from_tokens(arrays.prefix(n)) == lm_statistics(logits[:n], targets[:n])
    ref = scipy_log_softmax(logits.astype(np.float64), axis=1)
    np.testing.assert_allclose(arrays.logprob, ref[np.arange(20), targets], atol=1e-5)
    np.testing.assert_allclose(arrays.entropy, -(np.exp(ref) * ref).sum(axis=1), atol=1e-4)


def test_token_features_on_a_hand_made_document():
    """GLTR buckets, spread and the 32-token prefix on six positions written out by hand."""
    arrays = TokenArrays(logprob=np.array([-1.0, -2.0, -3.0, -4.0, -5.0, -9.0]),
                         entropy=np.array([2.0, 2.0, 3.0, 3.0, 4.0, 4.0]),
                         variance=np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
                         rank=np.array([1, 1, 5, 50, 500, 5000]))
    f = token_features(arrays)
    assert f["rank1_share"] == pytest.approx(2 / 6) and f["rank10_share"] == pytest.approx(3 / 6)
    assert f["rank100_share"] == pytest.approx(4 / 6) and f["rank_over1000_share"] == pytest.approx(1 / 6)
    assert f["mean_logprob"] == pytest.approx(-4.0) and f["mean_entropy"] == pytest.approx(3.0)
    assert f["logprob_q50"] == pytest.approx(-3.5) and f["logprob_q10"] == pytest.approx(-7.0)  # numpy's linear rule
    assert f["logprob_std"] == pytest.approx(math.sqrt(np.mean((np.array([-1, -2, -3, -4, -5, -9]) + 4.0) ** 2)))
    assert f["entropy_q90"] == pytest.approx(4.0)
    # sum(log p) - sum(E log p) over sqrt(sum Var): (-24 + 18) / sqrt(6)
    assert f["fast_detectgpt"] == pytest.approx(-6 / math.sqrt(6))
    assert f["mean_logrank"] == pytest.approx(np.mean(np.log([1, 1, 5, 50, 500, 5000])))
    assert f["fast_detectgpt@32"] == f["fast_detectgpt"]  # shorter than the prefix: the same rows
    assert f["binoculars@32"] == pytest.approx(4.0 / 3.0)


def _plain_surprise_and_halves(logprob, entropy, variance):
    """The normalised-surprise and half-change features written out in plain Python (a second implementation)."""
    z = [(lp + e) / math.sqrt(v) if v > 0 else 0.0 for lp, e, v in zip(logprob, entropy, variance)]
    n = len(z)

    def mean(xs):
        return sum(xs) / len(xs)

    def quantile(xs, q):  # numpy's default (linear) rule
        xs = sorted(xs)
        pos = q * (len(xs) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

    mu = mean(z)
    out = {"surprise_mean": mu, "surprise_std": math.sqrt(mean([(v - mu) ** 2 for v in z])),
           "surprise_q10": quantile(z, 0.1), "surprise_q50": quantile(z, 0.5), "surprise_q90": quantile(z, 0.9),
           "surprising_share": sum(1 for lp in logprob if math.exp(lp) < 1e-4) / n}
    half = n // 2
    for name, xs in (("logprob", logprob), ("entropy", entropy), ("surprise", z)):
        out[f"{name}_half_change"] = mean(xs[half:]) - mean(xs[:half]) if half else 0.0
    return out


@pytest.mark.parametrize("n", [1, 2, 7, 96])
def test_surprise_and_half_change_features_match_a_plain_python_implementation(n):
    rng = np.random.default_rng(n)
    logprob = -rng.exponential(3.0, size=n)
    logprob[0] = -12.0  # one very surprising token (p < 1e-4)
    entropy = rng.uniform(0.5, 6.0, size=n)
    variance = rng.uniform(0.0, 4.0, size=n)
    variance[-1] = 0.0  # a position where the model is certain: its surprise is 0
    arrays = TokenArrays(logprob, entropy, variance, rng.integers(1, 5000, size=n))
    f = token_features(arrays)
    expected = _plain_surprise_and_halves(logprob.tolist(), entropy.tolist(), variance.tolist())
    for name, value in expected.items():
        assert f[name] == pytest.approx(value, abs=1e-12), name
    assert f["surprising_share"] >= 1 / n and f["surprise_q10"] <= f["surprise_q50"] <= f["surprise_q90"]


def test_normalised_surprise_is_fast_detectgpts_term_per_token():
    """Summed over tokens, numerators and denominators as Fast-DetectGPT's: equal curvature when Var is constant."""
    arrays = TokenArrays(logprob=np.array([-1.0, -2.0, -3.0, -4.0]), entropy=np.array([2.0, 2.0, 2.0, 2.0]),
                         variance=np.array([4.0, 4.0, 4.0, 4.0]), rank=np.array([1, 2, 3, 4]))
    f = token_features(arrays)
    assert f["surprise_mean"] == pytest.approx(f["fast_detectgpt"] / math.sqrt(4))  # (sum / 2) / 4 vs sum / sqrt(16)
    assert f["logprob_half_change"] == pytest.approx(-3.5 - (-1.5)) and f["entropy_half_change"] == 0.0
    assert f["surprise_half_change"] == pytest.approx((-0.75 - 0.25))


def test_row_blocks_cover_every_row_with_no_block_of_one_row_but_a_lone_one():
    from provsieve.transforms.lm_features import row_blocks

    assert row_blocks(0) == []
    assert row_blocks(1) == [(0, 1)]
    assert row_blocks(9, 4) == [(0, 4), (4, 9)]  # the 9th row joins the block before
    assert row_blocks(10, 4) == [(0, 4), (4, 8), (8, 10)]
    for n in range(1, 40):
        blocks = row_blocks(n, 4)
        assert [a for a, _ in blocks] == [0] + [b for _, b in blocks[:-1]] and blocks[-1][1] == n
        assert n == 1 or min(b - a for a, b in blocks) >= 2
    with pytest.raises(ValueError):
        row_blocks(5, 1)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 9, 33, 96])
def test_token_arrays_in_blocks_are_bit_identical_to_the_whole_matrix_at_once(n, monkeypatch):
    """The shipped combiner was fitted on arrays of the whole matrix at once: the blocks must not move a bit."""
    from provsieve.transforms import lm_features

    rng = np.random.default_rng(n)
    logits = (rng.standard_normal((n, 49_152)) * 4).astype(np.float32)
    targets = rng.integers(0, 49_152, n)
    blocked = token_arrays(logits, targets)
    monkeypatch.setattr(lm_features, "ROW_BLOCK", 10**6)
    whole = token_arrays(logits, targets)
    for field in TokenArrays._fields:
        assert getattr(blocked, field).dtype == getattr(whole, field).dtype
        np.testing.assert_array_equal(getattr(blocked, field), getattr(whole, field), err_msg=field)
