"""Helpers to GENERATE real-archive fixtures: ARC files as Common Crawl wrote them in 2008-2012, and
Wayback Machine replay exports, with their quirks (see issue 13).

Deterministic, standard library only. Typical use::

    records = [arc_filedesc("cc.arc", "20080613120000", cc_quirk=True),
               arc_record("http://a.example/x y.html", "20080613120001", http_message(page))]
    offsets = write_arc(tmp_path / "cc.arc", records, compression=None)
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

from warc_fixtures import encode_records, gzip_member, warc_record

FIELD_LINE_V1 = b"URL IP-address Archive-date Content-type Archive-length"


def arc_filedesc(name: str, date: str, *, version: int = 1, cc_quirk: bool = False) -> bytes:
    """The version block. ``cc_quirk``: the declared length leaves out the field-description line
    (Common Crawl 2008/2009)."""
    first = f"{version} 0 CommonCrawl\n".encode()
    body = first + FIELD_LINE_V1 + b"\n"
    declared = len(first) if cc_quirk else len(body)
    return f"filedesc://{name} 0.0.0.0 {date} text/plain {declared}\n".encode() + body + b"\n"


def arc_record(url: str, date: str, block: bytes, *, ip: str = "10.0.0.1", content_type: str = "text/html",
               declared_length: Optional[int] = None, version: int = 1) -> bytes:
    """One ARC record: header line, block, newline. ``declared_length`` lies about the length."""
    length = len(block) if declared_length is None else declared_length
    if version == 1:
        line = f"{url} {ip} {date} {content_type} {length}\n"
    else:
        line = f"{url} {ip} {date} {content_type} 200 - - 0 x.arc {length}\n"
    return line.encode("utf-8") + block + b"\n"


def http_message(body: bytes, headers: Sequence[tuple[str, str]] = (("Content-Type", "text/html"),),
                 status: str = "HTTP/1.1 200 OK", colon: str = ": ") -> bytes:
    """An HTTP response as stored in an ARC block; ``colon=":"`` writes ``Server:nginx`` lines."""
    lines = [status] + [f"{k}{colon}{v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def encode_arc(records: Sequence[bytes], compression: Optional[str] = "gzip",
               whole_file: bool = False) -> tuple[bytes, list[Optional[int]]]:
    """The file bytes for ARC ``records`` and each record's offset as stored (None past the first with
    ``whole_file``); per record as :func:`warc_fixtures.encode_records` writes them, or one gzip member."""
    if compression == "gzip" and whole_file:
        return gzip_member(b"".join(records)), [0] + [None] * (len(records) - 1)
    return encode_records(records, compression)


def write_arc(path: Union[str, os.PathLike], records: Sequence[bytes], compression: Optional[str] = "gzip",
              whole_file: bool = False) -> list[Optional[int]]:
    """Write ARC ``records``; return each record's offset as stored (see :func:`encode_arc`)."""
    data, offsets = encode_arc(records, compression, whole_file)
    with open(path, "wb") as f:
        f.write(data)
    return offsets


def replay_record(original_url: str, stamp: str, body: bytes, *, memento: Optional[str],
                  orig_date: Optional[str] = None, orig_last_modified: Optional[str] = None,
                  modifier: str = "", content_type: str = "text/html; charset=utf-8") -> bytes:
    """A Wayback export's ``response`` record: ``WARC-Date: null``, the capture's HTTP headers merged into
    the WARC header, the block the HTML body itself (no status line)."""
    uri = f"http://web.archive.org/web/{stamp}{modifier}/{original_url}"
    extra = [("Memento-Datetime", memento), ("X-Archive-Orig-Date", orig_date),
             ("X-Archive-Orig-Last-Modified", orig_last_modified), ("Date", "Tue, 01 Dec 2026 10:00:00 GMT")]
    record = warc_record("response", body, warc_date="2000-01-01T00:00:00Z", target_uri=uri,
                         content_type=content_type, extra_warc_headers=[(k, v) for k, v in extra if v])
    return record.replace(b"WARC-Date: 2000-01-01T00:00:00Z", b"WARC-Date: null", 1)
