"""One training path: train-detector, cross-fitting and the generalisation bench apply every TrainParams field."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from provsieve.pipeline.cli import build_parser
from provsieve.pipeline.detector_cli import train_params
from provsieve.transforms import ai_detector_crossfit as cf
from provsieve.transforms.ai_detector_training import TrainParams, train_detector_model

SHIPPED = Path(__file__).resolve().parents[1] / "transforms" / "models" / "ai_detector.json"

# every field differs from the default (so a field dropped on the way shows)
CUSTOM = TrainParams(dim=8, epoch=2, lr=0.3, wordNgrams=2, minn=2, maxn=4, minCount=1, bucket=2000, loss="hs",
                     seed=7, thread=2, cutoff=400, dsub=4, qnorm=False, retrain=True, web_repeat=2, balance=False)


def test_custom_params_differ_from_the_default_in_every_field():
    default = TrainParams()
    assert all(getattr(CUSTOM, f.name) != getattr(default, f.name)
               for f in dataclasses.fields(TrainParams))


def test_params_from_the_shipped_models_metadata_are_all_of_them():
    recorded = json.loads(SHIPPED.read_text(encoding="utf-8"))["params"]
    assert dataclasses.asdict(TrainParams.from_metadata(recorded)) == recorded
    with pytest.raises(ValueError, match="wordngrams"):  # a misspelt parameter is an error, not a default
        TrainParams.from_metadata({**recorded, "wordngrams": 2})


def test_train_detector_flags_set_every_field():
    flags = ["--dim", "8", "--epoch", "2", "--lr", "0.3", "--word-ngrams", "2", "--minn", "2", "--maxn", "4",
             "--min-count", "1", "--bucket", "2000", "--loss", "hs", "--seed", "7", "--thread", "2",
             "--cutoff", "400", "--dsub", "4", "--no-qnorm", "--retrain", "--web-repeat", "2", "--no-balance"]
    args = build_parser().parse_args(["train-detector", "--train", "x.jsonl", "--output", "m.ftz", *flags])
    assert train_params(args) == CUSTOM


def _records() -> list[dict]:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(600)]
    out = []
    for i in range(24):
        for label, gen in (("human", "human"), ("ai", "chatgpt")):
            text = " ".join(rng.choice(words[:400] if label == "human" else words[200:]) for _ in range(60))
            out.append({"id": f"outfox-train-{gen}-{i:03d}", "text": text, "label": label, "source": "outfox",
                        "generator": gen, "domain": "essay"})
    out.append({"id": "web-1", "text": " ".join(words[:80]), "label": "human", "source": "web:x",
                "generator": "human", "domain": "web"})
    return out


def test_every_fold_model_is_trained_with_every_parameter(monkeypatch):
    import fasttext

    real = fasttext.train_supervised
    seen: list[dict] = []

    def spy(**kwargs):
        model = real(**kwargs)
        quantize = model.quantize

        def spy_quantize(**q):
            seen[-1]["quantize"] = q
            return quantize(**q)

        model.quantize = spy_quantize
        seen.append({"train": kwargs, "args": model.f.getArgs()})
        return model

    monkeypatch.setattr(fasttext, "train_supervised", spy)
    records = _records()
    scores, tries = cf.out_of_fold_scores(records, CUSTOM, folds=3)
    assert set(scores) == {r["id"] for r in records} and tries == [1, 1, 1]
    assert len(seen) == 3
    for fold in seen:
        args = fold["args"]
        for name in ("dim", "epoch", "wordNgrams", "minn", "maxn", "minCount", "bucket", "seed", "thread"):
            assert getattr(args, name) == getattr(CUSTOM, name), name
        assert args.lr == pytest.approx(CUSTOM.lr) and str(args.loss).endswith(CUSTOM.loss)
        q = fold["quantize"]
        assert (q["cutoff"], q["dsub"], q["qnorm"], q["retrain"]) == (CUSTOM.cutoff, CUSTOM.dsub, CUSTOM.qnorm, True)


def test_web_repeat_and_balance_shape_the_training_lines():
    records = _records()
    _, counts = train_detector_model(records, CUSTOM, quantize=False)
    _, once = train_detector_model(records, dataclasses.replace(CUSTOM, web_repeat=1), quantize=False)
    _, balanced = train_detector_model(records, dataclasses.replace(CUSTOM, balance=True), quantize=False)
    web_lines = counts["__label__human"] - once["__label__human"]
    assert web_lines > 0 and counts["__label__ai"] == once["__label__ai"]  # only the web page is repeated
    assert counts["__label__human"] != counts["__label__ai"]
    assert balanced["__label__human"] == balanced["__label__ai"] == max(counts.values())
