"""Cross-fitted stage-1 scores for the cascade's combiner: groups from record ids, folds, out-of-fold training."""

from __future__ import annotations

import pytest

from provsieve.transforms import ai_detector_crossfit as cf
from provsieve.transforms.ai_detector_training import TrainParams


def test_groups_follow_the_shared_datas_split_keys():
    g = cf.crossfit_group
    # one Fast-DetectGPT document: every generator's human and machine version
    assert g("fastdetectgpt-train-main.writing.gpt2-xl.396.human") == g("fastdetectgpt-train-main.writing.opt-2.7b.396.ai")
    assert g("fastdetectgpt-train-main.writing.gpt2-xl.396.human") != g("fastdetectgpt-train-main.xsum.gpt2-xl.396.human")
    assert g("fastdetectgpt-dev-gpt3to4.pubmed.gpt-3.5-turbo.097.ai") == "fdg:gpt3to4.pubmed.97"
    # DetectRL: the six index-aligned variants of one generated item
    variants = ["direct_prompt", "prompt_few_shot_llm", "prompt_ICO_llm", "paraphrase_polish_llm",
                "paraphrase_back_translation_llm", "paraphrase_dipper_llm"]
    assert {g(f"detectrl-train-{v}_test-0398") for v in variants} == {"detectrl:398"}
    assert g("detectrl-train-multi_domains_xsum_test-0398") == "id:detectrl-train-multi_domains_xsum_test-0398"
    # OUTFOX: one problem statement's essays
    assert g("outfox-train-human-209") == g("outfox-train-text_davinci_003-209") == g("outfox-train-chatgpt-209")
    assert g("hc3plus-si-train-04467") == "id:hc3plus-si-train-04467"


def test_fold_splits_never_put_a_group_on_both_sides():
    ids = [f"outfox-train-{gen}-{i:03d}" for i in range(40) for gen in ("human", "chatgpt", "flan_t5_xxl")]
    ids += [f"hc3plus-si-train-{i:05d}" for i in range(60)]
    records = [{"id": i} for i in ids]
    splits = cf.fold_splits(records, 3)
    assert sorted(r["id"] for _, held in splits for r in held) == sorted(ids)  # each record held out once
    for train, held in splits:
        assert held and not {cf.crossfit_group(r["id"]) for r in train} & {cf.crossfit_group(r["id"]) for r in held}
    with pytest.raises(ValueError):
        cf.fold_splits(records, 1)


def test_out_of_fold_scores_never_score_a_record_with_a_model_that_saw_it(monkeypatch):
    # the fold models are stand-ins (fast, and they can tell a seen text): a "model" remembers its
    # training texts and scores 1.0 what it saw, 0.5 what it did not
    calls: list[int] = []

    def fake_fold_model(train, params, quantize):
        fold = fold_trained_on[frozenset(r["id"] for r in train)]  # which fold, from its training records
        calls.append(fold)
        if fold == 1 and calls.count(1) == 1:
            raise RuntimeError("fold 1: RuntimeError: Encountered NaN.")
        return FakeDetector({r["text"] for r in train})

    class FakeDetector:
        def __init__(self, seen):
            self.seen = seen

        def score_texts(self, texts):
            return [(1.0 if t in self.seen else 0.5, True) for t in texts]

    monkeypatch.setattr(cf, "_fold_model", fake_fold_model)
    ids = [f"outfox-train-{gen}-{i:03d}" for i in range(30) for gen in ("human", "chatgpt")]
    ids += [f"hc3plus-si-train-{i:05d}" for i in range(30)]
    records = [{"id": i, "text": f"text of {i}", "label": "ai"} for i in ids]
    fold_trained_on = {frozenset(r["id"] for r in train): k for k, (train, _) in enumerate(cf.fold_splits(records, 3))}
    scores, tries = cf.out_of_fold_scores(records, TrainParams(), folds=3, workers=2)
    assert set(scores) == set(ids) and set(scores.values()) == {0.5}  # every record scored, none in sample
    assert tries == [1, 2, 1] and calls.count(1) == 2  # the fold that stopped on NaN was trained again
    monkeypatch.setattr(cf, "_fold_model", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):  # any other failure is not retried
        cf.out_of_fold_scores(records, TrainParams(), folds=3)
