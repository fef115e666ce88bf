"""The de-duplication index of a release (``OUT/index/*.parquet``), written and read back.

Every run writes one row per kept document: its ``doc_id``, the key of its
normalized text (exact copies), its MinHash signature (the LSH band keys are
recomputed from it, and it verifies a candidate pair's Jaccard as inside a
run) and ``evidence_date``, the oldest evidence the keep rule uses (see
:func:`~provsieve.transforms.keep_rule.evidence_date`). The near duplicates
the run rejected get a row too, with ``kept_doc_id`` naming the document kept
in their place: a later copy of one of them is a copy of that kept document
even when it is not near enough to it, as one run over both would have found
through the near duplicate (exact copies need no row: their text key and
signature are their kept copy's). The parameters that
make two indexes comparable are in every file's Parquet metadata and in the
manifest (:func:`index_params`); a later run checks them before it starts.

A later run (``--after``) reads the index files of its earlier releases with
:class:`ReadReleasedIndex`, which turns each row group into the same parts as
the run's own :class:`~provsieve.transforms.near_dedup.Fingerprint` (exact-copy
keys, band buckets, signatures), so the released documents go through the very
same shuffles as the new ones: no side input holds the index.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Optional, Sequence

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from provsieve.transforms.keyed_join import GatherByShard
from provsieve.transforms.document import Document, normalize_text, normalized_text_key
from provsieve.transforms.minhash import minhash_signatures
from provsieve.transforms.keep_rule import evidence_date
from provsieve.transforms.near_dedup import KEY_SHARDS, band_hashes, text_key_shard
from provsieve.transforms.released import released_member, released_node
from provsieve.transforms.timing import StageClock
from provsieve.transforms.write import WriteTableShards, shard_of

INDEX_KIND = "index"
"""The ``kind`` of index files among the shards (``OUT/index/part-*.parquet``)."""
INDEX_ROWS_PER_SHARD = 250_000
"""Rows per index file (~120 MB at 112 permutations): enough files for later runs to read in parallel."""
NORMALIZATION = "nfkc-lower-fold-nonalnum-v1"
"""Version of :func:`~provsieve.transforms.document.normalize_text`: bump it when the normalization changes."""
SHINGLE_HASH = "provsieve-H-v1/datasketch-affine32"
"""The shingle hash and permutation scheme of :mod:`~provsieve.transforms.minhash`."""
METADATA_KEY = b"provsieve.dedup_index"
COMPARED = ("num_perm", "ngram", "seed", "bands", "rows", "normalization", "shingle_hash")
"""Parameters that must be equal for two indexes (or an index and a run) to be comparable."""


def index_params(num_perm: int, ngram: int, seed: int, bands: int, rows: int, threshold: float) -> dict[str, Any]:
    """The parameters of an index, as recorded in its files and in the manifest."""
    return {"num_perm": num_perm, "ngram": ngram, "seed": seed, "bands": bands, "rows": rows,
            "threshold": threshold, "normalization": NORMALIZATION, "shingle_hash": SHINGLE_HASH}


def param_mismatches(release: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """``name: release X, this run Y`` for every compared parameter that differs."""
    return [f"{name}: release {release.get(name)!r}, this run {ours.get(name)!r}"
            for name in COMPARED if release.get(name) != ours.get(name)]


def index_schema(params: dict[str, Any]) -> pa.Schema:
    return pa.schema([
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("text_key", pa.binary(20), nullable=False),
        pa.field("signature", pa.binary(4 * params["num_perm"]), nullable=False),
        pa.field("evidence_date", pa.string()),
        pa.field("kept_doc_id", pa.string()),
    ], metadata={METADATA_KEY: json.dumps(params, sort_keys=True).encode()})


def index_rows(doc_ids: Sequence[str], texts: Sequence[str], evidence: Sequence[Optional[str]],
               params: dict[str, Any], kept_ids: Optional[Sequence[Optional[str]]] = None) -> pa.Table:
    """The index rows of documents given by columns (as :func:`index_table`; also used by ``provsieve index``).

    ``kept_ids``: for a near duplicate, the document kept in its place (None for a kept document).
    """
    norms = [normalize_text(t) for t in texts]
    sigs = minhash_signatures(norms, params["num_perm"], params["ngram"], params["seed"], normalized=True)
    return columns_table(doc_ids, [normalized_text_key(n) for n in norms], [row.tobytes() for row in sigs],
                         evidence, params, kept_ids)


def columns_table(doc_ids: Sequence[str], text_keys: Sequence[str], signatures: Sequence[bytes],
                  evidence: Sequence[Optional[str]], params: dict[str, Any],
                  kept_ids: Optional[Sequence[Optional[str]]] = None) -> pa.Table:
    """Index rows from their columns: hex text keys (:func:`normalized_text_key`), signature bytes."""
    schema = index_schema(params)
    return pa.table({
        "doc_id": pa.array(list(doc_ids), pa.string()),
        "text_key": pa.array([bytes.fromhex(k) for k in text_keys], schema.field("text_key").type),
        "signature": pa.array(list(signatures), schema.field("signature").type),
        "evidence_date": pa.array(list(evidence), pa.string()),
        "kept_doc_id": pa.array(list(kept_ids) if kept_ids is not None else [None] * len(doc_ids), pa.string()),
    }, schema=schema)


def index_table(docs: Sequence[Document], params: dict[str, Any]) -> pa.Table:
    """The index rows of kept documents and near duplicates (``kept_doc_id`` = their ``duplicate_of``), in order."""
    return index_rows([d.doc_id for d in docs], [d.text for d in docs], [evidence_date(d) for d in docs], params,
                      [d.duplicate_of if d.reject_reason else None for d in docs])


NearRow = tuple[str, str, bytes, Optional[str], str]
"""A near duplicate's index row on its way to the join with the kept ids: doc_id, text key, signature,
evidence date, kept_doc_id (plain values: the runner encodes them without pickling, unlike a table)."""


def shard_rows(item: tuple[int, dict[str, Iterable]], params: dict[str, Any], shards: int = KEY_SHARDS
               ) -> Iterator[tuple[str, Any]]:
    """The index rows of one doc_id shard, from the de-duplication step's columns (nothing computed again).

    ``item``: ``(shard, {"rows": IndexColumns parts, "kept": doc_id lists, "near": (doc_id, kept_doc_id) lists})``.
    Yields ``("kept", table)`` for the kept documents and ``("near", (kept shard, [NearRow, ...]))`` for the near
    duplicates, keyed by the shard of the document kept in their place (:func:`surviving_near_rows` joins them).
    """
    _, grouped = item
    kept = {doc_id for ids in grouped["kept"] for doc_id in ids}
    near = {doc_id: kept_id for pairs in grouped["near"] for doc_id, kept_id in pairs}
    if not kept and not near:
        return
    with _INDEX_CLOCK:
        columns: tuple[list, ...] = ([], [], [], [])
        near_by_shard: dict[int, list[NearRow]] = {}
        for part in grouped["rows"]:
            for row in zip(part.doc_ids, part.text_keys, part.signatures, part.evidence_dates):
                if row[0] in kept or row[0] in near:
                    kept_id = near.get(row[0])
                    if kept_id is None:
                        for column, value in zip(columns, row):
                            column.append(value)
                    else:
                        near_by_shard.setdefault(shard_of(kept_id, shards), []).append(row + (kept_id,))
        kept_rows = columns_table(*columns, params) if columns[0] else None
    if kept_rows is not None:
        yield "kept", kept_rows
    for shard in sorted(near_by_shard):
        yield "near", (shard, near_by_shard[shard])


def surviving_near_rows(item: tuple[int, dict[str, Iterable]], params: dict[str, Any]) -> Iterator[pa.Table]:
    """The near duplicates' rows of one join shard whose kept copy is kept in the end (not rejected later)."""
    _, grouped = item
    kept = {doc_id for ids in grouped["kept"] for doc_id in ids}
    rows = [row for part in grouped["near"] for row in part if row[4] in kept]
    if rows:
        doc_ids, text_keys, signatures, evidence, kept_ids = (list(column) for column in zip(*rows))
        yield columns_table(doc_ids, text_keys, signatures, evidence, params, kept_ids)


def _tagged_shard_rows(item: tuple[int, dict[str, Iterable]], params: dict[str, Any], shards: int) -> Iterator:
    for tag, part in shard_rows(item, params, shards):
        yield part if tag == "kept" else beam.pvalue.TaggedOutput(tag, part)


def _doc_id(doc: Document) -> str:
    return doc.doc_id


def _near_pair(doc: Document) -> tuple[str, str]:
    return doc.doc_id, doc.duplicate_of


_INDEX_CLOCK = StageClock("index")


class WriteIndex(beam.PTransform):
    """``{"kept": Documents, "near": near duplicates, "rows": index parts}`` -> index files under ``staging_dir/index/``.

    Outputs a :class:`ShardInfo` per file. ``rows`` are the de-duplication
    step's ``(doc_id shard, IndexColumns)`` parts (``Fingerprint(index_rows=True)``):
    the text keys and signatures it computed, carried here through a
    ``CoGroupByKey`` on the doc_id shard with the ids of the documents kept in
    the end, rather than computed a second time. A near duplicate gets a row
    only if the document kept in its place is kept in the end (a later step,
    e.g. the AI filter, may reject it): a second join, on the kept copy's shard.
    Only ids and index columns are shuffled, never documents.
    """

    def __init__(self, staging_dir: str, params: dict[str, Any], key_shards: int = KEY_SHARDS):
        """``key_shards``: the de-duplication step's (its index parts are keyed by ``shard_of(doc_id, key_shards)``)."""
        super().__init__()
        self._staging_dir = staging_dir
        self._params = params
        self._shards = key_shards

    def expand(self, docs):
        kept_ids = docs["kept"] | "Kept ids" >> beam.ParDo(GatherByShard(_doc_id, self._shards))
        near_ids = docs["near"] | "Near ids" >> beam.ParDo(GatherByShard(_near_pair, self._shards))
        kept_rows, near_rows = (
            {"rows": docs["rows"], "kept": kept_ids, "near": near_ids}
            | "Join rows" >> beam.CoGroupByKey()
            | "Rows" >> beam.FlatMap(_tagged_shard_rows, self._params, self._shards).with_outputs("near", main="kept"))
        surviving = ({"kept": kept_ids, "near": near_rows}
                     | "Join kept copies" >> beam.CoGroupByKey()
                     | "Kept copies only" >> beam.FlatMap(surviving_near_rows, self._params))
        rows = (kept_rows, surviving) | "All rows" >> beam.Flatten()
        return rows | "Files" >> WriteTableShards(self._staging_dir, INDEX_KIND, INDEX_ROWS_PER_SHARD)


def read_params(path: str) -> Optional[dict[str, Any]]:
    """The parameters recorded in an index file's Parquet metadata (None if it has none)."""
    with FileSystems.open(path) as f:
        metadata = pq.ParquetFile(f).schema_arrow.metadata or {}
    raw = metadata.get(METADATA_KEY)
    return json.loads(raw) if raw else None


def signature_matrix(table: pa.Table) -> np.ndarray:
    """The ``signature`` column of index rows as a ``(rows, num_perm)`` uint32 matrix (no copy)."""
    raw = table.column("signature").combine_chunks()
    width = raw.type.byte_width
    return np.frombuffer(raw.buffers()[1], dtype=np.uint32, count=len(raw) * width // 4,
                         offset=raw.offset * width).reshape(len(raw), width // 4)


def released_names(table: pa.Table) -> list[str]:
    """The published document each index row stands for: itself, or the kept copy of a near duplicate."""
    kept = table.column("kept_doc_id").to_pylist() if "kept_doc_id" in table.column_names else None
    doc_ids = table.column("doc_id").to_pylist()
    return [k or d for k, d in zip(kept, doc_ids)] if kept else doc_ids


def index_row_groups(path: str) -> Iterator[pa.Table]:
    """The row groups of an index file on any Beam filesystem, one table at a time."""
    with FileSystems.open(path) as f:
        pf = pq.ParquetFile(f)
        for group in range(pf.num_row_groups):
            yield pf.read_row_group(group)


def released_parts(table: pa.Table, release: str, bands: int, rows: int, shards: int = KEY_SHARDS
                   ) -> Iterator[tuple[str, Any]]:
    """``(output tag, part)`` of the rows of one release's index, shaped as :class:`Fingerprint`'s parts.

    Tags: ``"sigs"`` (``(member shard, {member: (node, signature)})``), ``"bands"``
    (``((band, shard), (hashes, members))``) and ``"exact"``
    (``(shard, (text keys, nodes))``); members and nodes as in
    :mod:`~provsieve.transforms.released`.
    """
    if not table.num_rows:
        return
    doc_ids = table.column("doc_id").to_pylist()
    evidence = table.column("evidence_date").to_pylist()
    text_keys = [k.hex() for k in table.column("text_key").to_pylist()]
    sigs = signature_matrix(table)
    names = released_names(table)
    nodes = [released_node(e, d, release) for e, d in zip(evidence, names)]
    members = [released_member(d, release) for d in doc_ids]
    by_shard: dict[int, dict[str, tuple]] = {}
    for member, node, sig in zip(members, nodes, sigs):
        by_shard.setdefault(shard_of(member, shards), {})[member] = (node, sig.tobytes())
    for shard in sorted(by_shard):
        yield "sigs", (shard, by_shard[shard])
    exact: dict[int, tuple[list[str], list[tuple]]] = {}
    for key, node in zip(text_keys, nodes):
        part = exact.setdefault(text_key_shard(key, shards), ([], []))
        part[0].append(key)
        part[1].append(node)
    for shard in sorted(exact):
        yield "exact", (shard, exact[shard])
    hashes = band_hashes(sigs, bands, rows)
    for band in range(bands):
        column = hashes[:, band]
        shard_of_row = (column % np.uint64(shards)).astype(np.int64)
        order = np.argsort(shard_of_row, kind="stable")
        bounds = np.flatnonzero(np.diff(shard_of_row[order])) + 1
        for idx in np.split(order, bounds):
            yield "bands", ((band, int(shard_of_row[idx[0]])), (column[idx], [members[i] for i in idx.tolist()]))


class _ReadIndexFile(beam.DoFn):
    """``(index file, release)`` -> the parts of :func:`released_parts`, one row group at a time."""

    def __init__(self, bands: int, rows: int, shards: int):
        self._args = (bands, rows, shards)
        self._rows = Metrics.counter("released", "index_rows")
        self._clock = StageClock("index")

    def process(self, item: tuple[str, str]) -> Iterator:
        path, release = item
        for table in index_row_groups(path):
            self._rows.inc(table.num_rows)
            with self._clock:
                parts = list(released_parts(table, release, *self._args))
            for tag, part in parts:
                yield part if tag == "sigs" else beam.pvalue.TaggedOutput(tag, part)


class ReadReleasedIndex(beam.PTransform):
    """Index files of earlier releases -> their parts (``.sigs``, ``.bands``, ``.exact``), as :class:`Fingerprint`'s.

    ``files``: ``(index file path, release)`` pairs, listed on the launching
    machine from the releases' manifests; one file per element, spread over
    the workers.
    """

    def __init__(self, files: Sequence[tuple[str, str]], bands: int, rows: int, shards: int = KEY_SHARDS):
        super().__init__()
        self._files = sorted(files)
        self._fn = _ReadIndexFile(bands, rows, shards)

    def expand(self, pbegin):
        return (
            pbegin
            | "Index files" >> beam.Create(self._files)
            | "Spread files" >> beam.Reshuffle()
            | "Parts" >> beam.ParDo(self._fn).with_outputs("bands", "exact", main="sigs")
        )

