"""Cross-fitted stage-1 scores for the cascade's combiner: groups from record ids, folds, out-of-fold training."""

from __future__ import annotations

import random

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


def test_out_of_fold_scores_cover_every_record_and_are_never_in_sample():
    rng = random.Random(3)
    ai_words, human_words = ["furthermore", "delve", "crucial", "overall"], ["lol", "yeah", "dunno", "gonna"]
    records = []
    for i in range(60):
        label = "ai" if i % 2 else "human"
        words = [rng.choice(ai_words if label == "ai" else human_words) for _ in range(30)]
        records.append({"id": f"hc3plus-si-train-{i:05d}", "text": " ".join(words), "label": label})
    # a record whose only words occur nowhere else: in sample it would be learnt, out of fold it is unknown
    records.append({"id": "hc3plus-si-train-99999", "text": " ".join(["zyxwv qutsr"] * 15), "label": "ai"})
    params = TrainParams(dim=8, epoch=5, wordNgrams=1, minCount=1, bucket=1000, web_repeat=1)
    scores, tries = cf.out_of_fold_scores(records, params, folds=2, quantize=False, workers=2)
    assert set(scores) == {r["id"] for r in records} and all(1 <= t <= 4 for t in tries)
    labelled = [(r["label"], scores[r["id"]]) for r in records[:-1]]
    assert min(s for lab, s in labelled if lab == "ai") > max(s for lab, s in labelled if lab == "human")
    assert scores["hc3plus-si-train-99999"] == pytest.approx(0.5, abs=0.1)  # no word of it was in its training folds
