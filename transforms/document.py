"""The one record type that every step of provsieve reads and writes.

A :class:`Document` is created by the reader with its provenance filled in and
then carried, unchanged in shape, through de-duplication, AI tagging and
timestamp tagging to the writer. Steps fill their own columns with
``doc._replace(...)``. It is a ``typing.NamedTuple`` so that Beam encodes it
with its schema-aware ``RowCoder`` (compact, portable to every runner) rather
than with pickle.

Dates are ISO-8601 strings in UTC, ``YYYY-MM-DDTHH:MM:SSZ``: they sort
correctly as strings, survive any coder, and become Parquet timestamps in the
writer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import NamedTuple, Optional

import apache_beam as beam
import pyarrow as pa


class Document(NamedTuple):
    # --- provenance, set by the reader -------------------------------------
    doc_id: str
    """Stable id: a hash of ``source_uri`` and the record's position (see :func:`make_doc_id`)."""
    source_uri: str
    source_format: str
    """``warc``, ``arc``, ``wet``, ``jsonl`` or ``parquet``."""
    source_offset: Optional[int]
    """Byte offset of the record in the (compressed) file, where the format allows."""
    source_index: int
    """Ordinal of the record in the file (0-based, counting every record read)."""
    warc_record_id: Optional[str]
    url: Optional[str]
    crawl_date: Optional[str]
    """Capture time (WARC-Date, ARC date, Dolma ``warc_date``/``added``, C4 ``timestamp``)."""
    content_sha1: str
    """Hex SHA-1 of ``text`` (UTF-8)."""
    content_type: Optional[str]
    text: str
    # --- timestamp evidence --------------------------------------------------
    capture_uri: Optional[str] = None
    """The archive's replay URI (``http://web.archive.org/web/<14 digits>/<url>``) when ``url`` came from one."""
    capture_source: Optional[str] = None
    """Which evidence ``crawl_date`` comes from: ``warc_date``, ``memento_datetime``, ``replay_uri``, ``arc_date``
    (see capture_time) or ``input`` (a JSONL/Parquet record's capture field)."""
    http_date: Optional[str] = None
    http_last_modified: Optional[str] = None
    published_date: Optional[str] = None
    modified_date: Optional[str] = None
    url_date: Optional[str] = None
    created: Optional[str] = None
    """Best estimate of when the text was written."""
    created_source: Optional[str] = None
    pre_cutoff: Optional[bool] = None
    pre_cutoff_evidence: Optional[str] = None
    """``captured`` (proof), ``claimed`` (the page says so) or ``none``."""
    # --- de-duplication ------------------------------------------------------
    dup_cluster_id: Optional[str] = None
    dup_cluster_size: Optional[int] = None
    duplicate_of: Optional[str] = None
    duplicate_release: Optional[str] = None
    """The earlier release (``--after``) that holds ``duplicate_of``, for a ``released_duplicate``."""
    # --- language --------------------------------------------------------------
    language: Optional[str] = None
    """The language model's best label (ISO 639-1, else 639-3 code), ``und`` for a text without letters."""
    language_score: Optional[float] = None
    language_confident: Optional[bool] = None
    """False for short texts and uncertain predictions: decisions then treat the language as ``und``."""
    # --- AI-text tagging -----------------------------------------------------
    ai_score: Optional[float] = None
    ai_model: Optional[str] = None
    ai_confident: Optional[bool] = None
    ai_stage2_score: Optional[float] = None
    """``--ai-detector cascade``: the combined stage-1 + LM probability of machine text (routed documents only)."""
    ai_routed: Optional[bool] = None
    """``--ai-detector cascade``: whether stage 2 scored this document (None under ``fasttext``)."""
    # --- decision --------------------------------------------------------------
    reject_reason: Optional[str] = None
    reject_detail: Optional[str] = None
    """Human-readable detail for a rejection (e.g. the parse error and offset)."""


beam.coders.registry.register_coder(Document, beam.coders.RowCoder)

DATE_COLUMNS = (
    "crawl_date",
    "http_date",
    "http_last_modified",
    "published_date",
    "modified_date",
    "url_date",
    "created",
)

_ARROW_TYPES = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
}


def _arrow_type(name: str) -> pa.DataType:
    if name in DATE_COLUMNS:
        return pa.timestamp("ms", tz="UTC")
    annotation = Document.__annotations__[name]
    for py_type, arrow_type in _ARROW_TYPES.items():
        if py_type.__name__ in str(annotation):
            return arrow_type
    raise TypeError(f"no Arrow type for Document.{name}: {annotation}")


ARROW_SCHEMA = pa.schema(
    [pa.field(name, _arrow_type(name), nullable=name not in ("doc_id", "source_uri", "text"))
     for name in Document._fields]
)
"""The Parquet schema of every output shard (kept and rejected)."""


def make_doc_id(source_uri: str, source_index: int) -> str:
    """Stable document id: same file and record give the same id on every run.

    20 hex characters (80 bits) of SHA-1 over the source and the record's
    ordinal: collisions are negligible below ~10^11 documents.
    """
    return hashlib.sha1(f"{source_uri}\x00{source_index}".encode()).hexdigest()[:20]


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


_ASCII_PUNCT_TO_SPACE = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))
_ASCII_BYTES = bytes(range(128))
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MAX_SYMBOLS_REPLACED = 16
"""Above this many distinct non-ASCII symbols, one ``bytes.replace`` each costs more than the regex."""


def normalize_text(text: str) -> str:
    """Normalization shared by exact and near de-duplication.

    Unicode NFKC, lowercase, every run of punctuation/whitespace (``[\\W_]``:
    not ``str.isalnum``) folded to one space, stripped. Done on the UTF-8
    bytes, the same result as the regular expression at a third of its cost
    on non-ASCII text: ASCII bytes through a table; the few distinct
    non-ASCII characters that are not alphanumeric (curly quotes, dashes,
    no-break spaces) replaced before it (UTF-8 never matches inside another
    character). Each replacement scans the whole text, so a text with more
    than ``_MAX_SYMBOLS_REPLACED`` distinct such characters goes through the
    regular expression instead (same output).
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    raw = folded.encode("utf-8", "surrogatepass")
    if not raw.isascii():
        symbols = [char for char in set(raw.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))
                   if not char.isalnum()]
        if len(symbols) > _MAX_SYMBOLS_REPLACED:
            return _NON_WORD.sub(" ", folded).strip()
        for char in symbols:
            raw = raw.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return b" ".join(raw.translate(_ASCII_PUNCT_TO_SPACE).split()).decode("utf-8", "surrogatepass")


def normalized_text_key(normalized: str) -> str:
    """Key of identical texts: hex SHA-1 of the :func:`normalize_text` form (exact de-duplication)."""
    return hashlib.sha1(normalized.encode("utf-8", "surrogatepass")).hexdigest()


def new_document(
    *,
    source_uri: str,
    source_format: str,
    source_index: int,
    text: str,
    source_offset: Optional[int] = None,
    warc_record_id: Optional[str] = None,
    url: Optional[str] = None,
    crawl_date: Optional[str] = None,
    content_type: Optional[str] = None,
    **tags,
) -> Document:
    """Build a Document with its id and content hash derived, never guessed."""
    return Document(
        doc_id=make_doc_id(source_uri, source_index),
        source_uri=source_uri,
        source_format=source_format,
        source_offset=source_offset,
        source_index=source_index,
        warc_record_id=warc_record_id,
        url=url,
        crawl_date=crawl_date,
        content_sha1=text_sha1(text),
        content_type=content_type,
        text=text,
        **tags,
    )
