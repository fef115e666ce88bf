"""Meeting what other steps found out about a document, by doc_id shard, without a side input.

A side input is held whole by every worker that reads it. The verdicts of
de-duplication (which document is a copy of which, which documents share a
bucket) grow with the corpus: on a billion pages they would not fit in one
worker. A ``CoGroupByKey`` instead sends each document and each verdict to
the worker of its key. The key is the document's shard among ``shards``
(:func:`~provsieve.transforms.write.shard_of` of its doc_id; the pipeline
scales the count with the input, ``key_shards_for``), and each worker sends
its documents as one part per shard and flush (:class:`GatherByShard`), not
one element per document: the runner moves a few large elements, as in
the de-duplication shuffles themselves. A key then holds 1/shards of the
documents, whatever the corpus, if the shard count grows with it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar

import apache_beam as beam

from provsieve.transforms.counting import in_global_window
from provsieve.transforms.document import Document
from provsieve.transforms.write import shard_of

DOCS = "docs"
"""The tag of the documents' parts in :class:`JoinByDocId`'s output."""

T = TypeVar("T")

_DOCUMENT_CODER = beam.coders.registry.get_coder(Document)


def first_or_none(values: Iterable[T]) -> Optional[T]:
    """The first of a key's joined values, or None."""
    return next(iter(values), None)


def keyed_by_shard(item: tuple[str, Any], shards: int) -> tuple[int, tuple[str, Any]]:
    """``(doc_id, value)`` -> ``(shard of doc_id, (doc_id, value))``."""
    return shard_of(item[0], shards), item


class GatherByShard(beam.DoFn):
    """Documents -> ``(doc_id shard, [value_of(document), ...])``, one part per shard and flush.

    The shard is ``shard_of(doc.doc_id, shards)``. Parts are emitted every
    ``flush_items`` documents and at the end of the bundle, so a worker holds
    at most that many.
    """

    def __init__(self, value_of: Callable[[Document], Any], shards: int, flush_items: int = 20_000):
        self._value_of = value_of
        self._shards, self._flush_items = shards, flush_items

    def start_bundle(self) -> None:
        self._parts: dict[int, list] = {}
        self._items = 0

    def process(self, doc: Document) -> Iterator[tuple[int, list]]:
        self._parts.setdefault(shard_of(doc.doc_id, self._shards), []).append(self._value_of(doc))
        self._items += 1
        if self._items >= self._flush_items:
            yield from self._flush()

    def finish_bundle(self) -> Iterator:
        for part in self._flush():
            yield in_global_window(part)

    def _flush(self) -> Iterator[tuple[int, list]]:
        parts, self._parts, self._items = self._parts, {}, 0
        for shard in sorted(parts):
            yield shard, parts[shard]


def encoded_document(doc: Document) -> bytes:
    return _DOCUMENT_CODER.encode(doc)


def joined_documents(joined: dict[str, list]) -> Iterator[tuple[Document, dict[str, Any]]]:
    """The documents of one shard of :class:`JoinByDocId`, each with ``{lookup name: its value or None}``."""
    found = {name: dict(values) for name, values in joined.items() if name != DOCS}
    for part in joined[DOCS]:
        for encoded in part:
            doc = _DOCUMENT_CODER.decode(encoded)
            yield doc, {name: by_id.get(doc.doc_id) for name, by_id in found.items()}


class JoinByDocId(beam.PTransform):
    """Documents and named PCollections of ``(doc_id, value)`` -> ``(shard, {"docs": parts, name: [(doc_id, value)]})``.

    Read the output with :func:`joined_documents`. A lookup holds at most one
    value per doc_id. The documents cross the co-group as their ``RowCoder``
    bytes, encoded once before it and decoded once after: inside it the values
    are of several types, so Beam would pickle whole documents instead.
    """

    def __init__(self, shards: int, **lookups: Any):
        super().__init__()
        if DOCS in lookups:
            raise ValueError(f"{DOCS!r} names the documents; call the lookup something else")
        self._shards, self._lookups = shards, lookups

    def expand(self, docs):
        parts = docs | "Gather documents" >> beam.ParDo(GatherByShard(encoded_document, self._shards))
        keyed = {name: values | f"Shard {name}" >> beam.Map(keyed_by_shard, self._shards)
                 for name, values in self._lookups.items()}
        return {DOCS: parts, **keyed} | "Join" >> beam.CoGroupByKey()
