"""A plain NumPy float32 forward pass of a Llama-architecture GGUF: the second implementation of stage 2's LM.

Written from the architecture (RMS norm, rotary embedding on adjacent pairs
as llama.cpp stores Q/K, grouped-query causal attention, SiLU-gated MLP, tied
output layer), independent of CTranslate2: the tests check the runtime's
log-probabilities against it, and ``bench/lm_runtime.py`` times it as the
issue's "numpy float32" baseline. Not used by the pipeline.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from provsieve.transforms.lm_model import LlamaConfig


def _rms_norm(x: np.ndarray, gamma: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + np.float32(eps)) * gamma


def _rotary(x: np.ndarray, base: float) -> np.ndarray:
    """x (positions, heads, head_dim) rotated by position, pairs (2i, 2i+1) at frequency base^(-2i/head_dim)."""
    positions, _, dim = x.shape
    freq = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angle = np.arange(positions, dtype=np.float64)[:, None] * freq[None, :]
    cos, sin = np.cos(angle).astype(np.float32)[:, None, :], np.sin(angle).astype(np.float32)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def forward(weights: Mapping[str, np.ndarray], config: LlamaConfig, tokens: Sequence[int]) -> np.ndarray:
    """Logits (len(tokens), vocab) in float32; ``weights`` as :func:`~provsieve.transforms.lm_model.gguf_weights`."""
    return final_hidden(weights, config, tokens) @ weights.get("output.weight", weights["token_embd.weight"]).T


def final_hidden(weights: Mapping[str, np.ndarray], config: LlamaConfig, tokens: Sequence[int]) -> np.ndarray:
    """The final-norm hidden states (len(tokens), hidden) in float32: what the output layer multiplies."""
    embedding = weights["token_embd.weight"]
    x = embedding[np.asarray(tokens)]
    n = x.shape[0]
    head_dim = config.hidden // config.heads
    group = config.heads // config.kv_heads
    causal = np.triu(np.full((n, n), -np.inf, dtype=np.float32), k=1)
    for i in range(config.layers):
        b = f"blk.{i}."
        h = _rms_norm(x, weights[b + "attn_norm.weight"], config.rms_eps)
        q = _rotary((h @ weights[b + "attn_q.weight"].T).reshape(n, config.heads, head_dim), config.rope_base)
        k = _rotary((h @ weights[b + "attn_k.weight"].T).reshape(n, config.kv_heads, head_dim), config.rope_base)
        v = (h @ weights[b + "attn_v.weight"].T).reshape(n, config.kv_heads, head_dim)
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.float32(np.sqrt(head_dim)) + causal
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = np.einsum("hqk,khd->qhd", scores, v).reshape(n, config.hidden)
        x = x + attended @ weights[b + "attn_output.weight"].T
        h = _rms_norm(x, weights[b + "ffn_norm.weight"], config.rms_eps)
        gate = h @ weights[b + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ weights[b + "ffn_up.weight"].T)) @ weights[b + "ffn_down.weight"].T
    return _rms_norm(x, weights["output_norm.weight"], config.rms_eps)
