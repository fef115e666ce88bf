"""Helpers to GENERATE WARC fixtures for the test-suite (and the bundled sample).

Dependency-light: only the standard library (plus ``zstandard`` when a zstd
file is asked for). Output is deterministic: the same inputs always give the
same bytes (record ids are uuid5 of the record's type, URL and date; gzip
members carry ``mtime=0``, no file name and OS byte 255).

Typical use::

    from warc_fixtures import html_page, http_response_record, request_record, warcinfo_record, write_warc

    page = html_page("Walden", ["When I wrote the following pages ..."], published="2019-05-12")
    records = [
        warcinfo_record(warc_date="2019-05-12T10:00:00Z", filename="x.warc.gz"),
        request_record("https://a.example/walden", warc_date="2019-05-12T10:00:00Z"),
        http_response_record("https://a.example/walden", page, warc_date="2019-05-12T10:00:00Z"),
    ]
    offsets = write_warc(tmp_path / "x.warc.gz", records)          # one gzip member per record

Every record is a complete WARC/1.0 record: version line, named fields,
``Content-Length`` equal to the block's length, blank line, block, and the
two-CRLF record terminator. ``WARC-Block-Digest`` (and for responses
``WARC-Payload-Digest``) are the standard ``sha1:<base32>`` values.
"""

from __future__ import annotations

import base64
import hashlib
import html as _html
import json
import os
import struct
import uuid
import zlib
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from typing import Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

CRLF = b"\r\n"
WARC_VERSION = b"WARC/1.0"
RECORD_ID_NAMESPACE = uuid.UUID("6f1c0d2e-5b7a-4c59-9a0e-7a1d3c2b9e11")
"""uuid5 namespace of generated record ids (any fixed UUID; changing it changes every fixture)."""

HeaderValues = Union[Mapping[str, Optional[str]], Sequence[tuple[str, Optional[str]]], None]


# --- small building blocks ---------------------------------------------------


def _to_datetime(value: Union[str, datetime]) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def warc_date_str(value: Union[str, datetime]) -> str:
    """``2019-05-12T10:00:00Z`` (WARC/1.0 ``WARC-Date`` form, second precision, UTC)."""
    return _to_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date_str(value: Union[str, datetime]) -> str:
    """``Sun, 12 May 2019 10:00:00 GMT`` (RFC 7231 IMF-fixdate)."""
    return format_datetime(_to_datetime(value).replace(microsecond=0), usegmt=True)


def sha1_digest(data: bytes) -> str:
    """The WARC digest form: ``sha1:`` + base32 of the SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def make_record_id(*parts: object) -> str:
    """A deterministic ``<urn:uuid:...>`` from the given parts (uuid5)."""
    name = "\x1f".join(str(p) for p in parts)
    return f"<urn:uuid:{uuid.uuid5(RECORD_ID_NAMESPACE, name)}>"


def record_id_for(warc_type: str, url: Optional[str], warc_date: Union[str, datetime]) -> str:
    """The id :func:`http_response_record` / :func:`request_record` / :func:`warcinfo_record` derive
    when none is given (so a request can point at its response with ``WARC-Concurrent-To``)."""
    return make_record_id(warc_type, url or "", warc_date_str(warc_date))


def _header_items(values: HeaderValues) -> list[tuple[str, Optional[str]]]:
    if values is None:
        return []
    if isinstance(values, Mapping):
        return list(values.items())
    return list(values)


def _merge_headers(defaults: list[tuple[str, str]], extra: HeaderValues) -> list[tuple[str, str]]:
    """``defaults`` overridden by ``extra`` (case-insensitive); an extra value of ``None`` removes the header.

    Extra headers not among the defaults are appended in their given order.
    """
    extra_items = _header_items(extra)
    overrides = {k.lower(): v for k, v in extra_items}
    out: list[tuple[str, str]] = []
    for name, value in defaults:
        if name.lower() in overrides:
            new = overrides[name.lower()]
            if new is not None:
                out.append((name, new))
        else:
            out.append((name, value))
    default_names = {n.lower() for n, _ in defaults}
    seen: set[tuple[str, str]] = set()
    for name, value in extra_items:
        if name.lower() in default_names or value is None:
            continue
        # keep repeated extra headers (e.g. two Set-Cookie) but not exact repeats
        if (name.lower(), value) in seen:
            continue
        seen.add((name.lower(), value))
        out.append((name, value))
    return out


def _header_block(lines: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(f"{k}: {v}".encode("utf-8") + CRLF for k, v in lines)


def warc_record(warc_type: str, block: bytes, *, warc_date: Union[str, datetime], target_uri: Optional[str] = None,
                record_id: Optional[str] = None, content_type: Optional[str] = None,
                extra_warc_headers: HeaderValues = None, payload_digest: Optional[str] = None) -> bytes:
    """Any WARC/1.0 record around ``block``. Header order: WARC-Type, WARC-Record-ID, WARC-Date,
    WARC-Target-URI, extra headers, digests, Content-Type, Content-Length."""
    date = warc_date_str(warc_date)
    headers: list[tuple[str, str]] = [
        ("WARC-Type", warc_type),
        ("WARC-Record-ID", record_id or record_id_for(warc_type, target_uri, date)),
        ("WARC-Date", date),
    ]
    if target_uri is not None:
        headers.append(("WARC-Target-URI", target_uri))
    tail: list[tuple[str, str]] = [("WARC-Block-Digest", sha1_digest(block))]
    if payload_digest is not None:
        tail.append(("WARC-Payload-Digest", payload_digest))
    if content_type is not None:
        tail.append(("Content-Type", content_type))
    tail.append(("Content-Length", str(len(block))))
    merged = _merge_headers(headers + tail, extra_warc_headers)
    # keep Content-Length last (conventional, and easy to eyeball)
    merged = [h for h in merged if h[0].lower() != "content-length"] + \
             [h for h in merged if h[0].lower() == "content-length"]
    return WARC_VERSION + CRLF + _header_block(merged) + CRLF + block + CRLF + CRLF


# --- the three record kinds ---------------------------------------------------


def http_response_record(url: str, html_or_bytes: Union[str, bytes], *, warc_date: Union[str, datetime],
                         content_type: str = "text/html; charset=utf-8", status: int = 200,
                         extra_http_headers: HeaderValues = None, record_id: Optional[str] = None,
                         extra_warc_headers: HeaderValues = None) -> bytes:
    """One WARC/1.0 ``response`` record: a fetch of ``url`` at ``warc_date``.

    The HTTP message is ``HTTP/1.1 <status> <reason>`` with ``Date`` (= the
    capture time), ``Server``, ``Content-Type`` and ``Content-Length`` (of the
    payload), then any ``extra_http_headers`` (same name overrides a default;
    value ``None`` removes it, e.g. ``{"Date": None}``). A ``str`` payload is
    encoded as UTF-8. ``extra_warc_headers`` work the same way on the WARC
    header (e.g. ``{"WARC-IP-Address": "192.0.2.1"}``).
    """
    payload = html_or_bytes.encode("utf-8") if isinstance(html_or_bytes, str) else bytes(html_or_bytes)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    http_defaults = [
        ("Date", http_date_str(warc_date)),
        ("Server", "nginx"),
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
    ]
    http_head = f"HTTP/1.1 {status} {reason}".encode("ascii") + CRLF + \
        _header_block(_merge_headers(http_defaults, extra_http_headers)) + CRLF
    block = http_head + payload
    return warc_record("response", block, warc_date=warc_date, target_uri=url, record_id=record_id,
                       content_type="application/http; msgtype=response",
                       extra_warc_headers=extra_warc_headers, payload_digest=sha1_digest(payload))


def request_record(url: str, *, warc_date: Union[str, datetime], method: str = "GET",
                   user_agent: str = "Mozilla/5.0 (compatible; provsieve-fixtures/1.0)",
                   concurrent_to: Optional[str] = None, extra_http_headers: HeaderValues = None,
                   record_id: Optional[str] = None) -> bytes:
    """One WARC/1.0 ``request`` record: the HTTP request a crawler sent for ``url``.

    ``concurrent_to`` (a ``<urn:uuid:...>``) becomes ``WARC-Concurrent-To``;
    pass ``record_id_for("response", url, warc_date)`` to link it to the
    response written with the default id.
    """
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    http_defaults = [
        ("Host", parts.netloc),
        ("User-Agent", user_agent),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Encoding", "identity"),
        ("Connection", "close"),
    ]
    block = f"{method} {target} HTTP/1.1".encode("ascii") + CRLF + \
        _header_block(_merge_headers(http_defaults, extra_http_headers)) + CRLF
    extra = [("WARC-Concurrent-To", concurrent_to)] if concurrent_to else None
    return warc_record("request", block, warc_date=warc_date, target_uri=url, record_id=record_id,
                       content_type="application/http; msgtype=request", extra_warc_headers=extra)


def warcinfo_record(*, warc_date: Union[str, datetime], filename: Optional[str] = None,
                    fields: HeaderValues = None, record_id: Optional[str] = None) -> bytes:
    """One WARC/1.0 ``warcinfo`` record (``application/warc-fields``).

    Default fields: ``software``, ``format``, ``conformsTo``; ``fields`` adds
    or overrides (``None`` removes). ``filename`` becomes ``WARC-Filename``.
    """
    defaults = [
        ("software", "provsieve tests/warc_fixtures.py"),
        ("format", "WARC File Format 1.0"),
        ("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/"),
    ]
    block = _header_block(_merge_headers(defaults, fields))
    extra = [("WARC-Filename", filename)] if filename else None
    return warc_record("warcinfo", block, warc_date=warc_date, target_uri=None,
                       record_id=record_id or record_id_for("warcinfo", filename, warc_date),
                       content_type="application/warc-fields", extra_warc_headers=extra)


# --- writing files ------------------------------------------------------------


def gzip_member(data: bytes, level: int = 9) -> bytes:
    """One self-contained gzip member, byte-stable: mtime 0, no FNAME, OS 255 (unknown)."""
    xfl = 2 if level == 9 else (4 if level == 1 else 0)
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + bytes([xfl, 255])
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    body = compressor.compress(data) + compressor.flush()
    return header + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def zstd_frame(data: bytes, level: int = 10) -> bytes:
    """One self-contained zstd frame (content size and checksum written)."""
    import zstandard  # only needed for zstd fixtures

    return zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True).compress(data)


def encode_records(records: Sequence[bytes], compression: Optional[str] = "gzip") -> tuple[bytes, list[int]]:
    """The file bytes for ``records`` and each record's byte offset in them.

    ``gzip``: one gzip member per record (the .warc.gz convention, so every
    offset is a seek point); ``zstd``: one zstd frame per record (no
    dictionary); ``None``: records concatenated.
    """
    if compression not in ("gzip", "zstd", None):
        raise ValueError(f"compression must be 'gzip', 'zstd' or None, got {compression!r}")
    chunks: list[bytes] = []
    offsets: list[int] = []
    pos = 0
    for record in records:
        if compression == "gzip":
            chunk = gzip_member(record)
        elif compression == "zstd":
            chunk = zstd_frame(record)
        else:
            chunk = record
        offsets.append(pos)
        pos += len(chunk)
        chunks.append(chunk)
    return b"".join(chunks), offsets


def write_warc(path: Union[str, os.PathLike], records: Sequence[bytes],
               compression: Optional[str] = "gzip") -> list[int]:
    """Write ``records`` to ``path``; return each record's byte offset in the file (as stored)."""
    data, offsets = encode_records(records, compression)
    with open(path, "wb") as fh:
        fh.write(data)
    return offsets


# --- realistic HTML pages -------------------------------------------------------

_DEFAULT_NAV = ("Home", "News", "Books", "Essays", "About", "Contact")


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "page"


def _display_date(value: str) -> str:
    try:
        dt = _to_datetime(value if "T" in value else value + "T00:00:00")
    except ValueError:
        return value
    return f"{dt.strftime('%B')} {dt.day}, {dt.year}"


def html_page(title: str, paragraphs: Sequence[str], *, published: Optional[str] = None,
              modified: Optional[str] = None, jsonld: bool = False, time_tag: bool = False,
              boilerplate: bool = True, site_name: str = "Example Reader", author: Optional[str] = None,
              nav: Optional[Sequence[str]] = None, article_header: Optional[str] = None,
              article_footer: Optional[str] = None, lang: str = "en") -> str:
    """A realistic article page as HTML text.

    ``boilerplate``: a nav menu, site header, sidebar-ish "related" list and a
    footer around the ``<article>`` (with ``<h1>`` and one ``<p>`` per
    paragraph). Dates are used verbatim:

    * ``published`` -> ``<meta property="article:published_time">``;
    * ``modified`` -> ``<meta property="article:modified_time">``;
    * ``jsonld`` -> a ``NewsArticle`` JSON-LD block with ``datePublished`` /
      ``dateModified`` (whichever are given);
    * ``time_tag`` -> ``<time datetime="...">`` in the byline (``published``,
      else ``modified``).

    ``article_header`` / ``article_footer``: one extra line (a ``<p>``) inside
    the article, before / after the paragraphs. ``author`` adds a byline.
    Everything is HTML-escaped.
    """
    esc = _html.escape
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)} | {esc(site_name)}</title>",
        f'<meta property="og:title" content="{esc(title)}">',
        f'<meta property="og:site_name" content="{esc(site_name)}">',
        '<meta property="og:type" content="article">',
    ]
    if published:
        head.append(f'<meta property="article:published_time" content="{esc(published)}">')
    if modified:
        head.append(f'<meta property="article:modified_time" content="{esc(modified)}">')
    if jsonld:
        ld: dict[str, object] = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title}
        if published:
            ld["datePublished"] = published
        if modified:
            ld["dateModified"] = modified
        if author:
            ld["author"] = {"@type": "Person", "name": author}
        ld["publisher"] = {"@type": "Organization", "name": site_name}
        head.append('<script type="application/ld+json">' + json.dumps(ld, ensure_ascii=False, sort_keys=False)
                    + "</script>")
    head.append('<link rel="stylesheet" href="/static/site.css">')
    head.append("</head>")

    body = ["<body>"]
    if boilerplate:
        items = nav if nav is not None else _DEFAULT_NAV
        body.append('<header class="site-header">')
        body.append(f'<div class="logo"><a href="/">{esc(site_name)}</a></div>')
        body.append('<nav class="main-menu"><ul>')
        body.extend(f'<li><a href="/{_slug(item) if item != "Home" else ""}">{esc(item)}</a></li>' for item in items)
        body.append("</ul></nav>")
        body.append('<form class="search" action="/search"><input type="search" name="q" placeholder="Search">'
                    '<button>Go</button></form>')
        body.append("</header>")
    body.append('<main id="content">')
    body.append("<article>")
    body.append(f"<h1>{esc(title)}</h1>")
    byline = []
    if author:
        byline.append(f'By <span class="author">{esc(author)}</span>')
    when = published or modified
    if time_tag and when:
        byline.append(f'<time datetime="{esc(when)}">{esc(_display_date(when))}</time>')
    if byline:
        body.append('<div class="byline">' + " &middot; ".join(byline) + "</div>")
    if article_header:
        body.append(f'<p class="note">{esc(article_header)}</p>')
    body.extend(f"<p>{esc(p)}</p>" for p in paragraphs)
    if article_footer:
        body.append(f'<p class="note">{esc(article_footer)}</p>')
    body.append("</article>")
    if boilerplate:
        body.append('<aside class="related"><h2>Related</h2><ul>')
        body.append('<li><a href="/popular">Most popular this week</a></li>')
        body.append('<li><a href="/newsletter">Subscribe to our newsletter</a></li>')
        body.append("</ul></aside>")
    body.append("</main>")
    if boilerplate:
        body.append('<footer class="site-footer">')
        body.append(f'<p>&copy; {esc(site_name)}. All rights reserved.</p>')
        body.append('<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a> | '
                    '<a href="/cookies">Cookie settings</a></p>')
        body.append("</footer>")
    body.append("</body>")
    body.append("</html>")
    return "\n".join(head + body) + "\n"


def tiny_png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid, deterministic RGB PNG of one colour (real PNG bytes for binary-payload fixtures)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
