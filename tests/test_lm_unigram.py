"""Unigram-normalised LM features: the table, its loading from the package, the features against plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

from provsieve.transforms import lm_unigram as lu
from provsieve.transforms.ai_cascade import candidate_features
from provsieve.transforms.lm_features import TokenArrays


def _quantile(values: list[float], q: float) -> float:
    """numpy's default (linear) quantile, by hand."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)


def _reference(logprob: list[float], unigram: list[float]) -> dict[str, float]:
    n = len(logprob)
    gain = [a - b for a, b in zip(logprob, unigram)]
    mean = sum(gain) / n
    return {"uni_logprob_mean": sum(unigram) / n, "uni_gain_mean": mean,
            "uni_gain_std": math.sqrt(sum((g - mean) ** 2 for g in gain) / n),
            "uni_gain_q10": _quantile(gain, 0.1), "uni_gain_q50": _quantile(gain, 0.5),
            "uni_gain_q90": _quantile(gain, 0.9),
            "uni_gain_negative_share": sum(1 for g in gain if g < 0) / n,
            "uni_ratio_mean": sum(a / b for a, b in zip(logprob, unigram)) / n}


def test_counts_and_smoothed_table_match_plain_python():
    counts = lu.token_counts([[0, 2, 2], [], [3, 2]], vocab_size=5)
    assert counts.tolist() == [1, 0, 3, 1, 0]
    table = lu.unigram_logprobs(counts, add_k=0.5)
    want = [math.log((c + 0.5) / (5 + 0.5 * 5)) for c in [1, 0, 3, 1, 0]]
    assert table.dtype == np.float16
    np.testing.assert_allclose(table.astype(np.float64), want, atol=2e-3)
    assert math.isclose(float(np.exp(table.astype(np.float64)).sum()), 1.0, abs_tol=5e-3)
    with pytest.raises(ValueError):
        lu.token_counts([[5]], vocab_size=5)
    with pytest.raises(ValueError):
        lu.unigram_logprobs(counts, add_k=0)


def test_a_feature_list_needs_the_table_when_a_name_or_a_product_is_a_unigram_feature():
    assert lu.needs_unigram(["stage1_logit", "log_words*uni_gain_mean"])
    assert lu.needs_unigram(lu.UNIGRAM_FEATURE_NAMES)
    assert not lu.needs_unigram(["stage1_logit", "fast_detectgpt*log_words", ""])


@pytest.mark.parametrize("n", [1, 2, 7, 96])
def test_features_match_the_plain_python_reference(n):
    rng = np.random.default_rng(n)
    logprob = -rng.exponential(2.0, n)
    unigram = -rng.uniform(2.0, 14.0, n)
    got = lu.unigram_features(logprob, unigram)
    want = _reference(logprob.tolist(), unigram.tolist())
    assert set(got) == set(lu.UNIGRAM_FEATURE_NAMES) == set(want)
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-12), name


def test_a_hand_made_document():
    # tokens: a common word the context made likely, a rare word it made likely, a common word it did not expect
    got = lu.unigram_features(np.array([-0.5, -1.0, -9.0]), np.array([-3.0, -12.0, -4.0]))
    assert got["uni_gain_mean"] == pytest.approx((2.5 + 11.0 - 5.0) / 3)
    assert got["uni_gain_negative_share"] == pytest.approx(1 / 3)
    assert got["uni_logprob_mean"] == pytest.approx(-19 / 3)
    assert got["uni_ratio_mean"] == pytest.approx((0.5 / 3 + 1 / 12 + 9 / 4) / 3)
    with pytest.raises(ValueError):
        lu.unigram_features(np.array([-1.0]), np.array([-1.0, -2.0]))
    with pytest.raises(ValueError):
        lu.unigram_features(np.array([]), np.array([]))


def test_candidate_features_take_the_table_by_position(tmp_path):
    arrays = TokenArrays(logprob=np.array([-1.0, -2.0]), entropy=np.array([1.0, 1.5]),
                         variance=np.array([0.5, 0.5]), rank=np.array([1, 3]))
    table = lu.unigram_logprobs(np.array([10, 1, 5, 0]), 0.5)
    path = tmp_path / "t.npy"
    sha = lu.save_table(table, path)
    assert len(sha) == 64 and sha == lu.file_sha256(path)
    loaded = lu.load_table(str(path))
    np.testing.assert_array_equal(loaded, table)
    uni = lu.per_token_unigram(loaded, [2, 0])
    row = candidate_features(0.9, arrays, 30, uni)
    assert row["uni_gain_mean"] == pytest.approx(np.mean([-1.0 - float(table[2]), -2.0 - float(table[0])]))
    assert "uni_gain_mean" not in candidate_features(0.9, arrays, 30)
    with pytest.raises(ValueError):
        candidate_features(0.9, arrays, 30, uni[:1])
    np.save(tmp_path / "f32.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError):
        lu.load_table(str(tmp_path / "f32.npy"))


def test_the_shipped_table_loads_from_the_installed_package():
    import json
    from importlib import resources

    table = lu.load_table()
    meta = json.loads(resources.files(lu.UNIGRAM_PACKAGE).joinpath("models/lm_unigram.json").read_text("utf-8"))
    assert table.shape == (meta["vocab_size"],) and table.dtype == np.float16
    data = resources.files(lu.UNIGRAM_PACKAGE).joinpath(lu.UNIGRAM_RESOURCE).read_bytes()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    assert all("-dev" not in f for f in meta["train_files"])
    assert np.all(np.isfinite(table.astype(np.float64))) and float(table.max()) < 0


class _CharTokenizer:
    """A stand-in tokenizer: one id per character (ord mod 50), for the counting functions."""

    class _Enc:
        def __init__(self, ids: list[int]) -> None:
            self.ids = ids

    def encode_batch(self, texts, add_special_tokens=False):
        return [self._Enc([ord(c) % 50 for c in t]) for t in texts]


def test_counting_takes_each_distinct_human_text_once_by_source_and_fold():
    from provsieve.pipeline.unigram_cli import distinct_humans, human_token_ids
    from provsieve.transforms.ai_detector_crossfit import crossfit_fold

    records = [{"id": "outfox-train-human-1", "text": "ab", "label": "human", "source": "outfox"},
               {"id": "outfox-train-human-2", "text": "ab", "label": "human", "source": "outfox"},  # same text
               {"id": "detectrl-train-x_test-3", "text": "b", "label": "human", "source": "detectrl"},
               {"id": "detectrl-train-x_test-4", "text": "zzz", "label": "ai", "source": "detectrl"},
               {"id": "detectrl-train-x_test-5", "text": "  ", "label": "human", "source": "detectrl"},
               {"id": "outfox-train-human-12", "text": "aa", "label": "human", "source": "outfox"}]
    assert [r["id"] for r in distinct_humans(records)] == ["outfox-train-human-1", "detectrl-train-x_test-3",
                                                           "outfox-train-human-12"]
    counted = human_token_ids(records, _CharTokenizer())
    groups = lu.count_groups(counted, 5, vocab_size=50)
    # keys: (source, crossfit_fold(id, 5)); outfox items 1 and 12 share fold 2, item 2 (fold 1) was a repeated text
    assert [crossfit_fold(i, 5) for i in ("outfox-train-human-1", "outfox-train-human-12", "outfox-train-human-2",
                                          "detectrl-train-x_test-3")] == [2, 2, 1, 0]
    assert list(groups) == [("detectrl", 0), ("outfox", 2)]
    a, b = ord("a") % 50, ord("b") % 50
    assert (groups[("outfox", 2)][a], groups[("outfox", 2)][b], groups[("detectrl", 0)][b]) == (3, 1, 1)
    total = sum(groups.values())
    assert total[a] == 3 and total[b] == 2 and total[ord("z") % 50] == 0 and total.sum() == 5


def test_build_unigram_is_a_provsieve_subcommand_that_refuses_dev_files(tmp_path):
    from provsieve.pipeline.cli import build_parser, main
    from provsieve.pipeline.unigram_cli import build_command

    args = build_parser().parse_args(["build-unigram", "--train", "a-train.jsonl", "--output", "t.npy"])
    assert args.func is build_command and args.add_k == lu.DEFAULT_ADD_K
    with pytest.raises(SystemExit, match="train files only"):
        main(["build-unigram", "--train", "a-dev.jsonl", "--output", str(tmp_path / "t.npy")])
