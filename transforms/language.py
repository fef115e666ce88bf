"""Language identification: ``language``, ``language_score`` and ``language_confident`` of every document.

fastText's ``lid.176`` model (176 languages, ISO 639 codes as labels; the
compressed ``.ftz`` build, 0.9 MB, CC-BY-SA-3.0) is shipped inside the package
(``models/lid.176.ftz``, provenance and licence in ``models/lid.176.json`` and
``models/MODEL_CARD.md``) and loaded with the ``fasttext`` package the AI
detector already uses: nothing is downloaded at run time.

What is scored: the main text the reader extracted (Resiliparse already drops
menus and footers), folded to one line (fastText's ``predict`` needs one) and
cut to its first :data:`MAX_CHARS` characters. A page in two languages gets the
language of most of that text.

Short or uncertain texts: the model's best label is always kept in
``language`` with its probability in ``language_score``; ``language_confident``
is true only when the text has at least :data:`MIN_LETTERS` letters and the
probability is at least :data:`MIN_SCORE`. Decisions (``--languages`` and the
AI detector's language rule) use :func:`decided_language`, which is ``und``
(undetermined, ISO 639-2) for a document whose language is not confident. A
text without a single letter gets ``language = "und"`` and no score.

Pure functions first, then :class:`LanguageIdentifier` (model loading and
batched prediction), then the Beam step :class:`TagLanguage` (tags only) and
the decision :func:`language_verdict` used by ``--languages``.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, NamedTuple, Optional, Sequence

import apache_beam as beam

from provsieve.transforms.batching import BufferedBatchFn
from provsieve.transforms.document import Document
from provsieve.transforms.timing import StageClock

MODEL_PACKAGE = "provsieve.transforms"
MODEL_RESOURCE = "models/lid.176.ftz"
METADATA_RESOURCE = "models/lid.176.json"

UNDETERMINED = "und"
"""ISO 639-2 "undetermined": no letter to score, or a language that is not confident."""

MAX_CHARS = 500
"""Characters of the (one-line) text that are scored; prediction time grows with them. On 3,000 texts
of the shared data, 500 characters give the same decided language as 4,000 for 99.1 % of them (1,000:
99.5 %): 24 of the 26 differences are a language against ``und`` at the confidence threshold, 2 another
language. 500 characters take about a third of the time of 2,000 (``bench/language_speed.py``)."""

MIN_LETTERS = 20
"""Fewer letters than this (``str.isalpha``: a CJK character is one) and the language is not confident."""

MIN_SCORE = 0.5
"""Below this top-label probability the language is not confident (about 8 % of the shared crawl's
pages: navigation pages, lists of numbers, pages mixing scripts)."""

REJECT_REASON = "language_filtered"
LABEL_PREFIX = "__label__"

_NOT_LETTERS = re.compile(r"[\W\d_]+")


class Language(NamedTuple):
    code: str
    score: Optional[float]
    confident: bool


def language_line(text: str, max_chars: int = MAX_CHARS) -> str:
    """The text fastText scores: whitespace (newlines included) folded to single spaces, at most ``max_chars``.

    The fold of a prefix of ``text`` is a prefix of the fold of a longer one, so when the fold of the first
    ``max_chars`` plus an eighth already has ``max_chars`` characters (99 % of the benchmark's texts), it
    is the answer: fewer words split and re-joined than from twice ``max_chars``.
    """
    line = " ".join(text[: max_chars + max_chars // 8].split())
    if len(line) >= max_chars:
        return line[:max_chars]
    return " ".join(text[: 2 * max_chars].split())[:max_chars]


def letter_count(line: str, enough: Optional[int] = None) -> int:
    """Letters in ``line`` (word characters that are not digits or ``_``).

    With ``enough``, counting may stop early: the result is exact below
    ``enough`` and at least ``enough`` otherwise (all a threshold needs; the
    full count cost a third of the prediction itself).
    """
    if enough is not None and len(line) > 8 * enough:
        head = len(_NOT_LETTERS.sub("", line[: 8 * enough]))
        if head >= enough:
            return head
    return len(_NOT_LETTERS.sub("", line))


def label_code(label: str) -> str:
    """``__label__en`` -> ``en``."""
    return label[len(LABEL_PREFIX):] if label.startswith(LABEL_PREFIX) else label


def language_result(label: Optional[str], probability: Optional[float], letters: int,
                    min_letters: int = MIN_LETTERS, min_score: float = MIN_SCORE) -> Language:
    """The language of one text from the model's top label and its probability (module docstring)."""
    if letters == 0 or label is None:
        return Language(UNDETERMINED, None, False)
    score = min(1.0, max(0.0, float(probability or 0.0)))  # fastText adds 1e-5 before its log: can exceed 1
    return Language(label_code(label), score, letters >= min_letters and score >= min_score)


def decided_language(doc: Document) -> Optional[str]:
    """The language decisions use: ``doc.language`` when confident, else ``und``; None before the language step."""
    if doc.language is None:
        return None
    return doc.language if doc.language_confident else UNDETERMINED


def language_verdict(doc: Document, languages: Optional[Sequence[str]]) -> Document:
    """Mark ``doc`` ``language_filtered`` when its :func:`decided_language` is not in ``languages``.

    ``languages`` None keeps every language. ``und`` in ``languages`` keeps the
    documents whose language is not confident (short texts among them).
    """
    if doc.reject_reason or languages is None:
        return doc
    decided = decided_language(doc) or UNDETERMINED
    if decided in languages:
        return doc
    score = f" {doc.language_score:.2f}" if doc.language_score is not None else ""
    found = doc.language if decided == UNDETERMINED and doc.language != UNDETERMINED else None
    detail = (f"language {decided}" + (f" (best guess {found}{score}, not confident)" if found else score)
              + f" not in --languages {','.join(languages)}")
    return doc._replace(reject_reason=REJECT_REASON, reject_detail=detail)


# --------------------------------------------------------------------------
# Model metadata and loading
# --------------------------------------------------------------------------


def _read_metadata() -> dict[str, Any]:
    try:
        return json.loads(resources.files(MODEL_PACKAGE).joinpath(METADATA_RESOURCE).read_text("utf-8"))
    except (FileNotFoundError, ModuleNotFoundError, json.JSONDecodeError):
        return {}


SHIPPED_METADATA = _read_metadata()
MODEL_VERSION: str = SHIPPED_METADATA.get("version", "lid.176-unversioned")
KNOWN_CODES: frozenset[str] = frozenset(SHIPPED_METADATA.get("languages", ())) | {UNDETERMINED}
"""Every label the shipped model can give, and ``und``: what ``--languages`` accepts."""


def parse_languages(value: str) -> tuple[str, ...]:
    """``"en, de"`` -> ``("de", "en")``: the codes of ``--languages``, each one the model knows (or ``und``)."""
    codes = sorted({c.strip().lower() for c in value.split(",") if c.strip()})
    if not codes:
        raise ValueError("--languages needs at least one language code, e.g. en,de")
    unknown = [c for c in codes if c not in KNOWN_CODES]
    if unknown:
        raise ValueError(f"unknown language code(s) {', '.join(unknown)}: use the ISO 639 codes of the "
                         f"language model (e.g. en, de, ja, zh; {len(KNOWN_CODES) - 1} in all, listed in "
                         f"{METADATA_RESOURCE}) or und")
    return tuple(codes)


class LanguageIdentifier:
    """The shipped lid.176 model; :meth:`identify` predicts a list of texts in one call."""

    def __init__(self) -> None:
        import fasttext  # deferred: Beam pickles the DoFn before setup()

        fasttext.FastText.eprint = lambda *a, **k: None  # silence the load warning
        self.version = MODEL_VERSION
        with resources.as_file(resources.files(MODEL_PACKAGE).joinpath(MODEL_RESOURCE)) as path:
            self.model = fasttext.load_model(str(path))

    def identify(self, texts: Sequence[str], max_chars: int = MAX_CHARS) -> list[Language]:
        """The language of every text (the list form of ``predict``: one call, and NumPy 2 safe)."""
        lines = [language_line(t, max_chars) for t in texts]
        results = [Language(UNDETERMINED, None, False)] * len(lines)
        scored = [i for i, line in enumerate(lines) if line]
        if scored:
            labels, probs = self.model.predict([lines[i] for i in scored], k=1)
            for i, labs, ps in zip(scored, labels, probs):
                results[i] = language_result(labs[0] if labs else None, ps[0] if len(ps) else None,
                                             letter_count(lines[i], MIN_LETTERS))
        return results


# --------------------------------------------------------------------------
# Beam
# --------------------------------------------------------------------------


class _TagLanguageFn(BufferedBatchFn):
    """Loads the model once per worker; tags each batch of documents with one ``predict`` call."""

    def __init__(self, batch_size: int) -> None:
        super().__init__(batch_size)
        self._not_confident = beam.metrics.Metrics.counter("language", "not_confident")
        self._clock = StageClock("language")

    def setup(self) -> None:
        self._identifier = LanguageIdentifier()

    def tag_batch(self, batch: Sequence[Document]) -> list[Document]:
        with self._clock:
            found = self._identifier.identify([d.text for d in batch])
        unsure = sum(not lang.confident for lang in found)
        if unsure:
            self._not_confident.inc(unsure)
        return [doc._replace(language=lang.code, language_score=lang.score, language_confident=lang.confident)
                for doc, lang in zip(batch, found)]


class TagLanguage(beam.PTransform):
    """PCollection[Document] -> same, with ``language``, ``language_score``, ``language_confident`` set.

    Only tags; ``--languages`` is :func:`language_verdict`, applied by the pipeline.
    """

    def __init__(self, batch_size: int = 256) -> None:
        super().__init__()
        self._batch_size = batch_size

    def expand(self, pcoll):
        return pcoll | "IdentifyLanguage" >> beam.ParDo(_TagLanguageFn(self._batch_size)).with_output_types(Document)
