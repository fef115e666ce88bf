"""Real web archives as they are: Common Crawl's 2008-2012 ARC files and Wayback replay exports (issue 13)."""

from __future__ import annotations

import collections
import gzip

import pytest

from archive_fixtures import arc_filedesc, arc_record, http_message, replay_record, write_arc
from warc_fixtures import html_page, http_response_record, request_record, warc_record, warcinfo_record, write_warc

from provsieve.transforms import read_arc
from provsieve.transforms.read import ReaderOptions, read_file, read_record
from provsieve.transforms.date_tiers import assign_created

PAGES = {
    "walden": html_page("Walden", ["When I wrote the following pages, or rather the bulk of them, I lived alone, "
                                   "in the woods, a mile from any neighbor, in a house which I had built myself."]),
    "moby": html_page("Moby Dick", ["Call me Ishmael. Some years ago, never mind how long precisely, having little "
                                    "or no money in my purse, and nothing particular to interest me on shore."]),
    "pride": html_page("Pride", ["It is a truth universally acknowledged, that a single man in possession of a "
                                 "good fortune, must be in want of a wife, however little known his feelings."]),
    "tale": html_page("Two Cities", ["It was the best of times, it was the worst of times, it was the age of "
                                     "wisdom, it was the age of foolishness, it was the epoch of belief."]),
    "ahab": html_page("Ahab", ["The ship was called the Pequod, after a tribe of Massachusetts Indians now extinct "
                               "as the ancient Medes, and it was a rare old craft of the old school."]),
}


def _chunked(body: bytes, size: int = 40) -> bytes:
    parts = [f"{len(body[i:i + size]):x}\r\n".encode() + body[i:i + size] + b"\r\n" for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def common_crawl_2008_records() -> list[bytes]:
    """One ARC with every quirk of Common Crawl's first crawls; five pages and a DNS record."""
    walden = PAGES["walden"].encode()
    return [
        arc_filedesc("crawl-001.arc", "20080613120000", cc_quirk=True),
        # no space after the colon; chunked + gzip declared over a body stored decoded
        arc_record("http://a.example/walden.html", "20080613120001", http_message(
            walden, (("Server", "nginx/0.5.26"), ("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"),
                     ("Content-Encoding", "gzip"), ("Date", "Fri, 13 Jun 2008 12:00:01 GMT")), colon=":")),
        # a URL with spaces
        arc_record("http://a.example/my page/moby dick.html", "20080613120002",
                   http_message(PAGES["moby"].encode())),
        # a wrong declared length in the middle (too short by 30 bytes)
        arc_record("http://a.example/pride.html", "20080613120003", http_message(PAGES["pride"].encode()),
                   declared_length=len(http_message(PAGES["pride"].encode())) - 30),
        arc_record("dns:a.example", "20080613120004", b"a.example. 300 IN A 10.0.0.1", content_type="text/dns"),
        # really chunked and gzipped, as declared
        arc_record("http://a.example/tale.html", "20080613120005", http_message(
            _chunked(gzip.compress(PAGES["tale"].encode(), mtime=0)),
            (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")))),
        # a declared length too long: it swallows the next record's header line
        arc_record("http://a.example/ahab.html", "20080613120006", http_message(PAGES["ahab"].encode()),
                   declared_length=len(http_message(PAGES["ahab"].encode())) + 200),
        arc_record("http://a.example/walden2.html", "20080613120007", http_message(walden)),
    ]


PAGE_URLS = ["http://a.example/walden.html", "http://a.example/my page/moby dick.html",
             "http://a.example/pride.html", "http://a.example/tale.html", "http://a.example/ahab.html",
             "http://a.example/walden2.html"]


@pytest.mark.parametrize("compression,whole_file", [(None, False), ("gzip", False), ("gzip", True)])
def test_common_crawl_2008_arc_every_record_read(tmp_path, compression, whole_file):
    path = tmp_path / ("cc.arc" if compression is None else "cc.arc.gz")
    records = common_crawl_2008_records()
    offsets = write_arc(path, records, compression, whole_file)
    skipped = collections.Counter()
    docs = list(read_file(str(path), tally=skipped))
    assert [d.url for d in docs] == PAGE_URLS
    assert dict(skipped) == {"filedesc": 1, "dns": 1, "arc_resynchronised": 2}  # pride (short), ahab (long)
    assert all(d.reject_reason is None for d in docs), [(d.url, d.reject_detail) for d in docs]
    assert "bulk of them" in docs[0].text and "Ishmael" in docs[1].text and "universally" in docs[2].text
    assert "best of times" in docs[3].text and "Pequod" in docs[4].text and "bulk of them" in docs[5].text
    assert docs[1].crawl_date == "2008-06-13T12:00:02Z" and docs[1].capture_source == "arc_date"
    assert docs[0].http_date == "2008-06-13T12:00:01Z"
    page_offsets = [offsets[i] for i in (1, 2, 3, 5, 6, 7)]
    assert [d.source_offset for d in docs] == page_offsets
    assert [d.source_index for d in docs] == [1, 2, 3, 5, 6, 7]
    tagged = [assign_created(d) for d in docs]
    assert {d.pre_cutoff_evidence for d in tagged} == {"captured"}
    for doc in docs:  # audits re-read every row from its offset (or, without one, its index)
        again = read_record(doc.source_uri, "arc", doc.source_offset, doc.source_index)
        assert again is not None and again.content_sha1 == doc.content_sha1 and again.url == doc.url


def test_arc_resync_and_damaged_records_say_so(tmp_path):
    walden = http_message(PAGES["walden"].encode())
    records = [arc_filedesc("x.arc", "20090101000000"),
               arc_record("http://b.example/1", "20090101000001", walden),
               b"garbage that is no ARC record at all\n" * 3,  # a damaged gzip member
               arc_record("http://b.example/2", "20090101000002", b"HTTP/1.1 500 Oops\r\n\r\nbroken",
                          declared_length=5),
               arc_record("http://b.example/3", "20090101000003", walden)]
    path = tmp_path / "damaged.arc.gz"
    offsets = write_arc(path, records)
    docs = list(read_file(str(path)))
    assert [d.reject_reason for d in docs] == [None, "unreadable_record", "non_200_status", None]
    assert docs[1].source_offset == offsets[2] and "not an ARC record" in docs[1].reject_detail
    assert "declared length 5" in docs[2].reject_detail and "re-synchronised" in docs[2].reject_detail
    assert docs[3].url == "http://b.example/3" and "bulk of them" in docs[3].text


def test_arc_v2_header_lines_and_a_truncated_file(tmp_path):
    page = http_message(PAGES["moby"].encode())
    records = [arc_filedesc("v2.arc", "20100101000000", version=2),
               arc_record("http://c.example/a b", "20100101000001", page, version=2),
               arc_record("http://c.example/cut", "20100101000002", page, version=2)]
    path = tmp_path / "v2.arc"
    data = b"".join(records)
    path.write_bytes(data[:-100])
    docs = list(read_file(str(path)))
    assert [d.url for d in docs] == ["http://c.example/a b", "http://c.example/cut"]
    assert docs[0].reject_reason is None and docs[0].crawl_date == "2010-01-01T00:00:01Z"
    assert docs[1].reject_reason == "truncated_file"


def test_arc_header_line_parser():
    assert read_arc.parse_header_line(b"http://x.org/a b c 1.2.3.4 20080101000000 text/html 12") == \
        read_arc.ArcHeader("http://x.org/a b c", "1.2.3.4", "20080101000000", "text/html", 12)
    assert read_arc.parse_header_line(b"URL IP-address Archive-date Content-type Archive-length") is None
    assert read_arc.parse_header_line(b"www.x.org/ 1.2.3.4 20080101000000 text/html 12").url == "www.x.org/"
    assert read_arc.parse_header_line(b"www.x.org/ host 20080101000000 text/html 12") is None
    assert read_arc.parse_header_line(b"http://x.org/ host 20080101000000 text/html 12").ip == "host"
    assert read_arc.parse_header_line(b"http://x.org/ 1.2.3.4 20080101000000 text/html twelve") is None


# --- Wayback replay exports ---------------------------------------------------------------


def wayback_records() -> list[bytes]:
    return [
        replay_record("http://d.example/walden.html", "20110305120000", PAGES["walden"].encode(),
                      memento="Sat, 05 Mar 2011 12:00:00 GMT", orig_date="Sat, 05 Mar 2011 12:00:00 GMT",
                      orig_last_modified="Mon, 01 Mar 2010 09:00:00 GMT"),
        # no Memento-Datetime: the replay URI's timestamp is the capture time
        replay_record("http://d.example/moby.html", "20110306120000", PAGES["moby"].encode(), memento=None,
                      modifier="id_"),
    ]


def test_wayback_replay_export(tmp_path):
    path = tmp_path / "wayback.warc.gz"
    offsets = write_warc(path, wayback_records())
    docs = list(read_file(str(path)))
    assert [d.reject_reason for d in docs] == [None, None], [d.reject_detail for d in docs]
    walden, moby = docs
    assert walden.url == "http://d.example/walden.html"
    assert walden.capture_uri == "http://web.archive.org/web/20110305120000/http://d.example/walden.html"
    assert walden.crawl_date == "2011-03-05T12:00:00Z" and walden.capture_source == "memento_datetime"
    assert walden.http_date == "2011-03-05T12:00:00Z" and walden.http_last_modified == "2010-03-01T09:00:00Z"
    assert walden.content_type.startswith("text/html") and "bulk of them" in walden.text
    assert moby.url == "http://d.example/moby.html" and moby.capture_source == "replay_uri"
    assert moby.crawl_date == "2011-03-06T12:00:00Z"
    assert [assign_created(d).pre_cutoff_evidence for d in docs] == ["captured", "captured"]
    assert [d.source_offset for d in docs] == offsets
    for doc in docs:
        assert read_record(str(path), "warc", doc.source_offset, doc.source_index).content_sha1 == doc.content_sha1


def test_resource_revisit_and_other_records_are_accounted_for(tmp_path):
    date = "2012-05-01T00:00:00Z"
    records = [
        warcinfo_record(warc_date=date),
        request_record("http://e.example/", warc_date=date),
        http_response_record("http://e.example/", PAGES["pride"], warc_date=date),
        warc_record("resource", PAGES["tale"].encode(), warc_date=date, target_uri="file:///site/tale.html",
                    content_type="text/html"),
        warc_record("resource", b"wget log line", warc_date=date,
                    target_uri="<metadata://gnu.org/software/wget/warc/wget.log>", content_type="text/plain"),
        warc_record("resource", b"\x89PNG....", warc_date=date, target_uri="http://e.example/a.png",
                    content_type="image/png"),
        warc_record("revisit", b"HTTP/1.1 200 OK\r\n\r\n", warc_date=date, target_uri="http://e.example/",
                    content_type="application/http; msgtype=response"),
        warc_record("metadata", b"via: x", warc_date=date, target_uri="http://e.example/",
                    content_type="application/warc-fields"),
    ]
    path = tmp_path / "mixed.warc.gz"
    write_warc(path, records)
    skipped = collections.Counter()
    docs = list(read_file(str(path), tally=skipped))
    assert [d.url for d in docs] == ["http://e.example/", "file:///site/tale.html"]
    assert all(d.reject_reason is None for d in docs) and "best of times" in docs[1].text
    assert docs[1].crawl_date == date and docs[1].capture_source == "warc_date"
    assert dict(skipped) == {"warcinfo": 1, "request": 1, "resource": 2, "revisit": 1, "metadata": 1}


@pytest.mark.parametrize("version", [b"WARC/0.17", b"WARC/0.18"])
def test_old_warc_versions_read_like_warc_1_0(tmp_path, version):
    records = [r.replace(b"WARC/1.0", version, 1) for r in (
        warcinfo_record(warc_date="2008-04-30T20:48:25Z"),
        http_response_record("http://f.example/", PAGES["ahab"], warc_date="2008-04-30T20:48:25Z"))]
    path = tmp_path / "heritrix1.warc.gz"
    write_warc(path, records)
    (doc,) = read_file(str(path))
    assert doc.reject_reason is None and "Pequod" in doc.text and doc.crawl_date == "2008-04-30T20:48:25Z"


def test_replay_uris_and_origin_headers():
    from provsieve.transforms import capture_time

    r = capture_time.parse_replay_uri("https://web.archive.org/web/20100305120000im_/http:/g.example/a.png")
    assert r.original_url == "http://g.example/a.png" and r.stamp == "20100305120000"
    assert capture_time.parse_replay_uri("http://wayback.archive-it.org/1234/20110101000000/https://h.example/x") \
        .original_url == "https://h.example/x"
    assert capture_time.parse_replay_uri("http://web.archive.org/web/2010/http://g.example/") is None  # no capture time
    assert capture_time.parse_replay_uri("http://g.example/2010/03/05/post") is None
    assert capture_time.parse_replay_uri("http://web.archive.org/web/20100305120000/http://localhost:8080/a?b=c") \
        .original_url == "http://localhost:8080/a?b=c"
    assert capture_time.parse_replay_uri("http://web.archive.org/web/20100305120000/g.example/x").original_url \
        == "http://g.example/x"
    assert capture_time.parse_replay_uri("http://web.archive.org/web/20100305120000*/g.example/x") is None  # a list
    headers = capture_time.origin_http_headers({"Date": "Tue, 01 Dec 2026 10:00:00 GMT",
                                                "X-Archive-Orig-Date": "Sat, 05 Mar 2011 12:00:00 GMT"})
    assert headers["date"] == "Sat, 05 Mar 2011 12:00:00 GMT" and "last-modified" not in headers
    assert capture_time.origin_http_headers({"X-Archive-Orig-Content-Type": "text/html"})["content-type"] == "text/html"
    dropped = []
    ev = capture_time.capture_evidence(warc_date="null", memento_datetime="garbage",
                                       capture_uri="http://web.archive.org/web/20110305120000/http://g.example/",
                                       dropped=dropped)
    assert ev == {"crawl_date": "2011-03-05T12:00:00Z", "capture_source": "replay_uri"}
    assert [d.field for d in dropped] == ["crawl_date", "memento_datetime"]


def test_a_response_whose_http_block_is_labelled_as_html_is_still_parsed(tmp_path):
    block = http_message(PAGES["moby"].encode(), (("Content-Type", "text/html"),), status="HTTP/1.1 404 Not Found")
    path = tmp_path / "mislabelled.warc.gz"
    write_warc(path, [warc_record("response", block, warc_date="2015-01-01T00:00:00Z", target_uri="http://i.example/",
                                  content_type="text/html")])
    (doc,) = read_file(str(path))
    assert doc.reject_reason == "non_200_status"


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_padding_after_the_last_arc_record_is_no_record(tmp_path, compression):
    path = tmp_path / "padded.arc"
    write_arc(path, [arc_filedesc("p.arc", "20110101000000"),
                     arc_record("http://j.example/", "20110101000001", http_message(PAGES["tale"].encode()))],
              compression)
    path.write_bytes(path.read_bytes() + b"\x00" * 512 + b"\n")
    (doc,) = read_file(str(path))
    assert doc.reject_reason is None and "best of times" in doc.text


def test_an_arc_record_of_a_replayed_capture_gets_the_original_url(tmp_path):
    path = tmp_path / "replayed.arc"
    write_arc(path, [arc_filedesc("r.arc", "20200101000000"),
                     arc_record("http://web.archive.org/web/20090101000000id_/http://k.example/", "20200101000001",
                                http_message(PAGES["moby"].encode()))], None)
    (doc,) = read_file(str(path))
    assert doc.url == "http://k.example/" and doc.capture_uri.startswith("http://web.archive.org/web/2009")
    assert doc.crawl_date == "2009-01-01T00:00:00Z" and doc.capture_source == "replay_uri"


@pytest.mark.parametrize("compression,whole_file", [(None, False), ("gzip", False), ("gzip", True)])
def test_arc_records_larger_than_a_read_and_many_records(tmp_path, compression, whole_file):
    big = html_page("Big", ["A long page of many words written by hand. " * 12_000]).encode()  # ~500 KB > a read
    small = [http_message(html_page(f"P{i}", [f"Page number {i} of a long file, written by a person."]).encode())
             for i in range(300)]
    records = [arc_filedesc("big.arc", "20080101000000", cc_quirk=True),
               arc_record("http://l.example/big", "20080101000001", http_message(big))]
    records += [arc_record(f"http://l.example/{i}", "20080101000002", m) for i, m in enumerate(small)]
    path = tmp_path / "big.arc"
    offsets = write_arc(path, records, compression, whole_file)
    docs = list(read_file(str(path)))
    assert len(docs) == 301 and all(d.reject_reason is None for d in docs)
    assert "written by hand" in docs[0].text and docs[-1].url == "http://l.example/299"
    assert [d.source_offset for d in docs] == offsets[1:]
    capped = list(read_file(str(path), ReaderOptions(max_doc_bytes=100_000)))
    assert capped[0].reject_reason == "too_large" and "bytes > max 100000" in capped[0].reject_detail
    assert [d.url for d in capped[1:]] == [d.url for d in docs[1:]] and capped[1].reject_reason is None


def test_a_gzip_arc_cut_short_reports_the_break_once(tmp_path):
    records = [arc_filedesc("cut.arc", "20080101000000")] + [
        arc_record(f"http://m.example/{i}", "20080101000001", http_message(PAGES["pride"].encode()))
        for i in range(3)]
    path = tmp_path / "cut.arc.gz"
    offsets = write_arc(path, records)
    data = path.read_bytes()
    for cut in (offsets[3] + 30, offsets[3] + 60, offsets[3] + 200):
        path.write_bytes(data[:cut])
        docs = list(read_file(str(path)))
        assert [d.reject_reason for d in docs] == [None, None, "truncated_file"], (cut, docs[2:])
    path.write_bytes(data[:-5])  # only the last member's trailer is missing: its record is whole, the break is after
    assert [d.reject_reason for d in read_file(str(path))] == [None, None, None, "truncated_file"]


FIELD_LINE_V2 = b"URL IP-address Archive-date Content-type Result-code Checksum Location Offset Filename Archive-length"


@pytest.mark.parametrize("field_line,declared", [
    (b"URL IP-address Archive-date Content-type Archive-length", 16),  # only the version line
    (b"URL IP-address Archive-date Content-type Archive-length", 73),  # version line, field line and newline
    (FIELD_LINE_V2, 73),  # a v2 field line that 73 does not cover
    (FIELD_LINE_V2, 73 + 200),  # so long that it runs into the first record
])
def test_every_filedesc_length_variant_reads_every_record(tmp_path, field_line, declared):
    block = b"1 0 CommonCrawl\n" + field_line + b"\n"
    filedesc = f"filedesc://v.arc 0.0.0.0 20080101000000 text/plain {declared}\n".encode() + block + b"\n"
    pages = [arc_record(f"http://n.example/{i}", "20080101000001", http_message(PAGES["tale"].encode()))
             for i in range(2)]
    path = tmp_path / "v.arc"
    write_arc(path, [filedesc] + pages, None)
    skipped = collections.Counter()
    docs = list(read_file(str(path), tally=skipped))
    assert [d.url for d in docs] == ["http://n.example/0", "http://n.example/1"]
    assert all(d.reject_reason is None for d in docs) and skipped["filedesc"] == 1


def test_a_replay_record_labelled_application_http_whose_block_is_the_body(tmp_path):
    record = replay_record("http://o.example/walden.html", "20110305120000", PAGES["walden"].encode(),
                           memento="Sat, 05 Mar 2011 12:00:00 GMT", content_type="application/http; msgtype=response")
    path = tmp_path / "mislabelled-replay.warc.gz"
    offsets = write_warc(path, [record])
    (doc,) = read_file(str(path))
    assert doc.reject_reason is None and "bulk of them" in doc.text and doc.url == "http://o.example/walden.html"
    again = read_record(str(path), "warc", offsets[0], 0)
    assert again.content_sha1 == doc.content_sha1


def test_every_record_of_the_shared_warcs_is_a_document_or_counted(shared_crawl):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    for path in sorted(shared_crawl.glob("*.warc.gz")):
        with open(path, "rb") as f:
            stored = sum(1 for _ in ArchiveIterator(f, record_types=WarcRecordType.any_type, parse_http=False))
        tally = collections.Counter()
        docs = list(read_file(str(path), tally=tally))
        assert len(docs) + sum(tally.values()) == stored, (path.name, len(docs), dict(tally))


def test_absolute_input_makes_only_local_relative_globs_absolute(tmp_path, monkeypatch):
    from provsieve.transforms.match_inputs import absolute_input

    work = tmp_path / "a[b]"
    work.mkdir()
    monkeypatch.chdir(work)
    escaped = str(tmp_path) + "/a[[]b]"
    assert absolute_input("in/*.warc.gz") == escaped + "/in/*.warc.gz"
    assert absolute_input("./in/../x.gz") == escaped + "/x.gz"
    assert absolute_input("dir/") == escaped + "/dir/"  # a directory stays a directory
    for given in ("/abs/*.gz", "gs://bucket/crawl-*.warc.gz", "file:///data/x.warc"):
        assert absolute_input(given) == given
