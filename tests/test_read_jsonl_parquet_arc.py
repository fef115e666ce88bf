"""Readers for JSONL, Parquet and ARC, on fixtures generated here."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from provsieve.transforms.match_inputs import expand_inputs
from provsieve.transforms.read import ReaderOptions, read_file

DOLMA = [
    {"id": "d1", "text": "A first Dolma document about rivers.", "source": "common-crawl",
     "added": "2023-05-01T00:00:00Z", "created": "2019-07-16T10:00:00Z",
     "metadata": {"url": "http://example.com/2019/07/16/rivers", "warc_date": "2019-07-16T11:22:33Z"}},
    {"id": "d2", "text": "A second one, about mountains.", "source": "common-crawl",
     "metadata": {"warc_url": "http://example.org/mountains", "warc_date": "2019-07-17T01:02:03Z"}},
]


def _jsonl_bytes(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_dolma_jsonl_in_every_compression(tmp_path, compression):
    data = _jsonl_bytes(DOLMA)
    path = tmp_path / "docs.jsonl"
    if compression == "gzip":
        data, path = gzip.compress(data), tmp_path / "docs.jsonl.gz"
    elif compression == "zstd":
        data, path = zstandard.ZstdCompressor().compress(data), tmp_path / "docs.jsonl.zst"
    path.write_bytes(data)
    docs = list(read_file(str(path)))
    assert [d.text for d in docs] == [r["text"] for r in DOLMA]
    first, second = docs
    assert first.source_format == "jsonl" and first.source_index == 0 and first.source_offset == 0
    assert second.source_offset == len(json.dumps(DOLMA[0]).encode()) + 1
    assert first.url == "http://example.com/2019/07/16/rivers"
    assert second.url == "http://example.org/mountains"
    assert first.crawl_date == "2019-07-16T11:22:33Z"
    assert first.reject_reason is None
    assert first.doc_id == list(read_file(str(path)))[0].doc_id, "doc ids are stable"


def test_compression_is_detected_from_bytes_not_name(tmp_path):
    path = tmp_path / "docs.jsonl"  # gzip inside, no .gz suffix
    path.write_bytes(gzip.compress(_jsonl_bytes(DOLMA)))
    assert len([d for d in read_file(str(path)) if d.reject_reason is None]) == 2


def test_plain_jsonl_with_configurable_text_field(tmp_path):
    path = tmp_path / "c4.json"
    path.write_bytes(_jsonl_bytes([{"content": "Body text here.", "url": "https://c4.example/a",
                                    "timestamp": "2019-04-25T12:57:54Z"}]))
    (doc,) = read_file(str(path), ReaderOptions(text_field="content"))
    assert doc.text == "Body text here." and doc.url == "https://c4.example/a"
    assert doc.crawl_date == "2019-04-25T12:57:54Z"


def test_bad_jsonl_lines_are_rejected_with_reasons(tmp_path):
    lines = [json.dumps({"text": "good"}), "{not json", json.dumps({"title": "no text"}), json.dumps([1, 2]),
             json.dumps({"text": "   "}), json.dumps({"text": 42})]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    reasons = [d.reject_reason for d in read_file(str(path))]
    assert reasons == [None, "unreadable_record", "missing_text_field", "unreadable_record", "empty_text",
                       "missing_text_field"]


def test_too_large_line_is_rejected_and_reading_goes_on(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(_jsonl_bytes([{"text": "x" * 5000}, {"text": "after"}]))
    docs = list(read_file(str(path), ReaderOptions(max_doc_bytes=1000)))
    assert [d.reject_reason for d in docs] == ["too_large", None]
    assert docs[1].text == "after" and docs[1].source_offset == 5000 + len('{"text": ""}\n')


def test_truncated_gzip_keeps_records_before_the_break(tmp_path):
    records = [{"text": f"document number {i} " * 20} for i in range(200)]
    data = gzip.compress(_jsonl_bytes(records))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    docs = list(read_file(str(path)))
    assert docs[-1].reject_reason == "truncated_file"
    assert str(path) in docs[-1].reject_detail and "offset" in docs[-1].reject_detail
    good = [d for d in docs if d.reject_reason is None]
    assert len(good) >= 1 and all(d.text == records[d.source_index]["text"] for d in good)


def test_parquet_text_column(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"text": ["one", "two", ""], "url": ["u1", "u2", "u3"]}), path)
    docs = list(read_file(str(path)))
    assert [(d.text, d.url, d.source_index, d.source_offset) for d in docs[:2]] == [("one", "u1", 0, None),
                                                                                   ("two", "u2", 1, None)]
    assert docs[2].reject_reason == "empty_text"


def test_parquet_without_text_column_rejects_every_row(tmp_path):
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"body": ["a", "b"]}), path)
    docs = list(read_file(str(path)))
    assert [d.reject_reason for d in docs] == ["missing_text_field"] * 2
    assert "no 'text' column" in docs[0].reject_detail


def _arc_records() -> list[bytes]:
    html = b"<html><body><p>An old page from the ARC era, written by a person in 2003.</p></body></html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nDate: Mon, 06 Jan 2003 10:00:00 GMT\r\n\r\n" + html
    desc_body = b"1 0 Example\nURL IP-address Archive-date Content-type Archive-length\n"
    header = f"filedesc://test.arc 0.0.0.0 20030106100000 text/plain {len(desc_body)}\n".encode()
    record = f"http://old.example.com/page.html 1.2.3.4 20030106100000 text/html {len(http)}\n".encode()
    return [header + desc_body + b"\n", record + http + b"\n"]


def test_arc_files(tmp_path):
    path = tmp_path / "old.arc.gz"
    members = [gzip.compress(r, mtime=0) for r in _arc_records()]  # one gzip member per record, as archives do
    path.write_bytes(b"".join(members))
    docs = list(read_file(str(path)))
    assert len(docs) == 1
    (doc,) = docs
    assert doc.source_format == "arc" and doc.reject_reason is None, doc.reject_detail
    assert doc.source_offset == len(members[0]) and doc.source_index == 1
    assert doc.url == "http://old.example.com/page.html"
    assert doc.crawl_date == "2003-01-06T10:00:00Z"
    assert "ARC era" in doc.text


def test_a_file_that_cannot_be_read_is_one_reported_row(tmp_path):
    path = tmp_path / "junk.warc.gz"
    path.write_bytes(b"\x1f\x8b this is not gzip at all")
    docs = list(read_file(str(path)))
    assert len(docs) == 1 and docs[0].reject_reason in ("truncated_file", "unreadable_file")
    assert str(path) in docs[0].reject_detail


def test_missing_file_is_unreadable_file(tmp_path):
    (doc,) = read_file(str(tmp_path / "nope.jsonl"))
    assert doc.reject_reason == "unreadable_file"


def test_glob_matching_nothing_is_an_error_before_the_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no input files match"):
        expand_inputs([str(tmp_path / "*.warc.gz")])
