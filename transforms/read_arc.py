"""A tolerant reader of ARC files (the Internet Archive's format before WARC; Common Crawl 2008-2012).

warcio (``arc2warc=True``) trusts the ``filedesc://`` header's declared
length, so Common Crawl's first ARC files, whose version block length leaves
out the field-description line, end after their first record. jwarc met the
same files ("ARC variants with different interpretations of version-block
length", iipc/jwarc#82) and an infinite loop on a bad length (#62);
webarchive-commons skips the field line by hand. This reader:

* trusts each record's own header line and ``Archive-length``, and checks that
  the next record header (or the end) follows the declared length; when it
  does not, it re-synchronises on the next line that parses as an ARC header
  (counted as ``arc_resynchronised`` in the manifest; the record is read up to that line and a
  rejected record says so in ``reject_detail``);
* reads ARC v1 and v2 header lines from the right (length, then the v2 fields,
  content type, 14-digit date, IP), so URLs with spaces (warcio #61) survive;
* parses HTTP headers with or without a space after the colon, and undoes a
  declared ``Transfer-Encoding: chunked`` / ``Content-Encoding: gzip`` only
  when the stored body really is encoded (warcio's readers fall back to the raw
  bytes otherwise);
* reads plain files, one gzip member per record, and whole-file gzip.

``source_offset`` is exact: the byte offset of the record's header line in a
plain file, of its gzip member in a gzip-per-record file. Records after the
first of a gzip member holding several (whole-file gzip) cannot be reached by
seeking, so their ``source_offset`` is ``None`` and audits find them by
``source_index``. Plain and whole-file gzip ARC files are decompressed into
memory (ARC files are 100 MB by convention).
"""

from __future__ import annotations

import io
import re
import zlib
from typing import IO, Iterator, NamedTuple, Optional

from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.statusandheaders import StatusAndHeadersParser

RESYNCED = "arc_resynchronised"
"""Tally key of ARC records (and damaged gaps) read after a declared length proved wrong."""
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_PADDING = b"\x00\r\n\t "
_PADDING_SCAN = 4096
_ARC_DATE = re.compile(rb"^\d{12,14}$")
_ADDRESS = re.compile(rb"^(?:[0-9.]+|[0-9a-fA-F:]+|-)$")
_SCHEME = re.compile(rb"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADER_CANDIDATE = re.compile(rb"(?m)^[A-Za-z][A-Za-z0-9+.-]*:[^\n]* \d{12,14} [^\n]*\d\r?$")
_FIELD_LINE = re.compile(rb"^URL IP-address Archive-date Content-type", re.IGNORECASE)
_HTTP_ENCODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br"}


class ArcHeader(NamedTuple):
    url: str
    ip: str
    date: str
    content_type: Optional[str]
    length: int


class ArcRecord(NamedTuple):
    """One record as stored: its header line, its block, where it was and what went wrong."""
    index: int
    offset: Optional[int]
    header: ArcHeader
    block: bytes
    problem: Optional[str] = None
    """Why the declared length could not be trusted (re-synchronised), or that the file ends inside it."""
    truncated: bool = False


class ArcGap(NamedTuple):
    """Bytes between records that are no ARC record (damage); reported, never dropped silently."""
    index: int
    offset: Optional[int]
    size: int
    detail: str


def parse_header_line(line: bytes) -> Optional[ArcHeader]:
    """An ARC v1 (``URL IP date type length``) or v2 (10 fields) header line, else None.

    Read from the right: the URL is everything before the IP address, so spaces
    in it are kept.
    """
    tokens = line.rstrip(b"\r\n").split(b" ")
    if len(tokens) < 5 or not tokens[-1].isdigit() or not _SCHEME.match(tokens[0]):
        return None
    dated = [i for i in range(1, len(tokens) - 2) if _ARC_DATE.match(tokens[i + 1])]
    for i in [i for i in dated if _ADDRESS.match(tokens[i])] or dated[:1]:  # an odd address field as a last resort
        rest = tokens[i + 2:]
        content_type = rest[0].decode("latin-1") if len(rest) >= 2 else None
        return ArcHeader(b" ".join(tokens[:i]).decode("utf-8", "replace"), tokens[i].decode("latin-1"),
                         tokens[i + 1].decode("ascii"), content_type, int(tokens[-1]))
    return None


def _next_header(data: bytes, start: int) -> Optional[int]:
    """Offset of the first line at or after ``start`` that parses as an ARC header."""
    for match in _HEADER_CANDIDATE.finditer(data, start):
        if parse_header_line(match.group(0)) is not None:
            return match.start()
    return None


def _skip_newlines(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in b"\r\n":
        pos += 1
    return pos


def _follows_cleanly(data: bytes, pos: int) -> bool:
    """Whether a record header or the end of the data comes next (after blank lines)."""
    pos = _skip_newlines(data, pos)
    if pos >= len(data):
        return True
    end = data.find(b"\n", pos)
    return parse_header_line(data[pos:end if end >= 0 else len(data)]) is not None


def parse_segment(data: bytes, base: int, exact: bool, first_index: int) -> Iterator[ArcRecord | ArcGap]:
    """Records and damaged gaps of decompressed ARC bytes.

    ``base`` is where ``data`` starts in the file; ``exact`` says offsets inside
    ``data`` are file offsets (plain files); otherwise only a record at the
    start of ``data`` gets ``base`` as its offset.
    """
    index = first_index
    pos = _skip_newlines(data, 0)
    first = True
    while pos < len(data):
        if not data[pos:pos + _PADDING_SCAN].strip(_PADDING) and not data[pos:].strip(_PADDING):
            return  # NUL/whitespace padding at the end: no record
        offset = base + pos if exact else (base if first else None)
        first = False
        line_end = data.find(b"\n", pos)
        line_end = len(data) if line_end < 0 else line_end
        header = parse_header_line(data[pos:line_end])
        if header is None and _FIELD_LINE.match(data[pos:line_end]):
            pos = _skip_newlines(data, line_end)  # Common Crawl: outside the filedesc length, a known variant
            continue
        if header is None:
            resume = _next_header(data, line_end)
            stop = len(data) if resume is None else resume
            where = f"offset {offset}" if offset is not None else f"position {pos} of a gzip member"
            yield ArcGap(index, offset, stop - pos,
                         f"{stop - pos} bytes at {where} are not an ARC record ({data[pos:min(line_end, pos + 60)]!r}"
                         f"): "
                         + ("re-synchronised on the next record header" if resume is not None else "up to the end"))
            index += 1
            pos = stop
            continue
        body_start = line_end + 1
        end = body_start + header.length
        problem = None
        truncated = False
        if end > len(data):
            resume = _next_header(data, body_start)
            if resume is not None:
                end = stop = resume
            elif exact:
                truncated, end, stop = True, len(data), len(data)
                problem = f"the data ends {header.length - (len(data) - body_start)} bytes before the declared length"
            else:  # a gzip member is one unit: the record ends with it
                end = stop = len(data)
        elif _follows_cleanly(data, end):
            stop = end
        else:  # the length is wrong: the record runs to the next record header
            resume = _next_header(data, body_start)
            stop = end = len(data) if resume is None else resume
        if end != body_start + header.length and not truncated:
            problem = (f"declared length {header.length}, but the record ends after {end - body_start} bytes "
                       f"(next record header or end of its gzip member): re-synchronised there")
        block = data[body_start:end]
        if problem and not truncated:
            block = block.rstrip(b"\r\n") if end < len(data) else block
        yield ArcRecord(index, offset, header, block, problem, truncated)
        index += 1
        pos = _skip_newlines(data, stop)


def _gzip_members(raw: IO[bytes]) -> Iterator[tuple[int, bytes, Optional[str]]]:
    """(compressed offset, decompressed bytes, problem) of each gzip member of ``raw``."""
    offset = 0
    pending = b""
    while True:
        if not pending:
            pending = raw.read(_CHUNK)
            if not pending:
                return
        if not pending.startswith(_GZIP_MAGIC[:len(pending)]) and not pending.strip(_PADDING):
            offset += len(pending)  # zero padding after the last member
            pending = raw.read(_CHUNK)
            continue
        member = zlib.decompressobj(wbits=31)
        out = []
        consumed = 0
        try:
            while True:
                out.append(member.decompress(pending))
                if member.eof:
                    consumed += len(pending) - len(member.unused_data)
                    pending = member.unused_data
                    break
                consumed += len(pending)
                pending = raw.read(_CHUNK)
                if not pending:
                    yield offset, b"".join(out), f"gzip member at byte offset {offset} cut short (truncated file)"
                    return
        except zlib.error as err:
            yield offset, b"".join(out), f"corrupt gzip data in the member at byte offset {offset}: {err}"
            return
        yield offset, b"".join(out), None
        offset += consumed


def iter_arc(raw: IO[bytes], start: int = 0) -> Iterator[ArcRecord | ArcGap | str]:
    """Every record (and damaged gap) of an ARC stream positioned at ``start``; a final ``str`` names a break."""
    head = raw.read(2)
    raw.seek(start)
    if head != _GZIP_MAGIC:
        data = raw.read()
        yield from parse_segment(data, start, True, 0)
        return
    index = 0
    for offset, data, problem in _gzip_members(raw):
        for item in parse_segment(data, start + offset, False, index):
            index += 1
            yield item
        if problem:
            yield problem
            return


def http_parts(block: bytes, arc_content_type: Optional[str]) -> tuple[Optional[int], dict[str, str], bytes]:
    """(status, lower-cased headers, decoded payload) of an ARC record's block.

    A block that does not start with an HTTP status line is taken as the body,
    with the ARC header's content type.
    """
    if not block.startswith(b"HTTP/"):
        return None, ({"content-type": arc_content_type} if arc_content_type else {}), block
    stream = io.BytesIO(block)
    parsed = StatusAndHeadersParser([], verify=False).parse(stream)
    headers = {k.strip().lower(): v.strip() for k, v in parsed.headers}
    code = parsed.get_statuscode()
    status = int(code) if code and code.isdigit() else None
    return status, headers, decode_payload(stream.read(), headers)


def decode_payload(payload: bytes, headers: dict[str, str]) -> bytes:
    """Undo the declared transfer and content encodings where the stored body really has them."""
    encoding = _HTTP_ENCODINGS.get(headers.get("content-encoding", "").strip().lower())
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return ChunkedDataReader(io.BytesIO(payload), raise_exceptions=False, decomp_type=encoding).read()
        if encoding:
            return DecompressingBufferedReader(io.BytesIO(payload), decomp_type=encoding).read()
    except Exception:  # noqa: BLE001 - a body that only claims an encoding is read as stored
        return payload
    return payload


def record_kind(header: ArcHeader) -> Optional[str]:
    """The skipped-record type of a non-page ARC record (``filedesc``, ``dns``), else None."""
    scheme = header.url.split(":", 1)[0].lower()
    return scheme if scheme in ("filedesc", "dns", "alexa") else None



