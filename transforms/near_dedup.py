"""Near-duplicate removal: MinHash LSH, verified edges, connected components in Beam.

Pipeline (``NearDedup``), with what each shuffle carries:

1. Sign (:class:`Fingerprint`): documents, in batches buffered inside the step ->
   MinHash signatures (:func:`~provsieve.transforms.minhash.minhash_signatures`)
   and one 64-bit hash per LSH band, gathered per worker into parts
   (``{doc_id: (node, signature)}`` and ``((band, hash % shards), (hashes,
   doc_ids))``, see :class:`_Sign`). Nothing of the text leaves this step.
2. Band ``GroupByKey`` on ``(band, shard)``: the parts are merged
   (:func:`shared_buckets`). Buckets of one document (the vast majority) stop
   here, so a document without near-duplicates costs 14 list entries and one
   signature entry, and never enters steps 4-5.
3. The signature parts meet the shared-bucket memberships (and the documents
   left out, e.g. exact copies) in a ``CoGroupByKey`` on the doc_id shard
   (:func:`signatures_to_buckets`), then ``GroupByKey`` per shared bucket of
   ``(node, signature)``. No side input: each worker holds only its keys.
4. Verification inside each bucket (:func:`verify_bucket`): a candidate pair
   becomes an edge only if its estimated Jaccard is >= ``threshold``, so chains
   of weak matches cannot snowball into giant false clusters. A pair is judged
   only in the first band it shares, so each is counted and emitted once.
5. Connected components over the edges
   (:class:`~provsieve.transforms.connected_components.ComponentRoots`,
   large-star / small-star unrolled ``cc_rounds`` times). Nodes are the
   documents' :func:`~provsieve.transforms.keep_rule.keep_key` tuples, so the
   component minimum every node converges to *is* the document to keep.
6. Join back by doc_id shard (:class:`~provsieve.transforms.keyed_join.JoinByDocId`;
   the pipeline's :class:`~provsieve.transforms.dedup.Deduplicate` joins exact
   and near duplicates back in one pass).

Output: every input document, in the same shape:

* not in any cluster: ``dup_cluster_id = doc_id``, ``dup_cluster_size = 1``
  (so ``None`` keeps meaning "de-duplication did not run");
* kept document of a cluster of n: ``dup_cluster_id = doc_id``, ``dup_cluster_size = n``;
* the others: ``reject_reason = "near_duplicate"``, ``duplicate_of`` and
  ``dup_cluster_id`` = the kept doc_id (``dup_cluster_size`` left ``None``:
  setting it would need every member joined with its cluster's count on one key);
* documents that arrive already rejected (``reject_reason`` set, e.g. exact
  duplicates) pass through untouched and take no part, so a rejected document
  is never chosen as the copy to keep.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Optional

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from provsieve.transforms.connected_components import ComponentRoots
from provsieve.transforms.counting import in_global_window
from provsieve.transforms.document import Document, normalize_text, normalized_text_key
from provsieve.transforms.keep_rule import Node, keep_key
from provsieve.transforms.keyed_join import JoinByDocId, joined_documents, keyed_by_shard
from provsieve.transforms.released import (
    REJECT_REASON as RELEASED_REASON,
    is_released_member,
    is_released_node,
    node_release,
    released_detail,
)
from provsieve.transforms.minhash import (
    DEFAULT_NGRAM,
    DEFAULT_NUM_PERM,
    DEFAULT_SEED,
    DEFAULT_THRESHOLD,
    lsh_params,
    minhash_signatures,
)
from provsieve.transforms.timing import StageClock
from provsieve.transforms.write import shard_of

NAMESPACE = "near_dedup"
REJECT_REASON = "near_duplicate"

# --- pure logic ---------------------------------------------------------------------

_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash per LSH band and document: shape ``(n, bands)``.

    Hashing the ``rows`` values of a band to 64 bits keeps the band shuffle
    small; a collision only adds a candidate pair that verification rejects
    (and :func:`verify_bucket` checks the band values themselves).
    """
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    acc = np.zeros(sig.shape[:2], dtype=np.uint64)
    for j in range(rows):
        acc = (acc ^ sig[:, :, j]) * _BAND_MIX
        acc ^= acc >> np.uint64(29)
    return acc


def bucket_key(band: int, band_hash: int) -> bytes:
    return band.to_bytes(2, "big") + int(band_hash).to_bytes(8, "big")


KEY_SHARDS = 64
"""Default (and least) number of shards of the band, exact-copy and index keys (what one key holds after the shuffle)."""

INPUT_BYTES_PER_KEY_SHARD = 256 * 1024**2
"""Input bytes per key shard that :func:`key_shards_for` aims at: about 150k crawl pages (WARC.gz)."""


def key_shards_for(input_bytes: int) -> int:
    """Key shards for a run over ``input_bytes`` of input: :data:`KEY_SHARDS`, doubled until a shard holds about
    :data:`INPUT_BYTES_PER_KEY_SHARD` of it.

    A key of a band, exact-copy or index shuffle holds 1/shards of the corpus' entries and is merged on one
    worker; a fixed count would let that grow with the corpus and cap the shuffle's parallelism. The count
    changes how entries are grouped, never the result.
    """
    shards = KEY_SHARDS
    while shards * INPUT_BYTES_PER_KEY_SHARD < input_bytes:
        shards *= 2
    return shards


BandParts = tuple[np.ndarray, list[str]]
"""Part of one band's buckets as gathered by one worker: band hashes (uint64) and the doc_id of each.

Two flat sequences rather than a dict of lists: a worker holds one entry per
band and document until it flushes, and millions of small lists would cost
the garbage collector more than the hashing costs.
"""


def shared_buckets(band: int, parts: Iterable[BandParts]) -> Iterator[tuple[str, bytes]]:
    """``(doc_id, bucket key)`` for every member of a bucket of ``band`` with two documents or more.

    ``parts`` are the partial bucket lists of several workers (merged here);
    buckets of earlier releases' documents only take no part
    (:mod:`~provsieve.transforms.released`). Buckets come out in hash order.
    """
    parts = list(parts)
    if not parts:
        return
    hashes = np.concatenate([np.asarray(h, dtype=np.uint64) for h, _ in parts])
    doc_ids = [doc_id for _, ids in parts for doc_id in ids]
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
        members = [doc_ids[i] for i in order[start:start + size].tolist()]
        if not all(is_released_member(m) for m in members):
            key = bucket_key(band, int(ordered[start]))
            for doc_id in members:
                yield doc_id, key


class BucketResult(NamedTuple):
    candidates: int
    edges: list[tuple[Node, Node]]


def verify_bucket(band: int, members: Iterable[tuple[Node, bytes]], bands: int, rows: int,
                  threshold: float, max_partners: int = 64) -> BucketResult:
    """Candidate pairs of one LSH bucket and those whose estimated Jaccard >= threshold.

    A pair counts here only if ``band`` is the first band whose values the two
    signatures share (other buckets see the same pair). In a bucket of more than
    ``max_partners + 1`` documents each is compared only with the first
    ``max_partners`` (by node order) to bound the work at O(size x max_partners):
    enough to connect the members that are near-duplicates of them.
    """
    members = sorted(members)
    if len(members) < 2:
        return BucketResult(0, [])
    nodes = [m[0] for m in members]
    sigs = np.stack([np.frombuffer(m[1], dtype=np.uint32) for m in members])
    num_perm = sigs.shape[1]
    banded = sigs[:, : bands * rows].reshape(len(sigs), bands, rows)
    candidates = 0
    edges: list[tuple[Node, Node]] = []
    for i in range(min(len(members) - 1, max_partners)):
        same_band = (banded[i + 1:] == banded[i]).all(axis=2)  # (others, bands)
        first_band = np.where(same_band.any(axis=1), same_band.argmax(axis=1), -1)
        mine = np.flatnonzero(first_band == band)
        if not len(mine):
            continue
        candidates += len(mine)
        agree = np.count_nonzero(sigs[i + 1:][mine] == sigs[i], axis=1)
        for j in mine[agree >= threshold * num_perm - 1e-9]:
            edges.append((nodes[i], nodes[i + 1 + j]))
    return BucketResult(candidates, edges)


class Assignment(NamedTuple):
    kept: str
    """doc_id of the copy kept in the document's cluster."""
    size: Optional[int]
    """Cluster size, on the kept document's assignment only."""
    release: Optional[str] = None
    """The earlier release that holds ``kept`` (None: ``kept`` is a document of this run)."""


def tag_document(doc: Document, assignment: Optional[Assignment]) -> Document:
    """Fill the de-duplication columns from the document's cluster assignment (None: singleton)."""
    if doc.reject_reason is not None:
        return doc
    if assignment is None:
        return doc._replace(dup_cluster_id=doc.doc_id, dup_cluster_size=1)
    if assignment.release is not None:
        return doc._replace(dup_cluster_id=assignment.kept, duplicate_of=assignment.kept,
                            duplicate_release=assignment.release, reject_reason=RELEASED_REASON,
                            reject_detail=released_detail("near", assignment.release))
    if assignment.kept == doc.doc_id:
        return doc._replace(dup_cluster_id=doc.doc_id, dup_cluster_size=assignment.size)
    return doc._replace(dup_cluster_id=assignment.kept, duplicate_of=assignment.kept,
                        reject_reason=REJECT_REASON)


# --- Beam glue ----------------------------------------------------------------------

class _Sign(beam.DoFn):
    """Documents, signed ``batch_size`` at a time (rejected ones skipped) -> parts of signatures (main output), band buckets and exact-copy keys.

    The text is normalized once for both kinds of de-duplication. Rather than
    one element per document for its signature, one for its exact-copy key and
    one per band (16 per document: most of what the runner would otherwise
    move and group), the worker gathers them into parts and emits each every
    ``flush_entries`` entries and at the end of the bundle: Beam's combiner
    lifting, done by hand.

    * main: ``(doc_id shard, {doc_id: (node, signature bytes)})``;
    * ``bands``: ``((band, hash % shards), (band hashes, doc_ids))`` (:data:`BandParts`);
    * ``exact``: ``(text key shard, (text keys, nodes))`` (:func:`normalized_text_key`);
    * ``index`` (only with ``index_rows``): ``(doc_id shard, IndexColumns)``, what the
      release's index needs of each document, so the index writer computes nothing again.

    where ``node`` is the :func:`keep_key`. ``shards`` bounds what one key
    holds after a shuffle (1/``shards`` of a band's documents, of the text keys).
    """

    BANDS, EXACT, INDEX = "bands", "exact", "index"

    def __init__(self, num_perm: int, ngram: int, seed: int, bands: int, rows: int,
                 shards: int = KEY_SHARDS, flush_entries: int = 200_000, index_rows: bool = False,
                 batch_size: int = 256):
        self._batch_size = batch_size
        self._args = (num_perm, ngram, seed)
        self._bands, self._rows = bands, rows
        self._shards, self._flush_entries = shards, flush_entries
        self._index_rows = index_rows
        self._docs = Metrics.counter(NAMESPACE, "docs")
        self._clock = StageClock("dedup")

    def start_bundle(self) -> None:
        self._batch: list[Document] = []
        self._reset()

    def _reset(self) -> None:
        self._parts: dict[tuple[int, int], tuple[list[int], list[str]]] = {}
        self._sigs: dict[int, dict[str, tuple[Node, bytes]]] = {}
        self._exact: dict[int, tuple[list[str], list[Node]]] = {}
        self._index: dict[int, IndexColumns] = {}
        self._entries = 0

    def process(self, doc: Document) -> Iterator:
        if doc.reject_reason is not None:  # already rejected: not a candidate
            return
        self._batch.append(doc)
        if len(self._batch) >= self._batch_size:
            yield from self._sign_batch()

    def _sign_batch(self) -> Iterator:
        """Sign the buffered documents (one NumPy pass for the batch) and add them to the parts."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        with self._clock:
            norms = [normalize_text(d.text) for d in batch]
            text_keys = [normalized_text_key(n) for n in norms]
            sigs = minhash_signatures(norms, *self._args, normalized=True)
            hashes = band_hashes(sigs, self._bands, self._rows)
        self._docs.inc(len(batch))
        shards, parts, exact, signatures = self._shards, self._parts, self._exact, self._sigs
        index = self._index if self._index_rows else None
        for doc, text_key, sig, row, shard_row in zip(batch, text_keys, sigs, hashes.tolist(),
                                                      (hashes % np.uint64(shards)).tolist()):
            node = keep_key(doc)
            sig_bytes = sig.tobytes()
            doc_shard = shard_of(doc.doc_id, shards)
            part = signatures.get(doc_shard)
            if part is None:
                part = signatures[doc_shard] = {}
            part[doc.doc_id] = (node, sig_bytes)
            _append_pair(exact, text_key_shard(text_key, shards), text_key, node)
            if index is not None:
                _append_index_row(index, doc_shard, doc.doc_id, text_key, sig_bytes,
                                  node[1] or None)
            doc_id = doc.doc_id
            for band, (h, shard) in enumerate(zip(row, shard_row)):  # 16 a document: _append_pair inlined
                part = parts.get((band, shard))
                if part is None:
                    part = parts[(band, shard)] = ([], [])
                part[0].append(h)
                part[1].append(doc_id)
        self._entries += len(batch) * (self._bands + 2)
        if self._entries >= self._flush_entries:
            yield from self._flush()

    def finish_bundle(self) -> Iterator:
        for out in itertools.chain(self._sign_batch(), self._flush()):
            if isinstance(out, beam.pvalue.TaggedOutput):
                yield beam.pvalue.TaggedOutput(out.tag, in_global_window(out.value))
            else:
                yield in_global_window(out)

    def _flush(self) -> Iterator:
        parts, exact, sigs, index = self._parts, self._exact, self._sigs, self._index
        self._reset()
        for shard in sorted(sigs):
            yield shard, sigs[shard]
        for shard in sorted(exact):
            yield beam.pvalue.TaggedOutput(self.EXACT, (shard, exact[shard]))
        for shard in sorted(index):
            yield beam.pvalue.TaggedOutput(self.INDEX, (shard, index[shard]))
        for key in sorted(parts):
            hashes, doc_ids = parts[key]
            yield beam.pvalue.TaggedOutput(self.BANDS, (key, (np.array(hashes, dtype=np.uint64), doc_ids)))


class IndexColumns(NamedTuple):
    """A part of the index rows of one doc_id shard, as columns (see :mod:`~provsieve.transforms.dedup_index`)."""

    doc_ids: list[str]
    text_keys: list[str]
    """Hex :func:`normalized_text_key` of each document."""
    signatures: list[bytes]
    """MinHash signature of each document (uint32 values, native order)."""
    evidence_dates: list[Optional[str]]
    """:func:`evidence_date` of each document."""


def _append_index_row(index: dict[int, IndexColumns], shard: int, doc_id: str, text_key: str, signature: bytes,
                      evidence: Optional[str]) -> None:
    part = index.get(shard)
    if part is None:
        part = index[shard] = IndexColumns([], [], [], [])
    part.doc_ids.append(doc_id)
    part.text_keys.append(text_key)
    part.signatures.append(signature)
    part.evidence_dates.append(evidence)


def _append_pair(parts: dict, key, first, second) -> None:
    """Append to the two parallel lists of ``parts[key]`` (created empty)."""
    part = parts.get(key)
    if part is None:
        part = parts[key] = ([], [])
    part[0].append(first)
    part[1].append(second)


def text_key_shard(text_key: str, shards: int) -> int:
    """Shard of a hex text key (:func:`normalized_text_key`) among ``shards``."""
    return int(text_key[:8], 16) % shards


def signatures_to_buckets(item: tuple[int, dict[str, list]]) -> Iterator[tuple[bytes, tuple[Node, bytes]]]:
    """``(bucket key, (node, signature))`` for each shared bucket of each document of one doc_id shard.

    ``item``: a shard and what the ``CoGroupByKey`` gathered for it: ``"sig"``
    (parts ``{doc_id: (node, signature)}``), ``"buckets"`` (``(doc_id, bucket
    key)`` memberships) and, where given, ``"excluded"`` (``(doc_id, _)``:
    those documents take no part).
    """
    _, joined = item
    excluded = {doc_id for doc_id, _ in joined.get("excluded", ())}
    buckets: dict[str, list[bytes]] = {}
    for doc_id, key in joined["buckets"]:
        if doc_id not in excluded:
            buckets.setdefault(doc_id, []).append(key)
    if not buckets:
        return
    for part in joined["sig"]:
        for doc_id, node_sig in part.items():
            for key in buckets.get(doc_id, ()):
                yield key, node_sig


def verifiable(members: list[tuple[Node, bytes]]) -> bool:
    """Whether a shared bucket, as its members reached it, can hold a pair to judge.

    Two members at least (the others may have been left out) and not only
    earlier releases' documents (their pairs were settled when they were released).
    """
    return len(members) > 1 and not all(is_released_node(node) for node, _ in members)


class _Verify(beam.DoFn):
    def __init__(self, bands: int, rows: int, threshold: float):
        self._params = (bands, rows, threshold)
        self._candidates = Metrics.counter(NAMESPACE, "candidate_pairs")
        self._verified = Metrics.counter(NAMESPACE, "verified_pairs")
        self._buckets = Metrics.counter(NAMESPACE, "shared_buckets")
        self._clock = StageClock("dedup")

    def process(self, item: tuple[bytes, Iterable[tuple[Node, bytes]]]) -> Iterator:
        key, members = item
        members = list(members)
        if not verifiable(members):
            return
        self._buckets.inc()
        with self._clock:
            result = verify_bucket(int.from_bytes(key[:2], "big"), members, *self._params)
        self._candidates.inc(result.candidates)
        self._verified.inc(len(result.edges))
        yield from result.edges


def _kept_assignment(item: tuple[Node, int]) -> Iterator[tuple[str, Assignment]]:
    root, n_members = item
    if is_released_node(root):  # a cluster an earlier release kept already: its members say so
        return
    Metrics.counter(NAMESPACE, "clusters").inc()
    yield root[2], Assignment(root[2], n_members + 1)


def _duplicate_assignment(item: tuple[Node, Node]) -> Iterator[tuple[str, Assignment]]:
    node, root = item
    if is_released_node(node):  # never marked: it is published already
        return
    release = node_release(root)
    Metrics.counter(NAMESPACE, "duplicates" if release is None else "released_duplicates").inc()
    yield node[2], Assignment(root[2], None, release)


def lsh_bands_rows(threshold: float, num_perm: int, bands: Optional[int] = None, rows: Optional[int] = None
                   ) -> tuple[int, int]:
    """``(bands, rows)``: as given, or as datasketch's ``MinHashLSH`` would choose them for ``threshold``."""
    if (bands is None) != (rows is None):
        raise ValueError("give both bands and rows, or neither")
    if bands is None:
        bands, rows = lsh_params(threshold, num_perm)
    if bands * rows > num_perm:
        raise ValueError(f"{bands} bands x {rows} rows > {num_perm} permutations")
    return bands, rows


class Fingerprint(beam.PTransform):
    """Live Documents -> their de-duplication keys; nothing of the text leaves this step.

    Outputs (``result.sigs``, ``result.bands``, ``result.exact``): parts of
    ``(doc_id shard, {doc_id: (node, signature bytes)})``, ``((band, shard), (band hashes, doc_ids))``
    and ``(shard, (text keys, nodes))``, where ``node`` is the :func:`keep_key`
    (see :class:`_Sign`). Documents already rejected are left out.
    """

    def __init__(self, num_perm: int, ngram: int, seed: int, bands: int, rows: int,
                 batch_size: int = 256, band_shards: int = KEY_SHARDS,
                 flush_entries: int = 200_000, index_rows: bool = False):
        """``index_rows``: also output ``result.index``, parts ``(doc_id shard, IndexColumns)`` for the index writer."""
        super().__init__()
        self._sign = _Sign(num_perm, ngram, seed, bands, rows, band_shards, flush_entries, index_rows, batch_size)

    def expand(self, docs):
        return docs | "Sign" >> beam.ParDo(self._sign).with_outputs(_Sign.BANDS, _Sign.EXACT, _Sign.INDEX,
                                                                      main="sigs")


class ClusterSignatures(beam.PTransform):
    """``{"sigs": ..., "bands": ...}`` of :class:`Fingerprint` -> ``(doc_id, Assignment)`` for every clustered document.

    Steps 2-5 of the module docstring. ``excluded``: an optional PCollection
    keyed by doc_id (e.g. the exact copies already rejected) whose documents
    take no part; it meets the signatures in the join by doc_id shard, so a bucket
    whose other members are all left out yields no pair.
    """

    def __init__(self, bands: int, rows: int, threshold: float, cc_rounds: int = 6,
                 excluded: Optional[beam.PCollection] = None, key_shards: int = KEY_SHARDS):
        """``key_shards``: the doc_id shards of :class:`Fingerprint`'s signature parts."""
        super().__init__()
        self.bands, self.rows, self.threshold = bands, rows, threshold
        self.cc_rounds, self.excluded, self.key_shards = cc_rounds, excluded, key_shards

    def expand(self, fingerprints):
        memberships = (fingerprints["bands"]
                       | "GroupBands" >> beam.GroupByKey()
                       | "SharedBuckets" >> beam.FlatMapTuple(lambda key, parts: shared_buckets(key[0], parts)))
        per_shard = {"sig": fingerprints["sigs"],
                     "buckets": memberships | "Shard buckets" >> beam.Map(keyed_by_shard, self.key_shards)}
        if self.excluded is not None:
            per_shard["excluded"] = self.excluded | "Shard excluded" >> beam.Map(keyed_by_shard, self.key_shards)
        edges = (per_shard
                 | "BucketsPerShard" >> beam.CoGroupByKey()
                 | "ToBuckets" >> beam.FlatMap(signatures_to_buckets)
                 | "GroupBuckets" >> beam.GroupByKey()
                 | "Verify" >> beam.ParDo(_Verify(self.bands, self.rows, self.threshold)))
        roots = edges | "Components" >> ComponentRoots(self.cc_rounds, (NAMESPACE, "cc_unsettled_nodes"))
        kept = (roots
                | "RootOnly" >> beam.Map(lambda nr: (nr[1], 1))
                | "ClusterSize" >> beam.CombinePerKey(sum)
                | "Kept" >> beam.FlatMap(_kept_assignment))
        dups = roots | "Duplicates" >> beam.FlatMap(_duplicate_assignment)
        return (kept, dups) | "Assignments" >> beam.Flatten()


class NearDuplicateAssignments(beam.PTransform):
    """Documents -> ``(doc_id, Assignment)`` for every document in a near-duplicate cluster.

    :class:`Fingerprint` then :class:`ClusterSignatures`; the documents
    themselves are not touched, so the caller joins the assignments back
    however suits it. ``threshold``: the Jaccard level the LSH bands are tuned
    for (bands x rows chosen as datasketch's ``MinHashLSH`` does, unless given)
    and the minimum estimated Jaccard of a verified pair.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 ngram: int = DEFAULT_NGRAM, seed: int = DEFAULT_SEED,
                 bands: Optional[int] = None, rows: Optional[int] = None,
                 cc_rounds: int = 6, batch_size: int = 256, **fingerprint_options: int):
        """``fingerprint_options``: ``band_shards``, ``flush_entries`` of :class:`Fingerprint`."""
        super().__init__()
        self.bands, self.rows = lsh_bands_rows(threshold, num_perm, bands, rows)
        self.fingerprint = Fingerprint(num_perm, ngram, seed, self.bands, self.rows, batch_size,
                                       **fingerprint_options)
        self.cluster = ClusterSignatures(self.bands, self.rows, threshold, cc_rounds,
                                         key_shards=fingerprint_options.get("band_shards", KEY_SHARDS))
        self.key_shards = self.cluster.key_shards

    def expand(self, docs):
        keys = docs | "Fingerprint" >> self.fingerprint
        return {"sigs": keys.sigs, "bands": keys.bands} | "Cluster" >> self.cluster


class NearDedup(beam.PTransform):
    """Tag near-duplicate Documents (module docstring: method and output columns).

    Parameters as :class:`NearDuplicateAssignments`. The assignments of the
    clustered documents meet the documents in a join by doc_id shard
    (:class:`~provsieve.transforms.keyed_join.JoinByDocId`), never in a side
    input, so no worker holds more than its share of them.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 ngram: int = DEFAULT_NGRAM, seed: int = DEFAULT_SEED,
                 bands: Optional[int] = None, rows: Optional[int] = None,
                 cc_rounds: int = 6, batch_size: int = 256, **fingerprint_options: int):
        super().__init__()
        self.assignments = NearDuplicateAssignments(threshold, num_perm, ngram, seed, bands, rows, cc_rounds,
                                                    batch_size, **fingerprint_options)
        self.bands, self.rows = self.assignments.bands, self.assignments.rows

    def expand(self, docs):
        assignments = docs | "Clusters" >> self.assignments
        return (docs
                | "JoinAssignments" >> JoinByDocId(self.assignments.key_shards, assignment=assignments)
                | "Tag" >> beam.FlatMap(_tag_joined))


def _tag_joined(item: tuple[int, dict]) -> Iterator[Document]:
    for doc, found in joined_documents(item[1]):
        yield tag_document(doc, found["assignment"])
