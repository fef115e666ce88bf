"""The stage-1 threshold policy: thresholds by document length, chosen per band on dev, used by the decision and the run."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from provsieve.transforms import ai_detector as aid
from provsieve.transforms import ai_detector_training as tr
from provsieve.transforms.decide import ai_verdict, cascade_verdict
from provsieve.transforms.document import new_document

POLICY = aid.ThresholdPolicy(((0, 0.99), (40, 0.95), (160, 0.8)))


def _doc(words: int, score: float, **tags):
    tags = {"pre_cutoff_evidence": "none", **tags}
    return new_document(source_uri="test://p", source_format="jsonl", source_index=words,
                        text=" ".join(["word"] * words), ai_score=score, ai_confident=True, **tags)


def test_policy_picks_the_band_of_the_document_length():
    assert [POLICY.threshold_for(n) for n in (0, 39, 40, 159, 160, 10_000)] == [0.99, 0.99, 0.95, 0.95, 0.8, 0.8]
    assert POLICY.threshold_for_text("a  b\nc") == 0.99 and aid.text_words(" one two\tthree\n") == 3
    assert POLICY.highest == 0.99
    assert POLICY.describe() == "0-39 words: 0.9900; 40-159 words: 0.9500; >= 160 words: 0.8000"
    assert aid.ThresholdPolicy.from_metadata({"threshold_bands": POLICY.to_json(), "threshold": 0.99}, 0.5) == POLICY
    assert aid.ThresholdPolicy.from_metadata({"threshold": 0.97}, 0.5) == aid.ThresholdPolicy.constant(0.97)
    assert aid.ThresholdPolicy.from_metadata({}, 0.5).threshold_for(1000) == 0.5
    for bad in (((10, 0.9),), ((0, 0.9), (50, 0.8), (50, 0.7)), ()):
        with pytest.raises(ValueError):
            aid.ThresholdPolicy(bad)


def test_band_thresholds_hold_each_group_and_never_fall_with_shortness():
    short_humans = [(20, i / 100) for i in range(100)]  # 0.00..0.99: 1 % FPR just above 0.98
    long_humans = [(300, i / 200) for i in range(100)]  # 0.000..0.495
    web_long = [(500, 0.6)] * 5  # a small group: the threshold goes above its highest score
    policy, detail = aid.band_thresholds({"dev": short_humans + long_humans, "web": web_long}, [0, 100], 0.01)
    assert policy.bands[0] == (0, pytest.approx(0.98, abs=1e-9))
    assert policy.bands[1][1] > 0.6 and detail["100"]["web"] > 0.6 > detail["100"]["dev"]
    for name, pairs in {"dev": short_humans + long_humans, "web": web_long}.items():
        flagged = [s >= policy.threshold_for(w) for w, s in pairs]
        assert sum(flagged) <= 0.01 * len(pairs)
    # a longer band with a stricter raw threshold lifts the shorter one: never lower for shorter texts
    lifted, _ = aid.band_thresholds({"dev": [(10, 0.1)] * 200 + [(200, 0.9)] * 200}, [0, 100], 0.01)
    assert lifted.bands[0][1] >= lifted.bands[1][1] > 0.9
    with pytest.raises(ValueError):
        aid.band_thresholds({"dev": [(10, 0.5)]}, [100], 0.01)


def test_verdict_applies_the_band_and_a_single_threshold_overrides_it():
    assert ai_verdict(_doc(30, 0.97), POLICY, "captured").reject_reason is None  # short: needs 0.99
    assert ai_verdict(_doc(30, 0.995), POLICY, "captured").reject_reason == "ai_generated"
    assert ai_verdict(_doc(200, 0.85), POLICY, "captured").reject_reason == "ai_generated"  # long: 0.8
    assert ai_verdict(_doc(200, 0.85), aid.ThresholdPolicy.constant(0.9), "captured").reject_reason is None  # --ai-threshold: one number
    assert ai_verdict(_doc(200, 0.85, pre_cutoff_evidence="captured"), POLICY, "captured").reject_reason is None
    routed = _doc(200, 0.85, ai_routed=True, ai_stage2_score=None)  # not scored by the LM: stage 1's band decides
    assert cascade_verdict(routed, POLICY, "captured", aid.ThresholdPolicy.constant(0.5)).reject_reason == "ai_generated"


def test_metrics_rows_take_one_threshold_per_record():
    recs = [{"label": "human", "source": "s"}] * 2 + [{"label": "ai", "source": "s"}] * 2
    rows = {r.group: r for r in tr.metrics_rows(recs, [0.5, 0.9, 0.85, 0.7], [0.6, 0.95, 0.8, 0.8])}
    assert rows["overall"].fpr_at_t == 0.0 and rows["overall"].tpr_at_t == 0.5
    single = {r.group: r for r in tr.metrics_rows(recs, [0.5, 0.9, 0.85, 0.7], 0.6)}
    assert single["overall"].fpr_at_t == 0.5 and single["overall"].tpr_at_t == 1.0


def test_shipped_policy_is_in_the_metadata_and_stricter_for_short_texts():
    policy = aid.DEFAULT_POLICY
    assert len(policy.bands) > 1 and policy.highest == aid.DEFAULT_THRESHOLD
    thresholds = [t for _, t in policy.bands]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[0] > thresholds[-1]
    assert aid.AIDetector().policy == policy


def test_the_run_decides_by_length_and_records_the_policy(tmp_path, monkeypatch):
    from provsieve.pipeline import run as run_lib
    from provsieve.pipeline.options import RunConfig
    from provsieve.pipeline.manifest import threshold_label
    from provsieve.pipeline.summary import format_summary
    from test_pipeline import _crawl

    # every confident document of >= 30 words is flagged, shorter ones never: the band, not the score, decides
    monkeypatch.setattr(run_lib, "DEFAULT_POLICY", aid.ThresholdPolicy(((0, 1.5), (30, 0.0))))
    manifest = run_lib.run(RunConfig(inputs=tuple(_crawl(tmp_path)), output=str(tmp_path / "out"), mode="tag",
                                     trust="none", report=False))
    assert manifest["ai_threshold"]["value"] == 1.5
    assert "by length (0-29 words: 1.5000; >= 30 words: 0.0000)" in manifest["ai_threshold"]["chosen_by"]
    # printed as the bands, not as the strictest band's one number
    assert threshold_label(manifest["ai_threshold"]) == \
        "shipped model default, by length (0-29 words: 1.5000; >= 30 words: 0.0000)"
    assert "AI threshold: shipped model default, by length (0-29" in format_summary(manifest)
    assert manifest["ai_model"]["default_threshold_bands"] == aid._SHIPPED_METADATA["threshold_bands"]
    rows = pq.read_table(tmp_path / "out" / "human").to_pylist()
    judged = [r for r in rows if r["ai_confident"] and r["reject_reason"] in (None, "ai_generated")]
    assert judged
    for r in judged:
        assert (r["reject_reason"] == "ai_generated") == (aid.text_words(r["text"]) >= 30)
    (tmp_path / "b").mkdir()
    override = run_lib.run(RunConfig(inputs=tuple(_crawl(tmp_path / "b")), output=str(tmp_path / "o2"),
                                     mode="tag", trust="none", report=False, ai_threshold=1.0))
    assert override["ai_threshold"] == {"value": 1.0, "chosen_by": "--ai-threshold"}
    assert threshold_label(override["ai_threshold"]) == "1.000 (--ai-threshold)"
    assert not [r for r in pq.read_table(tmp_path / "o2" / "human").to_pylist() if r["reject_reason"] == "ai_generated"]
