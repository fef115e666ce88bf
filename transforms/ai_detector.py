"""AI-written text detection with a shipped fastText classifier.

Pure functions first (normalisation, chunking, score combination, threshold
calibration), then :class:`AIDetector` (model loading and batched scoring),
then the Beam pieces: :class:`TagAIText` fills ``ai_score``, ``ai_model`` and
``ai_confident`` of every :class:`~provsieve.transforms.document.Document`
(it only tags; the pipeline decides). A run's own threshold (``--calibrate-fpr``)
is computed from its scores by :mod:`~provsieve.transforms.threshold_calibration`.

fastText 0.9.3's ``model.predict(str)`` calls ``np.array(..., copy=False)``,
which raises under NumPy 2. Its list form (``multilinePredict``) returns plain
Python lists and never touches that line, so this module only ever calls
``predict(list_of_str, k=-1)``; that works with the official wheel on NumPy 1
and 2 alike, with no patched build needed.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import apache_beam as beam
import numpy as np
from apache_beam.utils.windowed_value import WindowedValue

from provsieve.transforms.batching import BufferedBatchFn
from provsieve.transforms.document import Document
from provsieve.transforms.timing import StageClock

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

MODEL_PACKAGE = "provsieve.transforms"
MODEL_RESOURCE = "models/ai_detector.ftz"
METADATA_RESOURCE = "models/ai_detector.json"

LABEL_AI = "__label__ai"
LABEL_HUMAN = "__label__human"

CHUNK_TOKENS = 160
"""Chunk length in preprocessed tokens (words and punctuation marks, ~120 words).

Training examples are cut with the same :func:`chunk_tokens`, so the model
only ever sees windows of this size: document length is no signal."""

SINGLE_CHUNK_TOKENS = CHUNK_TOKENS + CHUNK_TOKENS // 2
"""Below this many tokens :func:`chunk_tokens` returns the whole text as one chunk (its tail is merged)."""

MAX_CHUNKS = 32
"""Very long documents are scored on at most this many evenly spaced chunks."""

MIN_WORDS = 20
"""Below this many words (alphanumeric tokens after :func:`preprocess`) a
document is ``ai_confident=False``. Its score is still computed (it is the
model's output on what there is); only a text with no token at all gets
``ai_score=None``. On the dev data the shipped model's AUROC is 0.86 on texts
of >= 20 words and 0.73 on the 461 shorter ones."""

_FALLBACK_THRESHOLD = 0.5


# --------------------------------------------------------------------------
# Normalisation: THE function used by training and scoring
# --------------------------------------------------------------------------

_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "`": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u2022": "*", "\u00b7": "*", "\u25cf": "*",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None,
        "\ufeff": None,
    }
)
_MAPPED_CHAR = re.compile("[" + "".join(re.escape(chr(c)) for c in _CHAR_MAP) + "]")
_REPLACEMENT = {chr(c): r or "" for c, r in _CHAR_MAP.items()}
_PUNCT = re.compile(r"([^\w\s])")
_DIGIT = re.compile(r"\d")
_NT = re.compile(r"(\w) n ' t\b")  # PTB "do n't" -> "don't" (after punct split)
_REPEAT = re.compile(r"(\S)( \1){3,}")  # "! ! ! ! ! !" -> "! ! ! !"
_REPEAT_HINT = re.compile(r" (\S) \1 ")  # every _REPEAT match holds one; 4x cheaper to look for
# ASCII texts (half of a crawl) skip the regular expressions: str/bytes tables give the same result.
_ASCII_PUNCT = "".join(chr(c) for c in range(128) if re.fullmatch(r"[^\w\s]", chr(c)))
_ASCII_PUNCT_MARK = re.compile("([" + re.escape(_ASCII_PUNCT) + "])")  # _PUNCT on ASCII text, 2x faster
_ASCII_ZERO_DIGITS = str.maketrans("123456789", "000000000")
_ASCII_PUNCT_BYTES = _ASCII_PUNCT.encode("ascii")


def preprocess(text: str) -> str:
    """Normalise a text to one line of space-separated tokens.

    Removes cues that tell the data sets apart rather than the writers:
    Unicode compatibility forms and exotic spaces (NFKC: U+00A0 becomes a
    space), typographic quotes and dashes, casing (lower-cased), all
    whitespace and newlines (one space), and spacing around punctuation
    (every punctuation mark becomes its own token, so the tokenised
    ``it 's`` / ``word ,`` of some corpora equals ``it's`` / ``word,``).
    Digits become ``0`` (numbers are topical, not stylistic).
    """
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():  # the same steps with tables; "`" is the only ASCII character _CHAR_MAP maps
        text = " ".join(_ASCII_PUNCT_MARK.split(text.replace("`", "'").lower())).translate(_ASCII_ZERO_DIGITS)
    else:
        # _CHAR_MAP applied to the few characters it maps (str.translate looks up every character)
        text = _MAPPED_CHAR.sub(lambda m: _REPLACEMENT[m[0]], text)
        # Splitting on the captured marks and joining with spaces is _PUNCT.sub(r" \1 ") without a
        # Python-level template expansion per mark (the whitespace is folded just after).
        text = " ".join(_PUNCT.split(text.lower()))
        text = _DIGIT.sub("0", text)
    text = " ".join(text.split())
    if " n ' t" in text:
        text = _NT.sub(r"\1n ' t", text)
    if _REPEAT_HINT.search(text) is None:
        return text
    return _REPEAT.sub(r"\1 \1 \1 \1", text)


def count_words(line: str) -> int:
    """Number of word tokens (those with a letter or digit) in a preprocessed line.

    After :func:`preprocess` a token is either one punctuation mark or a run
    of word characters, so the words are the tokens less the marks (counted
    in C: a test per token cost more than the fastText prediction itself).
    """
    if not line:
        return 0
    if line.isascii():
        marks = len(line) - len(line.encode("ascii").translate(None, _ASCII_PUNCT_BYTES))
    else:
        marks = len(_PUNCT.findall(line))
    return line.count(" ") + 1 - marks


# --------------------------------------------------------------------------
# Chunking and combination
# --------------------------------------------------------------------------


def chunk_tokens(
    tokens: Sequence[str], size: int = CHUNK_TOKENS, max_chunks: Optional[int] = None
) -> list[list[str]]:
    """Cut tokens into consecutive windows of ``size``.

    A remainder shorter than half a window is merged into the previous chunk
    (so no chunk is a tiny tail), hence chunks hold between ``size // 2`` and
    ``1.5 * size`` tokens except for a short document's single chunk. With
    ``max_chunks``, that many chunks evenly spaced over the document are kept.
    """
    tokens = list(tokens)
    if not tokens:
        return []
    bounds = list(range(0, len(tokens), size))
    if len(bounds) > 1 and len(tokens) - bounds[-1] < size // 2:
        bounds.pop()
    chunks = [
        tokens[start : (bounds[i + 1] if i + 1 < len(bounds) else len(tokens))]
        for i, start in enumerate(bounds)
    ]
    if max_chunks is not None and len(chunks) > max_chunks:
        picks = np.linspace(0, len(chunks) - 1, max_chunks).round().astype(int)
        chunks = [chunks[i] for i in sorted(set(picks.tolist()))]
    return chunks


def combine_chunk_scores(scores: Sequence[float], weights: Sequence[float]) -> Optional[float]:
    """Document score = mean of the chunk probabilities weighted by chunk length.

    The result reads as the expected AI probability of a random token of the
    document, so a page that is half machine text scores about half way.
    The mean (not the max) keeps long human pages with one odd chunk (a menu,
    a boilerplate footer) from being flagged: the FPR on real web pages is
    the constraint that matters most. Returns None for no chunks.
    """
    if len(scores) == 0:
        return None
    w = np.asarray(weights, dtype=np.float64)
    return float(np.dot(np.asarray(scores, dtype=np.float64), w) / w.sum())


# --------------------------------------------------------------------------
# Threshold calibration
# --------------------------------------------------------------------------


def calibrated_threshold(scores: Sequence[float], fpr: float) -> float:
    """Threshold at which a fraction ``fpr`` of provably-human docs is rejected.

    Documents are rejected when ``ai_score >= threshold``, so the threshold is
    the (1 - fpr) quantile of the human scores (fpr=0.01: the 99th
    percentile; a higher fpr gives a lower threshold). Exactly: with
    ``m = floor(fpr * n)`` the threshold lies just above the (m+1)-th highest
    score, so at most ``m`` of these ``n`` docs (a fraction <= fpr) score at
    or above it. ``fpr=0`` gives a threshold above every human score.
    None/NaN scores are ignored; no score at all is an error.
    """
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must be in [0, 1], got {fpr}")
    values = np.sort(np.asarray([s for s in scores if s is not None and not math.isnan(s)], dtype=np.float64))[::-1]
    if values.size == 0:
        raise ValueError("no scores to calibrate on")
    m = int(math.floor(fpr * values.size + 1e-9))
    if m >= values.size:
        return float(values[-1])
    return float(np.nextafter(values[m], np.inf))


def text_words(text: str) -> int:
    """A document's length for the threshold policy: whitespace-separated words of the raw text (cheap, no model)."""
    return len(text.split())


@dataclass(frozen=True)
class ThresholdPolicy:
    """Stage-1 thresholds by document length: ``bands`` are ``(min_words, threshold)``, ``min_words`` ascending from 0.

    A document of ``n`` :func:`text_words` is judged by the last band with
    ``min_words <= n``. Short texts need a higher threshold than long ones
    (a 30-word sentence says little about its writer), so one threshold for
    all lengths is set by the short ones and misses most long machine text.
    A single threshold is the policy with one band.
    """

    bands: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        edges = [b for b, _ in self.bands]
        if not edges or edges[0] != 0 or edges != sorted(set(edges)):
            raise ValueError(f"threshold bands must start at 0 words and ascend, got {edges}")

    @classmethod
    def constant(cls, threshold: float) -> "ThresholdPolicy":
        return cls(((0, float(threshold)),))

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], default: float) -> "ThresholdPolicy":
        """``threshold_bands`` of a model's metadata, else its single ``threshold`` (else ``default``)."""
        bands = meta.get("threshold_bands")
        if bands:
            return cls(tuple((int(b["min_words"]), float(b["threshold"])) for b in bands))
        return cls.constant(float(meta.get("threshold", default)))

    def threshold_for(self, words: int) -> float:
        chosen = self.bands[0][1]
        for min_words, threshold in self.bands:
            if words < min_words:
                break
            chosen = threshold
        return chosen

    def threshold_for_text(self, text: str) -> float:
        if len(self.bands) == 1:
            return self.bands[0][1]
        # only whether the text reaches each band's edge matters: stop splitting past the last one
        return self.threshold_for(len(text.split(None, self.bands[-1][0])))

    @property
    def highest(self) -> float:
        """The strictest band's threshold (the policy's single-number summary: safe at every length)."""
        return max(t for _, t in self.bands)

    def describe(self) -> str:
        if len(self.bands) == 1:
            return f"{self.bands[0][1]:.4f}"
        parts = []
        for i, (lo, t) in enumerate(self.bands):
            hi = self.bands[i + 1][0] - 1 if i + 1 < len(self.bands) else None
            parts.append(f"{lo}-{hi} words: {t:.4f}" if hi is not None else f">= {lo} words: {t:.4f}")
        return "; ".join(parts)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"min_words": lo, "threshold": t} for lo, t in self.bands]


def strictest_threshold(human_score_groups: dict[str, Sequence[float]], fpr: float
                        ) -> tuple[float, dict[str, float]]:
    """The threshold with FPR <= ``fpr`` on *each* group of human scores (the highest of their
    :func:`calibrated_threshold`; NaN if no group has a score), and each group's own."""
    per_group = {g: calibrated_threshold(list(s), fpr) for g, s in human_score_groups.items() if len(s)}
    return (max(per_group.values()) if per_group else float("nan")), per_group


def band_thresholds(human_groups: dict[str, Sequence[tuple[int, float]]], edges: Sequence[int], fpr: float,
                    ) -> tuple[ThresholdPolicy, dict[str, dict[str, float]]]:
    """A length-aware policy: in each band, FPR <= ``fpr`` on *each* human group, never below a longer band's.

    ``human_groups`` maps a group name (a dev source, the web dev pages) to
    ``(words, score)`` of its human texts; ``edges`` are the bands' lower
    edges in words (the first must be 0). Per band the threshold is
    :func:`strictest_threshold` of the groups (a group with fewer than 100
    texts in a band thus sets it just above its highest score: small groups
    leave a margin). Thresholds are then made non-increasing with length
    (a band is at least as strict as every longer one). Returns the policy and
    the per-band, per-group thresholds.
    """
    edges = sorted(set(int(e) for e in edges))
    raw: list[float] = []
    detail: dict[str, dict[str, float]] = {}
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        threshold, detail[str(lo)] = strictest_threshold(
            {name: [s for w, s in pairs if w >= lo and (hi is None or w < hi) and s is not None]
             for name, pairs in human_groups.items()}, fpr)
        raw.append(threshold)
    if all(t != t for t in raw):
        raise ValueError("no human scores in any band")
    return non_increasing_policy(edges, raw), detail


def non_increasing_policy(edges: Sequence[int], raw: Sequence[float]) -> ThresholdPolicy:
    """Per-band thresholds ``raw`` (NaN: a band without scores) made non-increasing with length.

    Each band is at least as strict as every longer one; a band with no score and no stricter longer band gets 1.0.
    """
    thresholds = []
    running = -math.inf
    for t in reversed(raw):  # longest band first
        running = max(running, t) if t == t else running
        thresholds.append(running if running > -math.inf else 1.0)
    thresholds.reverse()
    return ThresholdPolicy(tuple(zip(edges, thresholds)))


# --------------------------------------------------------------------------
# Model metadata and loading
# --------------------------------------------------------------------------


def _read_metadata(model_path: Optional[str] = None) -> dict[str, Any]:
    """The JSON next to a model (``X.ftz`` -> ``X.json``), or the shipped one."""
    try:
        if model_path is None:
            return json.loads(resources.files(MODEL_PACKAGE).joinpath(METADATA_RESOURCE).read_text("utf-8"))
        meta = Path(model_path).with_suffix(".json")
        return json.loads(meta.read_text("utf-8")) if meta.exists() else {}
    except (FileNotFoundError, ModuleNotFoundError, json.JSONDecodeError):
        return {}


_SHIPPED_METADATA = _read_metadata()
MODEL_VERSION: str = _SHIPPED_METADATA.get("version", "ai_detector-unversioned")
DEFAULT_THRESHOLD: float = float(_SHIPPED_METADATA.get("threshold", _FALLBACK_THRESHOLD))
"""The shipped model's single threshold, its strictest length band (safe at every length); see models/ai_detector.json."""
DEFAULT_POLICY: ThresholdPolicy = ThresholdPolicy.from_metadata(_SHIPPED_METADATA, DEFAULT_THRESHOLD)
"""The shipped model's thresholds by document length (``threshold_bands``), chosen on dev for <= 1% FPR."""


def model_languages(metadata: dict[str, Any]) -> Optional[tuple[str, ...]]:
    """The languages a detector was trained for, from its metadata (None: not recorded, judge every language)."""
    languages = metadata.get("languages")
    return None if languages is None else tuple(languages)


SUPPORTED_LANGUAGES: Optional[tuple[str, ...]] = model_languages(_SHIPPED_METADATA)


def supported_language(doc: Document, languages: Optional[Sequence[str]]) -> bool:
    """Whether a detector trained on ``languages`` can judge ``doc``.

    A document whose language is not confident (``language_confident``
    false: short or mixed text) counts as ``und`` and is not supported
    either. A document without a language tag (the language step did not
    run) and a model that records no languages are judged as before.
    """
    if languages is None or doc.language is None:
        return True
    return bool(doc.language_confident) and doc.language in languages


_FT_LOG_EPS = 1e-5


def _p_ai(probs: dict[str, float]) -> float:
    """P(ai) from fastText's returned label probabilities, without saturation.

    fastText returns ``exp(log(p + 1e-5))`` in float32, so a confident P(ai)
    comes back as exactly 1.0 (ties that ruin ranking and thresholds). The
    human probability keeps the information: remove the epsilon from both
    and renormalise in float64.
    """
    ai = max(float(probs.get(LABEL_AI, 0.0)) - _FT_LOG_EPS, 0.0)
    human = max(float(probs.get(LABEL_HUMAN, 0.0)) - _FT_LOG_EPS, 0.0)
    return ai / (ai + human) if ai + human > 0 else 0.5


class AIDetector:
    """A loaded fastText detector; ``score_texts`` is batched."""

    def __init__(self, model_path: Optional[str] = None, batch_chunks: int = 512, *, model: Any = None) -> None:
        """Load ``model_path`` (None: the shipped model), or wrap an in-memory ``model``."""
        import fasttext  # deferred: Beam pickles the DoFn before setup()

        fasttext.FastText.eprint = lambda *a, **k: None  # silence load warning
        self.metadata = {} if model is not None else _read_metadata(model_path)
        self.version: str = self.metadata.get("version") or (
            "in-memory" if model is not None else Path(model_path).stem if model_path else MODEL_VERSION
        )
        self.policy: ThresholdPolicy = ThresholdPolicy.from_metadata(self.metadata, DEFAULT_THRESHOLD)
        self.languages = model_languages(self.metadata) if model is None else None
        self.batch_chunks = batch_chunks
        if model is not None:
            self.model = model
        elif model_path is None:
            with resources.as_file(resources.files(MODEL_PACKAGE).joinpath(MODEL_RESOURCE)) as path:
                self.model = fasttext.load_model(str(path))
        else:
            self.model = fasttext.load_model(str(model_path))

    def predict_lines(self, lines: Sequence[str]) -> np.ndarray:
        """P(ai) for preprocessed one-line texts (list-form predict only, see module doc)."""
        out = np.empty(len(lines), dtype=np.float64)
        for start in range(0, len(lines), self.batch_chunks):
            batch = list(lines[start : start + self.batch_chunks])
            labels, probs = self.model.predict(batch, k=-1)
            for i, (labs, ps) in enumerate(zip(labels, probs)):
                out[start + i] = _p_ai(dict(zip(labs, ps)))
        return out

    def score_texts(self, texts: list[str]) -> list[tuple[Optional[float], bool]]:
        """(ai_score, confident) per raw text, all chunks predicted in one batch."""
        per_doc: list[list[int]] = []  # tokens per chunk
        lines: list[str] = []
        for text in texts:
            line = preprocess(text)
            tokens = line.count(" ") + 1 if line else 0
            if tokens < SINGLE_CHUNK_TOKENS:  # the line is its one chunk (or none): no split and re-join
                per_doc.append([tokens] if tokens else [])
                if tokens:
                    lines.append(line)
                continue
            chunks = chunk_tokens(line.split(), max_chunks=MAX_CHUNKS)
            per_doc.append([len(c) for c in chunks])
            lines.extend(" ".join(c) for c in chunks)
        probs = self.predict_lines(lines)
        results: list[tuple[Optional[float], bool]] = []
        pos = 0
        for sizes in per_doc:
            n = len(sizes)
            score = combine_chunk_scores(probs[pos : pos + n], sizes)
            words = sum(count_words(line) for line in lines[pos : pos + n])
            pos += n
            results.append((score, score is not None and words >= MIN_WORDS))
        return results


# --------------------------------------------------------------------------
# Beam
# --------------------------------------------------------------------------


class _TagAITextFn(BufferedBatchFn):
    """Loads the model once per worker; buffers documents and scores in batches.

    Documents ``needs_score`` refuses pass through unscored, in the same step:
    a Partition and a Flatten around the step would make the runner set every
    document aside and encode it once more.
    """

    def __init__(self, model_path: Optional[str], batch_size: int = 256,
                 needs_score: Optional[Callable[[Document], bool]] = None) -> None:
        super().__init__(batch_size)
        self._model_path = model_path
        self._needs_score = needs_score
        ns = "ai_detector"
        self._scored = beam.metrics.Metrics.counter(ns, "scored")
        self._not_confident = beam.metrics.Metrics.counter(ns, "not_confident")
        self._no_text = beam.metrics.Metrics.counter(ns, "no_text")
        self._batches = beam.metrics.Metrics.counter(ns, "batches")
        self._unsupported_language = beam.metrics.Metrics.counter(ns, "unsupported_language")
        self._clock = StageClock("ai")

    def setup(self) -> None:
        self._detector = AIDetector(self._model_path)

    def process(self, doc: Document, window=beam.DoFn.WindowParam,
                timestamp=beam.DoFn.TimestampParam) -> Iterator[WindowedValue]:
        if self._needs_score is not None and not self._needs_score(doc):
            yield doc  # in its own window, as the batched outputs
            return
        yield from super().process(doc, window, timestamp)

    def tag_batch(self, batch: Sequence[Document]) -> list[Document]:
        with self._clock:
            results = self._detector.score_texts([d.text for d in batch])
        self._batches.inc()
        out = []
        for doc, (score, confident) in zip(batch, results):
            self._scored.inc()
            if not supported_language(doc, self._detector.languages):
                confident = False  # a score in a language the model never saw means nothing
                self._unsupported_language.inc()
            if score is None:
                self._no_text.inc()
            if not confident:
                self._not_confident.inc()
            out.append(doc._replace(ai_score=score, ai_model=self._detector.version, ai_confident=confident))
        return out


class TagAIText(beam.PTransform):
    """PCollection[Document] -> same, with ai_score / ai_model / ai_confident set.

    ``model_path=None`` uses the model shipped in the package. Only tags; the
    pipeline decides what to reject. ``ai_confident`` is false for documents
    in a language the model's metadata does not list (:func:`supported_language`).
    ``needs_score``: only the documents it holds are scored; the others pass unchanged.
    """

    def __init__(self, model_path: Optional[str] = None, batch_size: int = 256,
                 needs_score: Optional[Callable[[Document], bool]] = None) -> None:
        super().__init__()
        self._model_path = model_path
        self._batch_size = batch_size
        self._needs_score = needs_score

    def expand(self, pcoll):
        fn = _TagAITextFn(self._model_path, self._batch_size, self._needs_score)
        return pcoll | "ScoreAIText" >> beam.ParDo(fn).with_output_types(Document)
