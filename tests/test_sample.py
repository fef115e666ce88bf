"""The bundled sample crawl (pipeline/sample/sample.warc.gz) and the WARC fixture writer."""

from __future__ import annotations

import collections
import gzip
import re
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

import make_sample
from make_sample import CUTOFF, DEFAULT_MANIFEST, DEFAULT_WARC, PAGES, build_sample
from warc_fixtures import (
    html_page,
    http_response_record,
    record_id_for,
    request_record,
    sha1_digest,
    tiny_png,
    warcinfo_record,
    write_warc,
)

EXPECTED_ROLES = {
    "original": 21,  # 12 human 2019-2021, 1 undated human 2024, 8 AI 2024
    "claimed-date": 2,
    "modified-after-cutoff": 1,
    "exact-dup": 3,
    "near-dup": 3,
    "spam-date": 1,
    "binary": 1,
    "404": 1,
}
EXPECTED_LABELS = {"human": 22, "ai": 9, "n/a": 2}
BY_KEY = {p.key: p for p in PAGES}


def _records(path, parse_http=True):
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=parse_http):
            yield record


# --- the committed file is exactly what the script writes ---------------------------


def test_regenerated_sample_is_byte_identical(tmp_path):
    warc, manifest = tmp_path / "sample.warc.gz", tmp_path / "SAMPLE.md"
    build_sample(warc, manifest)
    assert warc.read_bytes() == DEFAULT_WARC.read_bytes(), "run: python tests/make_sample.py"
    assert manifest.read_text(encoding="utf-8") == DEFAULT_MANIFEST.read_text(encoding="utf-8")


def test_sample_is_small():
    assert DEFAULT_WARC.stat().st_size < 200_000


# --- every record parses, lengths and digests are right -----------------------------


def test_every_record_parses_with_fastwarc(tmp_path):
    offsets = build_sample(tmp_path / "s.warc.gz", None)
    seen = []
    for record in _records(DEFAULT_WARC):
        kind = record.headers["WARC-Type"]
        seen.append((record.stream_pos, kind))
        if kind == "response":
            assert record.verify_payload_digest(consume=False)  # before reading: it buffers the payload
            payload = record.reader.read()
            assert record.http_headers is not None
            assert int(record.http_headers["Content-Length"]) == len(payload)
            assert record.headers["WARC-Record-ID"] == record_id_for(
                "response", record.headers["WARC-Target-URI"], record.headers["WARC-Date"])
    assert [pos for pos, _ in seen] == offsets
    kinds = collections.Counter(kind for _, kind in seen)
    assert kinds == {"warcinfo": 1, "request": len(PAGES), "response": len(PAGES)}
    assert seen[0][1] == "warcinfo"

    for record in _records(DEFAULT_WARC, parse_http=False):  # block digests need the unparsed block
        assert record.verify_block_digest(consume=False), record.headers["WARC-Record-ID"]


def test_requests_precede_their_responses():
    records = [(r.headers["WARC-Type"], dict(r.headers)) for r in _records(DEFAULT_WARC)]
    for (kind, headers), (next_kind, next_headers) in zip(records[1::2], records[2::2]):
        assert (kind, next_kind) == ("request", "response")
        assert headers["WARC-Concurrent-To"] == next_headers["WARC-Record-ID"]
        assert headers["WARC-Target-URI"] == next_headers["WARC-Target-URI"]
        assert headers["WARC-Date"] == next_headers["WARC-Date"]
    dates = [h["WARC-Date"] for k, h in records if k == "response"]
    assert dates == sorted(dates), "records are in capture order"


def test_warcio_reads_and_checks_digests():
    warcio = pytest.importorskip("warcio.archiveiterator")
    with open(DEFAULT_WARC, "rb") as fh:
        it = warcio.ArchiveIterator(fh, check_digests="raise")
        n = 0
        for record in it:
            record.content_stream().read()
            n += 1
    assert n == 1 + 2 * len(PAGES)


def test_one_gzip_member_per_record():
    data = DEFAULT_WARC.read_bytes()
    offsets = [r.stream_pos for r in _records(DEFAULT_WARC)] + [len(data)]
    for start, end in zip(offsets, offsets[1:]):
        member = data[start:end]
        assert member[:2] == b"\x1f\x8b" and member[4:8] == b"\0\0\0\0"  # mtime 0
        assert gzip.decompress(member).startswith(b"WARC/1.0\r\n")


# --- the composition matches SAMPLE.md -----------------------------------------------


def _manifest_rows():
    rows = []
    for line in DEFAULT_MANIFEST.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0].isdigit():
            rows.append(dict(zip(("n", "key", "url", "label", "captured", "role", "tier", "words", "dates",
                                  "outcome"), cells)))
    return rows


def test_counts_by_role_match_the_manifest():
    rows = _manifest_rows()
    assert collections.Counter(p.role for p in PAGES) == EXPECTED_ROLES
    assert collections.Counter(r["role"] for r in rows) == EXPECTED_ROLES
    assert collections.Counter(r["label"] for r in rows) == EXPECTED_LABELS
    responses = {r.headers["WARC-Target-URI"]: r.headers["WARC-Date"] for r in _records(DEFAULT_WARC)
                 if r.record_type == WarcRecordType.response}
    assert responses == {r["url"]: r["captured"] for r in rows}
    text = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    for role, n in EXPECTED_ROLES.items():
        assert re.search(rf"^\| {re.escape(role)} \| {n} \|$", text, re.M), role


def test_intended_dates_and_duplicates():
    for p in PAGES:
        if p.label == "human" and p.role == "original" and p.expect_tier == "captured":
            assert "2019" <= p.captured[:4] <= "2021"
        if p.label == "ai":
            assert p.captured.startswith("2024")
        if p.role in ("claimed-date", "modified-after-cutoff"):
            assert p.captured.startswith("2024") and p.published < CUTOFF
        if p.dup_of:
            original = BY_KEY[p.dup_of]
            assert p.captured > original.captured and p.url != original.url
            if p.role == "exact-dup":
                assert tuple(p.paragraphs) == tuple(original.paragraphs)
                assert p.site_name != original.site_name
            else:
                a, b = " ".join(p.paragraphs).split(), " ".join(original.paragraphs).split()
                assert a != b
                shared = len(set(a) & set(b)) / len(set(a) | set(b))
                assert shared > 0.9
                assert p.article_header or p.article_footer
    assert BY_KEY["alice"].modified >= CUTOFF
    assert sum(p.label == "human" and p.role == "original" and p.captured < CUTOFF for p in PAGES) == 12


def test_text_lengths():
    for p in PAGES:
        if p.payload is None:
            words = sum(len(x.split()) for x in p.paragraphs)
            assert 150 <= words <= 300, (p.key, words)


def test_reader_sees_the_intended_documents():
    read = pytest.importorskip("provsieve.transforms.read")
    docs = {d.url: d for d in read.read_file(str(DEFAULT_WARC))}
    assert set(docs) == {p.url for p in PAGES}
    for p in PAGES:
        doc = docs[p.url]
        assert doc.crawl_date == p.captured
        if p.role == "binary":
            assert doc.reject_reason == "binary_content"
        elif p.role == "404":
            assert doc.reject_reason == "non_200_status"
        else:
            assert doc.reject_reason is None, (p.key, doc.reject_reason, doc.reject_detail)
            assert p.paragraphs[0][:40] in doc.text
            assert p.paragraphs[-1][-40:] in doc.text


# --- the fixture writer itself --------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "zstd", None])
def test_write_warc_compressions(tmp_path, compression):
    if compression == "zstd":
        pytest.importorskip("zstandard")
    date = "2020-02-02T02:02:02Z"
    url = "https://x.example/a?b=1"
    records = [
        warcinfo_record(warc_date=date, filename="t.warc"),
        request_record(url, warc_date=date, concurrent_to=record_id_for("response", url, date)),
        http_response_record(url, html_page("T", ["one", "two"], published="2020-01-01", jsonld=True,
                                            time_tag=True), warc_date=date,
                             extra_http_headers={"Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT", "Server": None}),
        http_response_record("https://x.example/p.png", tiny_png(), warc_date=date, content_type="image/png"),
        http_response_record("https://x.example/gone", "gone", warc_date=date, status=410),
    ]
    path = tmp_path / "t.warc"
    offsets = write_warc(path, records, compression=compression)
    again = tmp_path / "t2.warc"
    write_warc(again, records, compression=compression)
    assert path.read_bytes() == again.read_bytes()
    got = [(r.stream_pos, r.headers["WARC-Type"], r.http_headers.status_code if r.http_headers else None,
            r.reader.read()) for r in _records(path)]
    assert [g[0] for g in got] == offsets
    assert [g[2] for g in got] == [None, None, 200, 200, 410]
    assert got[3][3] == tiny_png() and got[4][3] == b"gone"
    response = next(_records(path))  # warcinfo
    assert response.headers["WARC-Filename"] == "t.warc"


def test_response_record_layout():
    rec = http_response_record("https://x.example/", "<p>hi</p>", warc_date="2021-05-06T07:08:09Z",
                               extra_http_headers=[("Date", None), ("X-Test", "1")])
    head, block = rec.split(b"\r\n\r\n", 1)
    assert head.startswith(b"WARC/1.0\r\nWARC-Type: response\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert block[length:] == b"\r\n\r\n"
    block = block[:length]
    assert re.search(rb"WARC-Block-Digest: (\S+)", head).group(1).decode() == sha1_digest(block)
    http_head, payload = block.split(b"\r\n\r\n", 1)
    assert payload == b"<p>hi</p>"
    assert b"\r\nDate:" not in http_head and b"X-Test: 1" in http_head
    assert http_head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/http; msgtype=response" in head
    assert rec == http_response_record("https://x.example/", "<p>hi</p>", warc_date="2021-05-06T07:08:09Z",
                                       extra_http_headers=[("Date", None), ("X-Test", "1")])


def test_html_page_dates():
    page = html_page("Title", ["para"], published="2016-01-02", modified="2017-03-04", jsonld=True, time_tag=True)
    assert '<meta property="article:published_time" content="2016-01-02">' in page
    assert '<meta property="article:modified_time" content="2017-03-04">' in page
    assert '"datePublished": "2016-01-02"' in page and '"dateModified": "2017-03-04"' in page
    assert '<time datetime="2016-01-02">January 2, 2016</time>' in page
    bare = html_page("Title", ["para"], boilerplate=False)
    assert "<nav" not in bare and "<footer" not in bare and "article:published_time" not in bare


def test_make_sample_module_has_cli():
    assert callable(make_sample.main)
    assert Path(make_sample.__file__).name == "make_sample.py"
