"""Writing Documents to Parquet shards, and publishing a finished output atomically.

Shards are deterministic: a document's shard is a function of its ``doc_id``
and the number of shards (itself a function of the row count), and rows inside
a shard are sorted by ``doc_id``, so the same input and config give
byte-identical shards. Shards are first written under a temporary directory;
:class:`PublishOutput` moves them into place and writes ``manifest.json`` last,
so an interrupted run never leaves an output that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.windowed_value import WindowedValue

from provsieve.transforms.counting import in_global_window
from provsieve.transforms.document import ARROW_SCHEMA, DATE_COLUMNS, Document
from provsieve.transforms.timing import StageClock, timed

REJECT_ONLY_COLUMNS = ("reject_reason", "reject_detail", "duplicate_of", "duplicate_release")
HUMAN_SCHEMA = pa.schema([f for f in ARROW_SCHEMA if f.name not in REJECT_ONLY_COLUMNS])
"""Kept documents: every column but the rejection ones."""
REJECTED_SCHEMA = ARROW_SCHEMA

ROW_GROUP_ROWS = 10_000
"""Rows per Parquet row group: ~10-50 MB of web text, large enough for fast scans."""


class ShardInfo(NamedTuple):
    kind: str
    """``human``, ``rejected`` or ``index``."""
    name: str
    """Path relative to the output directory, e.g. ``human/part-00000-of-00001.parquet``."""
    rows: int
    bytes: int
    sha256: str


def shard_count(rows: int, rows_per_shard: int) -> int:
    return max(1, math.ceil(rows / rows_per_shard))


def shard_of(doc_id: str, num_shards: int) -> int:
    """Deterministic shard of a document; doc ids are hex hashes, so their prefix is uniform."""
    return int(doc_id[:8], 16) % num_shards


def shard_name(kind: str, shard: int, num_shards: int) -> str:
    return f"{kind}/part-{shard:05d}-of-{num_shards:05d}.parquet"


def documents_to_table(docs: Iterable[Document], schema: pa.Schema) -> pa.Table:
    """Documents to an Arrow table of ``schema``, rows sorted by ``doc_id``."""
    rows = sorted(docs, key=lambda d: d.doc_id)
    by_field = dict(zip(Document._fields, zip(*rows))) if rows else {name: () for name in Document._fields}
    columns = {}
    for field in schema:
        values = list(by_field[field.name])
        if field.name in DATE_COLUMNS:
            columns[field.name] = pa.array(values, pa.string()).cast(field.type)
        else:
            columns[field.name] = pa.array(values, field.type)
    return pa.table(columns, schema=schema)


class _HashingWriter:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, target):
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        self.size += len(data)
        self._target.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        if not self.closed:
            self._target.close()
            self.closed = True


def write_table(table: pa.Table, path: str) -> tuple[int, str]:
    """Write ``table`` as zstd Parquet to ``path`` on any Beam filesystem; return (bytes, sha256)."""
    sink = _HashingWriter(FileSystems.create(path))
    try:
        pq.write_table(table, pa.PythonFile(sink, mode="w"), compression="zstd", row_group_size=ROW_GROUP_ROWS,
                       write_statistics=True)
    finally:
        sink.close()
    return sink.size, sink.sha256.hexdigest()


def split_by_shard(table: pa.Table, num_shards: int, column: str = "doc_id") -> Iterator[tuple[int, pa.Table]]:
    """``(shard, rows of that shard)`` of ``table``, a row's shard being :func:`shard_of` its ``column``."""
    shards = np.array([shard_of(d, num_shards) for d in table.column(column).to_pylist()], dtype=np.int64)
    for shard in np.unique(shards).tolist():
        yield shard, table.filter(pa.array(shards == shard))


def write_shard_file(item: tuple[int, Iterable[pa.Table]], staging_dir: str, kind: str, num_shards: int) -> ShardInfo:
    """Write one shard from its pieces, rows sorted by doc_id (so reruns are byte-identical)."""
    shard, pieces = item
    table = pa.concat_tables(list(pieces)).sort_by("doc_id").combine_chunks()
    name = shard_name(kind, shard, num_shards)
    size, digest = write_table(table, FileSystems.join(staging_dir, name))
    return ShardInfo(kind=kind, name=name, rows=table.num_rows, bytes=size, sha256=digest)


class WriteTableShards(beam.PTransform):
    """Arrow tables with a ``doc_id`` column -> Parquet shards under ``staging_dir/kind/``; a :class:`ShardInfo` each.

    The number of shards is ``ceil(rows / rows_per_shard)`` (at least one, and
    none at all when there are no rows), so shards are balanced and never
    empty; a row's shard is :func:`shard_of` its doc_id. Only the tables'
    row counts meet in a side input, never the rows.
    """

    def __init__(self, staging_dir: str, kind: str, rows_per_shard: int):
        super().__init__()
        self._staging_dir = staging_dir
        self._kind = kind
        self._rows_per_shard = rows_per_shard

    def expand(self, tables):
        num_shards = beam.pvalue.AsSingleton(
            tables
            | "Row counts" >> beam.Map(lambda t: t.num_rows)
            | "Count" >> beam.CombineGlobally(sum)
            | "Shards" >> beam.Map(shard_count, self._rows_per_shard))
        return (
            tables
            | "Split shards" >> beam.FlatMap(lambda t, n: split_by_shard(t, n), num_shards)
            | "Group shards" >> beam.GroupByKey()
            | "Write shard" >> beam.Map(timed("write", write_shard_file), self._staging_dir, self._kind, num_shards)
        )


class _ToTables(beam.DoFn):
    """Documents -> Arrow tables of ``schema``, one per ``max_rows`` documents and bundle."""

    def __init__(self, schema: pa.Schema, max_rows: int):
        self._schema = schema
        self._max_rows = max_rows
        self._clock = StageClock("write")

    def start_bundle(self) -> None:
        self._docs: list[Document] = []

    def process(self, doc: Document) -> Iterator[pa.Table]:
        self._docs.append(doc)
        if len(self._docs) >= self._max_rows:
            yield self._table()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if self._docs:
            yield in_global_window(self._table())

    def _table(self) -> pa.Table:
        docs, self._docs = self._docs, []
        with self._clock:
            return documents_to_table(docs, self._schema)


class WriteShards(beam.PTransform):
    """Documents -> Parquet shards under ``staging_dir/kind/``; outputs one :class:`ShardInfo` per shard.

    Each bundle's documents become Arrow tables where they are (columnar, so
    only tables are shuffled, not one element per document); then
    :class:`WriteTableShards`.
    """

    def __init__(self, staging_dir: str, kind: str, rows_per_shard: int, with_verdict: bool = False,
                 table_rows: int = ROW_GROUP_ROWS):
        """``with_verdict`` keeps the rejection columns in ``human`` shards (``--mode tag``)."""
        super().__init__()
        self._write = WriteTableShards(staging_dir, kind, rows_per_shard)
        schema = HUMAN_SCHEMA if kind == "human" and not with_verdict else REJECTED_SCHEMA
        self._to_tables = _ToTables(schema, table_rows)

    def expand(self, docs):
        return docs | "To tables" >> beam.ParDo(self._to_tables) | "Shards" >> self._write


def publish(output_dir: str, staging_dir: str, shards: list[ShardInfo],
            build_manifest: Callable[[list[ShardInfo]], dict[str, Any]]) -> dict[str, Any]:
    """Move finished shards into ``output_dir`` and write ``manifest.json`` last."""
    shards = sorted(shards, key=lambda s: s.name)
    for kind in sorted({"human", "rejected"} | {s.kind for s in shards}):
        kind_dir = FileSystems.join(output_dir, kind)
        if not FileSystems.exists(kind_dir):
            FileSystems.mkdirs(kind_dir)
    if shards:
        FileSystems.rename([FileSystems.join(staging_dir, s.name) for s in shards],
                           [FileSystems.join(output_dir, s.name) for s in shards])
    manifest = build_manifest(shards)
    write_json(FileSystems.join(output_dir, "manifest.json"), manifest)
    if FileSystems.exists(staging_dir):
        FileSystems.delete([staging_dir])
    return manifest


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically: to a temporary name first, then renamed into place."""
    partial = path + ".partial"
    with FileSystems.create(partial) as out:
        out.write(json.dumps(obj, indent=2, sort_keys=False, default=str).encode() + b"\n")
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([partial], [path])


def read_json(path: str) -> Any:
    with FileSystems.open(path) as f:
        return json.loads(f.read())


class PublishOutput(beam.PTransform):
    """Runs once, after every shard is written: move shards into place, then write the manifest.

    ``build_manifest(shards, counts)`` receives the shard infos and the list of
    ``(key, count)`` pairs of ``counts``; it runs on a worker, so it must be
    picklable (a module-level function or ``functools.partial``).
    """

    def __init__(self, output_dir: str, staging_dir: str, build_manifest: Callable[..., dict[str, Any]]):
        super().__init__()
        self._output_dir = output_dir
        self._staging_dir = staging_dir
        self._build_manifest = build_manifest

    def expand(self, shards_and_counts):
        shards, counts = shards_and_counts
        return (
            shards.pipeline
            | "Once" >> beam.Create([None])
            | "Publish" >> beam.Map(self._publish, beam.pvalue.AsList(shards), beam.pvalue.AsList(counts))
        )

    def _publish(self, _: None, shards: list[ShardInfo], counts: list) -> dict[str, Any]:
        return publish(self._output_dir, self._staging_dir, list(shards),
                       lambda s: self._build_manifest(s, list(counts)))


def staging_dir_for(output_dir: str) -> str:
    return FileSystems.join(output_dir, "_staging")


def empty_output_check(output_dir: str, overwrite: bool) -> Optional[str]:
    """Refuse a non-empty output directory unless ``overwrite``; with it, clear the directory first.

    Returns an error message, or None when the directory is ready.
    """
    if not FileSystems.exists(output_dir):
        return None
    existing = [m.path for m in FileSystems.match([FileSystems.join(output_dir, "**")])[0].metadata_list]
    if not existing:
        return None
    if not overwrite:
        return f"output directory {output_dir} is not empty ({len(existing)} files); pass --overwrite to replace it"
    FileSystems.delete([output_dir])
    return None
