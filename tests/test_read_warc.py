"""WARC and WET reading on generated fixtures: formats, compression, offsets, hostile records."""

import gzip

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from provsieve.transforms.read import ReaderOptions, read_file
from warc_fixtures import (encode_records, gzip_member, http_response_record, request_record, tiny_png,
                           warc_record, warcinfo_record, write_warc)

PAGE = ("<html><head><title>Gardens</title></head><body><article><p>Gardening is the practice of growing and "
        "cultivating plants as part of horticulture. Ornamental plants are often grown for their flowers, "
        "foliage, or overall appearance.</p></article></body></html>")


def _records():
    date = "2021-03-04T05:06:07Z"
    return [
        warcinfo_record(warc_date=date, filename="t.warc.gz"),
        request_record("https://a.example/garden", warc_date=date),
        http_response_record("https://a.example/garden", PAGE, warc_date=date,
                             extra_http_headers={"Last-Modified": "Tue, 02 Mar 2021 10:00:00 GMT"}),
        http_response_record("https://a.example/img.png", tiny_png(), warc_date=date, content_type="image/png"),
        http_response_record("https://a.example/missing", "<html><body>Not found</body></html>", warc_date=date,
                             status=404),
        http_response_record("https://a.example/blank", "<html><body>   </body></html>", warc_date=date),
    ]


@pytest.mark.parametrize("compression", ["gzip", "zstd", None])
def test_warc_in_every_compression(tmp_path, compression):
    path = tmp_path / "crawl.warc"
    offsets = write_warc(path, _records(), compression)
    docs = list(read_file(str(path)))
    assert [d.reject_reason for d in docs] == [None, "binary_content", "non_200_status", "empty_text"]
    page = docs[0]
    assert page.source_format == "warc" and page.source_index == 2
    assert page.url == "https://a.example/garden"
    assert page.crawl_date == "2021-03-04T05:06:07Z"
    assert page.http_last_modified == "2021-03-02T10:00:00Z"
    assert page.content_type == "text/html; charset=utf-8"
    assert page.warc_record_id.startswith("<urn:uuid:")
    assert "Gardening is the practice" in page.text and "<p>" not in page.text
    if compression in ("gzip", None):
        assert [d.source_offset for d in docs] == offsets[2:]


def test_offsets_lead_back_to_the_record(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, _records(), "gzip")
    page = next(iter(read_file(str(path))))
    with open(path, "rb") as f:
        f.seek(page.source_offset)
        record = next(iter(ArchiveIterator(f, record_types=WarcRecordType.any_type)))
    assert record.headers.get("WARC-Record-ID") == page.warc_record_id


def test_wet_conversion_records(tmp_path):
    text = "Plain extracted text of a page.\nSecond line of it."
    record = warc_record("conversion", text.encode(), warc_date="2019-07-16T00:00:00Z",
                         target_uri="https://b.example/x", content_type="text/plain")
    path = tmp_path / "sample.warc.wet.gz"
    write_warc(path, [record], "gzip")
    (doc,) = read_file(str(path))
    assert doc.source_format == "wet" and doc.text == text and doc.crawl_date == "2019-07-16T00:00:00Z"


def test_chunked_transfer_encoding_is_decoded(tmp_path):
    body = PAGE.encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    record = http_response_record("https://c.example/", chunked, warc_date="2024-04-25T16:27:48Z",
                                  extra_http_headers={"Transfer-Encoding": "chunked", "Content-Length": None})
    path = tmp_path / "c.warc.gz"
    write_warc(path, [record])
    (doc,) = read_file(str(path))
    assert doc.reject_reason is None and doc.text.startswith("Gardening")


def test_undeclared_legacy_charset(tmp_path):
    html = "<html><body><p>Стратегия пожарной безопасности предприятия и её главные принципы.</p></body></html>"
    record = http_response_record("https://d.example/", html.encode("windows-1251"), warc_date="2020-01-01T00:00:00Z",
                                  content_type="text/html")
    path = tmp_path / "d.warc.gz"
    write_warc(path, [record])
    (doc,) = read_file(str(path))
    assert "пожарной безопасности" in doc.text


def test_oversized_record_is_rejected_without_reading(tmp_path):
    path = tmp_path / "big.warc.gz"
    write_warc(path, [http_response_record("https://e.example/", "<p>" + "word " * 5000 + "</p>",
                                           warc_date="2020-01-01T00:00:00Z")])
    (doc,) = read_file(str(path), ReaderOptions(max_doc_bytes=1000))
    assert doc.reject_reason == "too_large" and doc.text == ""


def test_truncated_gzip_keeps_earlier_records_and_names_the_break(tmp_path):
    records = [http_response_record(f"https://f.example/{i}", PAGE.replace("Gardens", f"Page {i}"),
                                    warc_date="2020-01-01T00:00:00Z") for i in range(5)]
    data, offsets = encode_records(records, "gzip")
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: offsets[3] + 40])  # cut inside the 4th record
    docs = list(read_file(str(path)))
    assert [d.reject_reason for d in docs[:3]] == [None, None, None]
    assert docs[-1].reject_reason == "truncated_file"
    assert str(path) in docs[-1].reject_detail and str(offsets[2]) in docs[-1].reject_detail
    assert len(docs) == 4


def test_garbage_in_a_warc_header_rejects_that_record(tmp_path):
    good = http_response_record("https://g.example/1", PAGE, warc_date="2020-01-01T00:00:00Z")
    bad = good.replace(b"WARC-Date:", b"\x00\xff\xfeGARBAGE", 1)
    path = tmp_path / "garbage.warc.gz"
    write_warc(path, [good, bad, good])
    docs = list(read_file(str(path)))
    assert docs[0].reject_reason is None
    assert [d.reject_reason for d in docs] == [None, "malformed_header", None]
    assert "GARBAGE" in docs[1].reject_detail
    assert all(d.source_uri == str(path) for d in docs)


def test_wrong_content_length_is_reported(tmp_path):
    good = http_response_record("https://h.example/1", PAGE, warc_date="2020-01-01T00:00:00Z")
    head, _, rest = good.partition(b"Content-Length: ")
    length, _, tail = rest.partition(b"\r\n")
    wrong = head + b"Content-Length: " + str(int(length) + 500).encode() + b"\r\n" + tail
    path = tmp_path / "wrong.warc"
    path.write_bytes(good + wrong + good)
    docs = list(read_file(str(path)))
    assert docs[0].reject_reason is None
    assert any(d.reject_reason for d in docs[1:]), [d.reject_reason for d in docs]


def test_whole_file_gzip_also_reads(tmp_path):
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(b"".join(_records()), mtime=0))
    assert [d.reject_reason for d in read_file(str(path))][0] is None


def test_gzip_member_helper_is_valid():
    assert gzip.decompress(gzip_member(b"abc")) == b"abc"


def test_read_record_seeks_back_to_one_record(tmp_path):
    from provsieve.transforms.read import read_record

    path = tmp_path / "crawl.warc.gz"
    write_warc(path, _records(), "gzip")
    docs = list(read_file(str(path)))
    for doc in docs:
        again = read_record(doc.source_uri, doc.source_format, doc.source_offset, doc.source_index)
        assert again == doc
