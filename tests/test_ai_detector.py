"""Fast tests of the AI-text detector: pure functions, shipped model, Beam pieces."""

from __future__ import annotations

import json
import math
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from provsieve.transforms import ai_detector as aid
from provsieve.transforms import ai_detector_training as tr
from provsieve.transforms.document import new_document

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

AI_TEXT = (
    "Artificial intelligence has revolutionized numerous industries by enabling machines to perform tasks "
    "that traditionally required human intelligence. Furthermore, it is important to note that these "
    "advancements offer significant benefits, including increased efficiency, improved accuracy, and "
    "enhanced decision-making capabilities. Overall, the integration of AI into various sectors continues "
    "to shape the future in profound and transformative ways."
)
HUMAN_TEXT = (
    "Home | About us | Contact\n\nOpening hours: Mon-Fri 9am-5pm. We're closed on bank holidays. "
    "Call 01234 567890 or pop in, the kettle's always on. Parking round the back (ask at the desk for a "
    "permit). Prices incl. VAT, delivery extra. Copyright 2018 Smith & Sons Hardware Ltd. All rights reserved."
)


# --- preprocess ------------------------------------------------------------


def test_preprocess_removes_shortcuts():
    plain = "It's a test, isn't it? Yes: \"fine\" - really."
    variants = [
        "It 's a test , is n't it ? Yes : `` fine '' - really .",  # PTB-tokenised punctuation
        "IT'S A TEST, ISN'T IT? YES: “FINE” — REALLY.",  # casing, typographic quotes, em dash
        "\n\n  It's\u00a0a test,\n isn't it?\tYes: \u201cfine\u201d \u2013 really.  \n",  # NBSP, newlines, tabs
    ]
    assert all(aid.preprocess(v) == aid.preprocess(plain) for v in variants[1:])
    # PTB: `` '' become two quote tokens; everything else matches exactly
    assert aid.preprocess(variants[0]).replace("' '", '"') == aid.preprocess(plain)
    out = aid.preprocess(plain)
    assert "\n" not in out and out == out.lower() and out == " ".join(out.split())


def test_preprocess_digits_and_repeats():
    assert aid.preprocess("In 2019!!!!!!!!") == "in 0000 ! ! ! !"


def test_training_uses_the_same_preprocess():
    rec = {"text": "Hello,\u00a0WORLD! Explain like I'm five.", "label": "human"}
    (line,) = tr.record_lines(rec)
    assert line == f"{aid.LABEL_HUMAN} {aid.preprocess('Hello, WORLD!')}"


# --- chunking and combination ----------------------------------------------


def test_chunk_tokens_sizes_and_tail_merge():
    toks = [str(i) for i in range(10)]
    assert [len(c) for c in aid.chunk_tokens(toks, 4)] == [4, 4, 2]
    assert [len(c) for c in aid.chunk_tokens(toks[:9], 4)] == [4, 5]  # tail of 1 < 2 merged
    assert aid.chunk_tokens([], 4) == []
    assert sum(aid.chunk_tokens(toks, 4), []) == toks
    picked = aid.chunk_tokens([str(i) for i in range(100)], 10, max_chunks=3)
    assert [c[0] for c in picked] == ["0", "40", "90"]  # linspace(0, 9, 3) rounds 4.5 to 4


def test_combine_chunk_scores_weighted_mean():
    assert aid.combine_chunk_scores([1.0, 0.0], [3, 1]) == pytest.approx(0.75)
    assert aid.combine_chunk_scores([], []) is None


# --- threshold calibration -------------------------------------------------


def test_calibrated_threshold_direction():
    human = [i / 100 for i in range(100)]  # 0.00 .. 0.99
    t1 = aid.calibrated_threshold(human, 0.01)
    t10 = aid.calibrated_threshold(human, 0.10)
    assert sum(s >= t1 for s in human) == 1  # exactly 1% rejected
    assert sum(s >= t10 for s in human) == 10
    assert t10 < t1  # a higher allowed FPR means a lower threshold
    assert sum(s >= aid.calibrated_threshold(human, 0.0) for s in human) == 0
    with pytest.raises(ValueError):
        aid.calibrated_threshold([], 0.01)


def test_strictest_threshold_is_the_strictest_groups():
    t, per = aid.strictest_threshold({"a": [0.1] * 99 + [0.9], "b": [0.5] * 50 + [0.95] * 50, "c": []}, 0.01)
    assert t == per["b"] > per["a"] and set(per) == {"a", "b"}
    t, per = aid.strictest_threshold({"a": []}, 0.01)
    assert t != t and per == {}  # no scores: NaN, no group


# --- metrics -------------------------------------------------------------------


def test_metrics_perfect_and_known_values():
    y = [0] * 100 + [1] * 10
    perfect = [i / 1000 for i in range(100)] + [0.9] * 10
    assert tr.auroc(y, perfect) == 1.0
    assert tr.tpr_at_fpr(y, perfect, 0.01) == 1.0
    assert tr.auroc([0, 1], [0.5, 0.5]) == 0.5  # ties count half
    # one positive below every negative, the rest above: TPR 0.9 at any FPR
    scores = [0.5] * 100 + [0.0] + [1.0] * 9
    assert tr.auroc(y, scores) == pytest.approx(0.9)
    assert tr.tpr_at_fpr(y, scores, 0.05) == pytest.approx(0.9)
    # negatives 0.00..0.99: a positive at 0.975 needs 2 false positives (2%) to be caught
    y2 = [0] * 100 + [1]
    s2 = [i / 100 for i in range(100)] + [0.975]
    assert tr.tpr_at_fpr(y2, s2, 0.01) == 0.0 and tr.tpr_at_fpr(y2, s2, 0.02) == 1.0


def test_metrics_rows_groups():
    recs = [{"label": "human", "source": "s1", "generator": "human", "domain": "d"}] * 4 + [
        {"label": "ai", "source": "s1", "generator": "g1", "domain": "d"},
        {"label": "ai", "source": "s2", "generator": "g2", "domain": "d"},
    ]
    rows = {r.group: r for r in tr.metrics_rows(recs, [0.1, 0.2, 0.3, 0.4, 0.9, 0.35], 0.5)}
    assert rows["overall"].auroc == pytest.approx((4 + 3) / 8)
    assert rows["generator=g1"].auroc == 1.0  # ranked against all human texts
    assert rows["overall"].fpr_at_t == 0.0 and rows["overall"].tpr_at_t == 0.5
    assert "FPR@0.5000" in tr.format_table(list(rows.values()), 0.5)


def test_web_split_deterministic():
    splits = [tr.web_split(f"doc-{i}") for i in range(1000)]
    assert splits == [tr.web_split(f"doc-{i}") for i in range(1000)]
    assert 400 < splits.count("train") < 600 and splits.count("holdout") > 150


# --- shipped model -------------------------------------------------------------


@pytest.fixture(scope="module")
def detector():
    return aid.AIDetector()


def test_shipped_model_and_metadata():
    meta = json.loads((Path(aid.__file__).parent / "models" / "ai_detector.json").read_text())
    assert aid.MODEL_VERSION == meta["version"]
    assert 0.0 < aid.DEFAULT_THRESHOLD == meta["threshold"] < 1.0
    assert (Path(aid.__file__).parent / "models" / "ai_detector.ftz").stat().st_size <= 10_000_000


def test_shipped_model_scores(detector):
    (s_ai, c_ai), (s_h, c_h), (s_short, c_short), (s_empty, c_empty) = detector.score_texts(
        [AI_TEXT, HUMAN_TEXT, "Thanks, see you soon!", "   "]
    )
    assert 0.0 <= s_h < s_ai <= 1.0 and c_ai and c_h
    assert s_short is not None and not c_short  # scored, but below MIN_WORDS
    assert s_empty is None and not c_empty
    assert detector.version == aid.MODEL_VERSION


def test_long_document_is_chunked(detector):
    long_text = " ".join([HUMAN_TEXT] * 20)
    n_chunks = len(aid.chunk_tokens(aid.preprocess(long_text).split()))
    assert n_chunks > 1
    (score, conf), = detector.score_texts([long_text])
    assert conf and 0.0 <= score <= 1.0


def _score_by_chunking_every_text(detector, texts):
    """score_texts as it was before its one-chunk shortcut: every text split, chunked and re-joined."""
    results = []
    for text in texts:
        chunks = aid.chunk_tokens(aid.preprocess(text).split(), max_chunks=aid.MAX_CHUNKS)
        lines = [" ".join(c) for c in chunks]
        probs = detector.predict_lines(lines)
        score = aid.combine_chunk_scores(probs, [len(c) for c in chunks])
        words = sum(aid.count_words(line) for line in lines)
        results.append((score, score is not None and words >= aid.MIN_WORDS))
    return results


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=4 * aid.CHUNK_TOKENS))
def test_single_chunk_bound_is_chunk_tokens_one_chunk(n):
    assert (len(aid.chunk_tokens([str(i) for i in range(n)])) == 1) == (0 < n < aid.SINGLE_CHUNK_TOKENS)


def test_score_texts_equals_chunking_every_text(detector):
    words = [w for w in ("".join(c for c in w if c.isalpha()) for w in HUMAN_TEXT.split()) if w]  # one token each
    bound = aid.SINGLE_CHUNK_TOKENS
    texts = ["", "  \n ", "Hi.", HUMAN_TEXT, " ".join([HUMAN_TEXT] * 20)]
    for n in (bound - 2, bound - 1, bound, bound + 1, 2 * bound):  # word counts around the one-chunk bound
        texts.append(" ".join(words[i % len(words)] for i in range(n)))
    sizes = [len(aid.preprocess(t).split()) for t in texts]
    assert {bound - 1, bound} <= set(sizes)
    assert detector.score_texts(texts) == _score_by_chunking_every_text(detector, texts)


# --- Beam ----------------------------------------------------------------------


def _doc(i: int, text: str):
    return new_document(source_uri="test://x", source_format="jsonl", source_index=i, text=text)


def test_tag_ai_text_in_pipeline(detector):
    docs = [_doc(0, AI_TEXT), _doc(1, HUMAN_TEXT), _doc(2, "Too short.")]
    expected = [
        (d.doc_id, round(s, 6), aid.MODEL_VERSION, c)
        for d, (s, c) in zip(docs, detector.score_texts([d.text for d in docs]))
    ]
    with BeamTestPipeline() as p:
        out = (
            p
            | beam.Create(docs)
            | aid.TagAIText(batch_size=2)
            | beam.Map(lambda d: (d.doc_id, round(d.ai_score, 6), d.ai_model, d.ai_confident))
        )
        assert_that(out, equal_to(expected))


def test_calibrate_threshold_transform():
    from provsieve.transforms.threshold_calibration import CalibrateThreshold

    scores = [i / 100 for i in range(100)]
    rng = np.random.default_rng(7)
    # sharp scores (many near 0 and at fastText's 1.00001), ties, and a dense run inside one 2^-32 sub-bucket
    sharp = ([float(x) for x in rng.beta(0.05, 0.5, 3000)] + [1.00001] * 40 + [0.5 + k * 2.0**-40 for k in range(50)]
             + [0.25] * 30 + [None, float("nan")])
    with BeamTestPipeline() as p:
        thr = p | "S" >> beam.Create(scores) | "C" >> CalibrateThreshold(0.05)
        empty = p | "E" >> beam.Create([]).with_output_types(float) | "CE" >> CalibrateThreshold(0.05)
        side = (
            p
            | "One" >> beam.Create([0.97])
            | beam.Map(lambda s, t: s >= t, t=beam.pvalue.AsSingleton(thr))
        )
        many = [p | f"Sharp {fpr}" >> beam.Create(sharp) | f"C {fpr}" >> CalibrateThreshold(fpr)
                for fpr in (0.0, 0.001, 0.01, 0.3, 1.0)]
        assert_that(thr, equal_to([aid.calibrated_threshold(scores, 0.05)]), label="thr")
        assert_that(empty, equal_to([aid.DEFAULT_THRESHOLD]), label="empty")
        assert_that(side, equal_to([True]), label="side")
        for fpr, got in zip((0.0, 0.001, 0.01, 0.3, 1.0), many):
            assert_that(got, equal_to([aid.calibrated_threshold(sharp, fpr)]), label=f"sharp {fpr}")


def test_threshold_in_rounds_equals_the_one_list():
    """The rounds of bounded counts give the exact quantile: every rank, every tie, every kind of spread."""
    from provsieve.transforms.threshold_calibration import threshold_in_rounds

    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(1, 400))
        kind = trial % 4
        if kind == 0:
            scores = rng.random(n)
        elif kind == 1:
            scores = rng.beta(0.05, 0.3, n)
        elif kind == 2:
            scores = rng.choice([0.0, 0.1, 0.999, 1.0, 1.00001], n)
        else:
            scores = 0.75 + rng.integers(0, 5, n) * 2.0**-45
        scores = [float(s) for s in scores]
        for fpr in (0.0, 0.005, 0.01, 0.05, 0.5, 0.999, 1.0):
            assert threshold_in_rounds(scores, fpr) == aid.calibrated_threshold(scores, fpr), (trial, fpr)
    assert threshold_in_rounds([], 0.01) == aid.DEFAULT_THRESHOLD


# --- shared data (skipped when absent) ----------------------------------------


def test_shared_dev_sample_separates(detector):
    dev = SHARED_DATA / "ai-text" / "outfox-valid-dev.jsonl"
    if not dev.exists():
        pytest.skip("shared data not available")
    recs = tr.load_records(dev)[:120]
    scores = [s for s, _ in detector.score_texts([r["text"] for r in recs])]
    assert tr.auroc([r["label"] == "ai" for r in recs], scores) > 0.8
    assert not math.isnan(np.mean(scores))


def _preprocess_by_regex(text):
    """preprocess() as first written, all regular expressions: the ASCII table path must equal it."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    text = aid._MAPPED_CHAR.sub(lambda m: aid._REPLACEMENT[m[0]], text)
    text = re.sub(r"([^\w\s])", r" \1 ", text.lower())
    text = " ".join(re.sub(r"\d", "0", text).split())
    text = re.sub(r"(\w) n ' t\b", r"\1n ' t", text)
    return re.sub(r"(\S)( \1){3,}", r"\1 \1 \1 \1", text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aAb1 9,.!!``'_-\n\t\x00\x1c\x7f n't")) | st.text(max_size=80) | st.text(
    alphabet=st.characters(max_codepoint=0x7F)))
def test_fast_preprocess_equals_the_regex_definition(text):
    line = aid.preprocess(text)
    assert line == _preprocess_by_regex(text)
    assert aid.count_words(line) == sum(1 for tok in line.split() if any(c.isalnum() or c == "_" for c in tok))
