"""HeaderLookup answers as fastwarc's HeaderMap.get: case-insensitive names, the first of repeated ones."""

from __future__ import annotations

import io
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

from provsieve.transforms.header_lookup import HeaderLookup

ASKED = ("WARC-Target-URI", "Memento-Datetime", "WARC-Date", "WARC-Record-ID", "Content-Type", "WARC-Type",
         "Transfer-Encoding", "Content-Encoding", "X-Archive-Orig-Content-Type", "Content-Length", "date", "absent")
SAMPLE = Path(__file__).resolve().parents[1] / "pipeline" / "sample" / "sample.warc.gz"


def _record(warc_lines: bytes, http: bytes) -> bytes:
    return (b"WARC/1.1\r\n" + warc_lines + b"Content-Length: " + str(len(http)).encode() + b"\r\n\r\n"
            + http + b"\r\n\r\n")


ODD = _record(
    b"WARC-Type: response\r\nWARC-Date: 2020-01-01T00:00:00Z\xff\r\nwarc-date: 2021-01-01T00:00:00Z\r\n"
    b"WARC-DATE: 2022-01-01T00:00:00Z\r\n\xff\xfeBad: x\r\nW\xc3\xa4RC-Type: y\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
    b"Content-Type: application/http; msgtype=response\r\nWARC-Target-URI: http://a.example/\xe9\r\n"
    b"memento-datetime: Tue, 01 Jan 2019 00:00:00 GMT\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\xff\r\ncontent-type: text/plain\r\nCONTENT-ENCODING: gzip\r\n"
    b"X-\xc3\x28: \xe9t\xe9\r\nTransfer-Encoding:\r\n\r\n<html>hi</html>")


def _assert_same(stream) -> int:
    n = 0
    for record in ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=True):
        for header_map in (record.headers, record.http_headers):
            if header_map is None:
                continue
            lookup = HeaderLookup(header_map)
            assert lookup.items == list(header_map.items())
            names = {name for name, _ in lookup.items} | set(ASKED)
            for name in names | {n.upper() for n in names} | {n.lower() for n in names}:
                assert lookup.get(name) == header_map.get(name), name
            n += 1
    return n


def test_same_answers_on_repeated_mixed_case_and_undecodable_names():
    assert _assert_same(io.BytesIO(ODD)) == 2
    lookup = HeaderLookup(next(iter(ArchiveIterator(io.BytesIO(ODD), parse_http=True))).headers)
    assert lookup.get("warc-date").startswith("2020-01-01") and lookup.get("Memento-Datetime").startswith("Tue")
    assert lookup.get("absent") is None


def test_same_answers_on_the_bundled_sample_and_the_shared_crawl():
    assert _assert_same(open(SAMPLE, "rb")) > 30
    crawl = Path(__file__).resolve().parents[2] / "shared" / "data" / "crawl"
    for path in sorted(crawl.glob("*.warc.gz"))[:2]:  # real WARCs when present (skipped silently otherwise)
        with open(path, "rb") as stream:
            assert _assert_same(stream) > 0
