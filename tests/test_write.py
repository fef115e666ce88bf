import hashlib

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
from apache_beam.testing.util import assert_that, equal_to

from conftest import make_test_pipeline
from provsieve.transforms.document import new_document
from provsieve.transforms.write import (HUMAN_SCHEMA, REJECTED_SCHEMA, ShardInfo, WriteShards, documents_to_table,
                                        empty_output_check, publish, shard_count, shard_of, write_table)


def _docs(n, **tags):
    return [new_document(source_uri="mem://x", source_format="jsonl", source_index=i, text=f"text number {i}",
                         crawl_date="2020-01-02T03:04:05Z", **tags) for i in range(n)]


def test_shard_count_is_balanced_and_never_zero():
    assert shard_count(0, 100) == 1
    assert shard_count(100, 100) == 1
    assert shard_count(101, 100) == 2
    counts = [0] * 4
    for doc in _docs(4000):
        counts[shard_of(doc.doc_id, 4)] += 1
    assert min(counts) > 850 and max(counts) < 1150


def test_table_is_sorted_typed_and_readable_by_pyarrow_and_duckdb(tmp_path):
    docs = _docs(50)
    table = documents_to_table(reversed(docs), HUMAN_SCHEMA)
    assert table.column("doc_id").to_pylist() == sorted(d.doc_id for d in docs)
    assert "reject_reason" not in table.column_names
    path = str(tmp_path / "part.parquet")
    size, digest = write_table(table, path)
    data = open(path, "rb").read()
    assert size == len(data) and digest == hashlib.sha256(data).hexdigest()
    back = pq.read_table(path)
    assert [(f.name, f.type) for f in back.schema] == [(f.name, f.type) for f in HUMAN_SCHEMA]
    assert back.num_rows == 50
    assert str(back.column("crawl_date")[0].as_py()) == "2020-01-02 03:04:05+00:00"
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    n, first = duckdb.sql(f"select count(*), min(crawl_date) from read_parquet('{path}')").fetchall()[0]
    assert n == 50 and first.year == 2020


def test_same_rows_give_byte_identical_files(tmp_path):
    docs = _docs(30, reject_reason="empty_text")
    a, b = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    assert write_table(documents_to_table(docs, REJECTED_SCHEMA), a)[1] == \
        write_table(documents_to_table(list(reversed(docs)), REJECTED_SCHEMA), b)[1]


def test_write_shards_in_beam(tmp_path):
    docs = _docs(25)
    with make_test_pipeline() as p:
        infos = (p | beam.Create(docs) | WriteShards(str(tmp_path), "human", rows_per_shard=10))
        assert_that(infos | beam.Map(lambda s: (s.name, s.rows > 0)),
                    equal_to([(f"human/part-{i:05d}-of-00003.parquet", True) for i in range(3)]))
    total = sum(pq.read_table(str(f)).num_rows for f in (tmp_path / "human").glob("*.parquet"))
    assert total == 25


def test_publish_moves_shards_and_writes_manifest_last(tmp_path):
    out, staging = tmp_path / "out", tmp_path / "out" / "_staging"
    (staging / "human").mkdir(parents=True)
    (staging / "human" / "part-00000-of-00001.parquet").write_bytes(b"x")
    shard = ShardInfo("human", "human/part-00000-of-00001.parquet", 1, 1, "h")

    def manifest(shards):
        assert (out / shards[0].name).exists(), "shards are in place before the manifest is built"
        assert not (out / "manifest.json").exists()
        return {"shards": [s.name for s in shards]}

    publish(str(out), str(staging), [shard], manifest)
    assert (out / "manifest.json").exists()
    assert (out / "rejected").is_dir()
    assert not staging.exists()


def test_non_empty_output_needs_overwrite(tmp_path):
    assert empty_output_check(str(tmp_path / "absent"), overwrite=False) is None
    (tmp_path / "old.txt").write_text("x")
    assert "--overwrite" in empty_output_check(str(tmp_path), overwrite=False)
    assert empty_output_check(str(tmp_path), overwrite=True) is None
    assert not (tmp_path / "old.txt").exists()
