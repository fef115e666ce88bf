"""Leave-out splits of the stage-1 generalisation benchmark: nothing left out leaks into training or thresholds."""

from __future__ import annotations

from provsieve.transforms.ai_detector_leaveout import (
    base_generator,
    in_distribution,
    leave_one_generator_out,
    leave_one_source_out,
)


def _records(split: str) -> list[dict]:
    rows = [("detectrl", "human", "human"), ("detectrl", "ai", "ChatGPT"), ("detectrl", "ai", "ChatGPT+paraphrase_dipper"),
            ("detectrl", "ai", "Llama-2-70b"), ("outfox", "human", "human"), ("outfox", "ai", "chatgpt"),
            ("outfox", "ai", "flan_t5_xxl"), ("dolma-gpt35-topics", "ai", "gpt-3.5-turbo")]
    return [{"id": f"{s}-{split}-{i}", "source": s, "label": lab, "generator": g, "domain": s, "text": f"t{i}"}
            for i, (s, lab, g) in enumerate(rows)]


WEB = [{"id": "web-0", "source": "web:cc", "label": "human", "generator": "human", "domain": "web", "text": "w"}]


def test_leave_one_source_out():
    train, dev = _records("train"), _records("dev")
    splits = {s.name: s for s in leave_one_source_out(train, dev, WEB)}
    assert sorted(splits) == ["detectrl", "dolma-gpt35-topics", "outfox"]
    for name, s in splits.items():
        assert s.kind == "source"
        assert {r["source"] for r in s.evaluate} == {name}
        assert name not in {r["source"] for r in s.train} | {r["source"] for r in s.threshold_humans}
        assert WEB[0] in s.train and all(r["label"] == "human" for r in s.threshold_humans)
    assert len(splits["outfox"].evaluate) == 3 and len(splits["outfox"].train) == 6  # 5 other records + web
    # a source without humans is still evaluated (flagged share), with thresholds from the others' humans
    assert {r["source"] for r in splits["dolma-gpt35-topics"].threshold_humans} == {"detectrl", "outfox"}


def test_leave_one_generator_out_takes_every_attacked_variant():
    assert base_generator("ChatGPT+paraphrase_dipper") == "ChatGPT" and base_generator("gpt-4") == "gpt-4"
    train, dev = _records("train"), _records("dev")
    splits = {s.name: s for s in leave_one_generator_out(train, dev, WEB, sources=("detectrl", "outfox"))}
    assert sorted(splits) == ["detectrl/ChatGPT", "detectrl/Llama-2-70b", "outfox/chatgpt", "outfox/flan_t5_xxl"]
    s = splits["detectrl/ChatGPT"]
    assert {r["generator"] for r in s.evaluate} == {"human", "ChatGPT", "ChatGPT+paraphrase_dipper"}
    assert {r["source"] for r in s.evaluate} == {"detectrl"}
    assert not any(r["source"] == "detectrl" and r["generator"].startswith("ChatGPT") for r in s.train)
    # other sources' machine texts of a like-named generator, and the source's humans, stay in training
    assert {"outfox-train-5", "detectrl-train-0", "detectrl-train-3"} <= {r["id"] for r in s.train}
    assert len(s.threshold_humans) == 2


def test_in_distribution_is_the_shipped_split():
    train, dev = _records("train"), _records("dev")
    s = in_distribution(train, dev, WEB)
    assert s.kind == "dev" and s.train == train + WEB and s.evaluate == dev
    assert [r["id"] for r in s.threshold_humans] == ["detectrl-dev-0", "outfox-dev-4"]
