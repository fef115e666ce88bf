"""De-duplication as the pipeline runs it: exact copies, then near duplicates, joined back in one pass.

One step (:class:`~provsieve.transforms.near_dedup.Fingerprint`) normalizes
each text once and emits its exact-copy key, MinHash signature and LSH band
keys, in the stage that reads the documents. From there only ids, keys and
signatures are shuffled: :class:`~provsieve.transforms.exact_dedup.CopiesFromKeys`
finds the exact copies, :class:`~provsieve.transforms.near_dedup.ClusterSignatures`
the near-duplicate clusters. An exact copy's verdict also needs the cluster of
the copy it loses to: the two meet by the kept copy's id
(:func:`dedup_verdicts`), so each document has at most one verdict. The
verdicts meet the documents once, in a join by doc_id shard
(:class:`~provsieve.transforms.keyed_join.JoinByDocId`, no side input, so no
worker holds all of them), and :func:`mark_duplicates` fills the columns.
Run one after the other, exact and near de-duplication would each join their
verdicts back on their own, and the runner would move every document twice;
here it moves it once. The exact
copies take no part in near de-duplication (the band step leaves them out),
so the result is the same as exact de-duplication followed by near
de-duplication of what is left (``tests/test_dedup.py``).

With ``--after``, the documents kept by earlier releases are read from their
indexes (:class:`~provsieve.transforms.dedup_index.ReadReleasedIndex`) and
flattened into the same three shuffles; they always win
(:mod:`~provsieve.transforms.released`), so a copy of one is marked
``released_duplicate`` and nothing of the earlier releases is changed.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple, Optional, Sequence

import apache_beam as beam

from provsieve.transforms.dedup_index import ReadReleasedIndex
from provsieve.transforms.document import Document
from provsieve.transforms.exact_dedup import CopiesFromKeys, mark_duplicate
from provsieve.transforms.keyed_join import JoinByDocId, first_or_none, joined_documents
from provsieve.transforms.released import released_detail, released_kind, split_member
from provsieve.transforms.minhash import DEFAULT_NGRAM, DEFAULT_NUM_PERM, DEFAULT_SEED, DEFAULT_THRESHOLD
from provsieve.transforms.near_dedup import (
    KEY_SHARDS,
    Assignment,
    ClusterSignatures,
    Fingerprint,
    lsh_bands_rows,
    tag_document,
)


def mark_duplicates(doc: Document, exact_losers: dict[str, str], near: dict[str, Assignment],
                    release_names: Optional[dict[str, str]] = None) -> Document:
    """The document with its de-duplication columns filled (or untouched, when already rejected).

    An exact copy's ``duplicate_of`` is the copy kept of its text; its
    ``dup_cluster_id`` is the document kept for the whole cluster, which is
    another one when that copy is itself a near duplicate. So every document
    of a cluster, whatever kind of copy it is, carries the same ``dup_cluster_id``.
    ``release_names``: the earlier releases by the short tag their documents
    carry through the shuffles (:func:`release_tags`).
    """
    if doc.reject_reason is not None:
        return doc
    marked = _mark(doc, exact_losers, near)
    if release_names and marked.duplicate_release is not None:
        name = release_names[marked.duplicate_release]
        return marked._replace(duplicate_release=name,
                               reject_detail=released_detail(released_kind(marked.reject_detail), name))
    return marked


def _mark(doc: Document, exact_losers: dict[str, str], near: dict[str, Assignment]) -> Document:
    kept_copy = exact_losers.get(doc.doc_id)
    if kept_copy is not None:
        cluster = near.get(kept_copy)
        if cluster is not None and cluster.release is not None:  # its kept copy is an earlier release's copy
            return tag_document(doc, cluster)
        return mark_duplicate(doc, exact_losers)._replace(
            dup_cluster_id=cluster.kept if cluster is not None else split_member(kept_copy)[0])
    return tag_document(doc, near.get(doc.doc_id))


class DedupVerdict(NamedTuple):
    """What de-duplication found about one document that is a copy or in a cluster."""

    exact_kept: Optional[str]
    """The copy of its text kept (the document is an exact copy), or None (it is in a near-duplicate cluster)."""
    cluster: Optional[Assignment]
    """Its cluster's assignment; for an exact copy, that of ``exact_kept`` (None: not in a cluster)."""


def dedup_verdicts(item: tuple[str, dict[str, list]]) -> Iterator[tuple[str, DedupVerdict]]:
    """``(doc_id, verdict)`` for a document and the exact copies of it, from what was joined on its id.

    ``item``: a doc_id and ``{"losers": exact copies that lost to it, "near": its cluster assignment}``.
    """
    doc_id, joined = item
    cluster = first_or_none(joined["near"])
    if cluster is not None:
        yield doc_id, DedupVerdict(None, cluster)
    for loser in joined["losers"]:
        yield loser, DedupVerdict(doc_id, cluster)


def mark_with_verdict(doc: Document, verdict: Optional[DedupVerdict],
                      release_names: Optional[dict[str, str]] = None) -> Document:
    """:func:`mark_duplicates` with the one verdict the join found for the document (None: a singleton)."""
    if verdict is None:
        return mark_duplicates(doc, {}, {}, release_names)
    if verdict.exact_kept is None:
        return mark_duplicates(doc, {}, {doc.doc_id: verdict.cluster}, release_names)
    near = {} if verdict.cluster is None else {verdict.exact_kept: verdict.cluster}
    return mark_duplicates(doc, {doc.doc_id: verdict.exact_kept}, near, release_names)


def _mark_joined(item: tuple[int, dict[str, list]], release_names: dict[str, str]) -> Iterator[Document]:
    for doc, found in joined_documents(item[1]):
        yield mark_with_verdict(doc, found["verdict"], release_names)


def release_tags(files: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``(index file, release)`` -> the same with a short tag for each release, and the tags' releases.

    Every released document carries its release through the band shuffle
    once per band: a tag of a few characters rather than the release's path.
    """
    names = {str(i): release for i, release in enumerate(sorted({r for _, r in files}))}
    tags = {release: tag for tag, release in names.items()}
    return [(path, tags[release]) for path, release in files], names


class Deduplicate(beam.PTransform):
    """Documents -> the same documents, exact copies and near duplicates marked (module docstring)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 ngram: int = DEFAULT_NGRAM, seed: int = DEFAULT_SEED,
                 released: Sequence[tuple[str, str]] = (), index_rows: bool = False, key_shards: int = KEY_SHARDS):
        """``released``: ``(index file, release)`` of earlier releases (``--after``), whose documents win.

        ``index_rows``: output ``{"docs": documents, "index": Fingerprint's index parts}``
        (for :class:`~provsieve.transforms.dedup_index.WriteIndex`) instead of the documents alone.
        ``key_shards``: shards of the band, exact-copy and index keys (:func:`~provsieve.transforms.near_dedup.key_shards_for`).
        """
        super().__init__()
        bands, rows = lsh_bands_rows(threshold, num_perm)
        self._index_rows = index_rows
        self._fingerprint = Fingerprint(num_perm, ngram, seed, bands, rows, band_shards=key_shards,
                                        index_rows=index_rows)
        self._cluster = (bands, rows, threshold)
        self._key_shards = key_shards
        files, self._release_names = release_tags(released)
        self._released = ReadReleasedIndex(files, bands, rows, key_shards) if files else None

    def expand(self, docs):
        keys = docs | "Fingerprint" >> self._fingerprint
        exact_keys, sigs, bands = keys.exact, keys.sigs, keys.bands
        if self._released is not None:  # the earlier releases' documents join the same shuffles
            index = docs.pipeline | "Released index" >> self._released
            exact_keys = (exact_keys, index.exact) | "With released keys" >> beam.Flatten()
            sigs = (sigs, index.sigs) | "With released signatures" >> beam.Flatten()
            bands = (bands, index.bands) | "With released bands" >> beam.Flatten()
        exact = exact_keys | "Exact copies" >> CopiesFromKeys()
        near = ({"sigs": sigs, "bands": bands}
                | "Near duplicates" >> ClusterSignatures(*self._cluster, excluded=exact, key_shards=self._key_shards))
        verdicts = ({"losers": exact | "By kept copy" >> beam.MapTuple(lambda loser, kept: (kept, loser)),
                     "near": near}
                    | "Meet kept copies" >> beam.CoGroupByKey()
                    | "Verdicts" >> beam.FlatMap(dedup_verdicts))
        marked = (docs
                  | "Join verdicts" >> JoinByDocId(self._key_shards, verdict=verdicts)
                  | "Mark duplicates" >> beam.FlatMap(_mark_joined, self._release_names))
        return {"docs": marked, "index": keys.index} if self._index_rows else marked
