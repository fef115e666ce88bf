"""Exact de-duplication: documents whose normalized text is identical.

Only ``(text hash, keep key)`` goes through the shuffle, never the
texts. Each group of identical texts keeps the document that
:func:`~provsieve.transforms.keep_rule.keep_key` orders first (oldest
evidence of existence, then smallest ``doc_id``), so the choice is the same on
every run and every runner. The losers meet their documents in a join by
doc_id (:class:`~provsieve.transforms.keyed_join.JoinByDocId`), not in a side
input that every worker would hold whole.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

from provsieve.transforms.document import Document, normalize_text, normalized_text_key
from provsieve.transforms.keep_rule import keep_key
from provsieve.transforms.keyed_join import JoinByDocId, joined_documents
from provsieve.transforms.near_dedup import KEY_SHARDS, text_key_shard
from provsieve.transforms.released import REJECT_REASON as RELEASED_REASON
from provsieve.transforms.released import (
    is_released_node,
    node_release,
    released_detail,
    released_member,
    split_member,
)
from provsieve.transforms.timing import timed


def exact_key(text: str) -> str:
    """Hash of the normalized text (NFKC, lowercase, punctuation and whitespace folded)."""
    return normalized_text_key(normalize_text(text))


def duplicates_of_group(keep_keys: Iterable[tuple]) -> Iterator[tuple[str, str]]:
    """Keep keys of the copies of one text -> ``(loser doc_id, kept doc_id)`` for every loser.

    A keep key's third item is the document's id, so it names the document too.
    When the kept copy is an earlier release's (:mod:`~provsieve.transforms.released`
    nodes sort first), it is named by its member key ``doc_id@release``; the
    earlier releases' documents are never losers.
    """
    ordered = sorted(keep_keys)
    first = ordered[0]
    release = node_release(first)
    kept = first[2] if release is None else released_member(first[2], release)
    for key in ordered[1:]:
        if not is_released_node(key):
            yield key[2], kept


TextParts = tuple[list[str], list[tuple]]
"""Part of the exact-copy keys as gathered by one worker: text keys and the keep key of each document."""


def copies_in_parts(parts: Iterable[TextParts]) -> Iterator[tuple[str, str]]:
    """``(loser doc_id, kept doc_id)`` for every non-kept copy among the merged ``parts`` of one shard."""
    first: dict[str, tuple] = {}
    copies: dict[str, list[tuple]] = {}
    for text_keys, keep_keys in parts:
        for text_key, keep in zip(text_keys, keep_keys):
            if text_key in first:
                copies.setdefault(text_key, [first[text_key]]).append(keep)
            else:
                first[text_key] = keep
    for keep_keys in copies.values():
        yield from duplicates_of_group(keep_keys)


def mark_duplicate(doc: Document, duplicates: dict[str, str]) -> Document:
    kept = duplicates.get(doc.doc_id)
    if kept is None or doc.reject_reason is not None:
        return doc
    kept, release = split_member(kept)
    if release is not None:
        Metrics.counter("exact_dedup", "released_duplicates").inc()
        return doc._replace(reject_reason=RELEASED_REASON, duplicate_of=kept, dup_cluster_id=kept,
                            duplicate_release=release, reject_detail=released_detail("exact", release))
    Metrics.counter("exact_dedup", "duplicates").inc()
    return doc._replace(reject_reason="exact_duplicate", duplicate_of=kept, dup_cluster_id=kept)


def _keyed(doc: Document, shards: int = KEY_SHARDS) -> tuple[int, TextParts]:
    text_key = exact_key(doc.text)
    return text_key_shard(text_key, shards), ([text_key], [keep_key(doc)])


class CopiesFromKeys(beam.PTransform):
    """``(shard, text parts)`` -> ``(loser doc_id, kept doc_id)`` for every non-kept copy.

    The parts of a shard (:data:`TextParts`, keyed by :func:`text_key_shard`)
    are merged after one ``GroupByKey``: a few large elements rather than one
    per document.
    """

    def expand(self, parts):
        return (
            parts
            | "Group copies" >> beam.GroupByKey()
            | "Losers" >> beam.FlatMap(lambda kv: copies_in_parts(kv[1]))
        )


class ExactDuplicates(beam.PTransform):
    """Documents -> ``(loser doc_id, kept doc_id)`` for every non-kept copy of an identical text."""

    def expand(self, docs):
        return (
            docs
            | "Live" >> beam.Filter(lambda d: d.reject_reason is None)
            | "Key by text" >> beam.Map(timed("dedup", _keyed))
            | "Copies" >> CopiesFromKeys()
        )


class ExactDedup(beam.PTransform):
    """Documents -> the same documents, the non-kept copies of identical texts marked ``exact_duplicate``."""

    def expand(self, docs):
        duplicates = docs | "Copies" >> ExactDuplicates()
        return (docs
                | "Join copies" >> JoinByDocId(KEY_SHARDS, kept=duplicates)
                | "Mark copies" >> beam.FlatMap(_mark_joined))


def _mark_joined(item: tuple[int, dict]) -> Iterator[Document]:
    for doc, found in joined_documents(item[1]):
        yield mark_duplicate(doc, {} if found["kept"] is None else {doc.doc_id: found["kept"]})
