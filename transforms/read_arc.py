"""A tolerant reader of ARC files (the Internet Archive's format before WARC; Common Crawl 2008-2012).

warcio (``arc2warc=True``) trusts every declared length and fails at the
first wrong one (Common Crawl's first ARC files, whose version block length
leaves out the field-description line, gave one record each), and it refuses
whole-file gzip ARC files ("non-chunked gzip file"). jwarc met the
same files ("ARC variants with different interpretations of version-block
length", iipc/jwarc#82) and an infinite loop on a bad length (#62);
webarchive-commons skips the field line by hand. This reader:

* trusts each record's own header line and ``Archive-length``, and checks that
  the next record header (or the end) follows the declared length; when it
  does not, the record runs to the next line that parses as an ARC header, or
  to the end of its gzip member when that comes first (counted as
  ``arc_resynchronised`` in the manifest; a rejected record says so in
  ``reject_detail``; bytes that make no record become their own rejected row);
* reads ARC v1 and v2 header lines from the right (length, then the v2 fields,
  content type, 14-digit date, IP), so URLs with spaces (warcio #61) survive;
* parses HTTP headers with warcio, with or without a space after the colon, and
  undoes a declared ``Transfer-Encoding: chunked`` / ``Content-Encoding: gzip``
  only where the stored body really is encoded (warcio's readers fall back to
  the raw bytes otherwise);
* reads plain files, one gzip member per record, and whole-file gzip, as a
  stream: only about the record being read is held, and a record longer than
  the reader's limit is skipped over, not held.

``source_offset`` is exact: the byte offset of the record's header line in a
plain file, of its gzip member in a gzip-per-record file. A record that does
not start a gzip member (all but the first in a whole-file gzip) cannot be
reached by seeking, so its ``source_offset`` is ``None`` and audits find it by
``source_index``.
"""

from __future__ import annotations

import collections
import io
import re
import zlib
from typing import IO, Callable, Iterator, NamedTuple, Optional

from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.statusandheaders import StatusAndHeadersParser

RESYNCED = "arc_resynchronised"
"""Tally key of ARC records (and damaged gaps) read after a declared length proved wrong."""
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 18
_COMPACT_AT = 1 << 20
_PADDING = b"\x00\r\n\t "
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
    size: int = 0
    """Bytes of the block (of an oversized record skipped over, the declared length)."""


class ArcGap(NamedTuple):
    """Bytes between records that are no ARC record (damage); reported, never dropped silently."""
    index: int
    offset: Optional[int]
    size: int
    detail: str


def parse_header_line(line: bytes) -> Optional[ArcHeader]:
    """An ARC v1 (``URL IP date type length``) or v2 (10 fields) header line, else None.

    Read from the right: the URL is everything before the IP address, so spaces
    in it are kept. Re-synchronising only lands on lines whose URL has a scheme
    (``_HEADER_CANDIDATE``).
    """
    tokens = line.rstrip(b"\r\n").split(b" ")
    if len(tokens) < 5 or not tokens[-1].isdigit() or not tokens[0]:
        return None
    dated = [i for i in range(1, len(tokens) - 2) if _ARC_DATE.match(tokens[i + 1])]
    addressed = [i for i in dated if _ADDRESS.match(tokens[i])]
    # an odd address field only after a URL with a scheme; a URL without one only before an address
    for i in addressed or (dated[:1] if _SCHEME.match(tokens[0]) else []):
        rest = tokens[i + 2:]
        content_type = rest[0].decode("latin-1") if len(rest) >= 2 else None
        return ArcHeader(b" ".join(tokens[:i]).decode("utf-8", "replace"), tokens[i].decode("latin-1"),
                         tokens[i + 1].decode("ascii"), content_type, int(tokens[-1]))
    return None


class _Window:
    """The decompressed ARC stream, held only from about the record being parsed on (read on demand).

    ``data[i]`` is byte ``base + i`` of the decompressed stream; :meth:`compact`
    forgets what lies before the current record.
    """

    def __init__(self, read: Callable[[], bytes]):
        self._read = read
        self.data = bytearray()
        self.base = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self._read()
        if not chunk:
            self.eof = True
            return False
        self.data += chunk
        return True

    def ensure(self, end: int) -> None:
        while len(self.data) < end and self.more():
            pass

    def forget(self, n: int) -> None:
        del self.data[:n]
        self.base += n

    def compact(self, pos: int) -> int:
        """Forget the bytes before ``pos`` (when they are many); the index ``pos`` has now."""
        if pos >= _COMPACT_AT or (pos and pos == len(self.data)):
            self.forget(pos)
            return 0
        return pos

    def skip_newlines(self, pos: int) -> int:
        while True:
            while pos < len(self.data) and self.data[pos] in b"\r\n":
                pos += 1
            if pos < len(self.data) or not self.more():
                return pos

    def line_end(self, pos: int) -> int:
        """Index of the newline ending the line at ``pos`` (or the end of the stream)."""
        while True:
            end = self.data.find(b"\n", pos)
            if end >= 0:
                return end
            if not self.more():
                return len(self.data)

    def next_header(self, start: int) -> Optional[int]:
        """Index of the first line at or after ``start`` (a line start) that parses as an ARC header."""
        searched = start
        while True:
            limit = len(self.data) if self.eof else self.data.rfind(b"\n") + 1  # whole lines only
            for match in _HEADER_CANDIDATE.finditer(self.data, searched, max(limit, searched)):
                if parse_header_line(match.group(0)) is not None:
                    return match.start()
            searched = max(searched, limit)
            if self.eof:
                return None
            self.more()

    def at_padding(self, pos: int) -> bool:
        """Whether only NUL/whitespace padding is left from ``pos`` on."""
        while True:
            if self.data[pos:pos + 4096].strip(_PADDING):
                return False
            pos = min(pos + 4096, len(self.data))
            if pos == len(self.data) and not self.more():
                return True


def _follows_cleanly(window: _Window, pos: int) -> bool:
    """Whether a record header or the end of the stream comes next (after blank lines)."""
    pos = window.skip_newlines(pos)
    if pos >= len(window.data):
        return True
    return parse_header_line(window.data[pos:window.line_end(pos)]) is not None


def parse_stream(window: _Window, offset_of: Callable[[int], Optional[int]],
                 member_end: Callable[[int], Optional[int]] = lambda position: None,
                 max_block: Optional[int] = None) -> Iterator[ArcRecord | ArcGap]:
    """Records and damaged gaps of a decompressed ARC stream.

    ``offset_of(stream position)`` is the file offset a record starting there
    can be sought at, or None; ``member_end(stream position)`` the stream
    position where the gzip member holding it ends (None for plain files or the
    last member): a record whose declared length is wrong ends there at the
    latest. A record longer than ``max_block`` is skipped over, not held: its
    ``block`` is empty and ``size`` is its declared length.
    """
    index = 0
    pos = window.skip_newlines(0)
    while pos < len(window.data):
        pos = window.compact(pos)
        if window.at_padding(pos):
            return  # NUL/whitespace padding at the end: no record
        offset = offset_of(window.base + pos)
        line_end = window.line_end(pos)
        line = bytes(window.data[pos:line_end])
        header = parse_header_line(line)
        if header is None and _FIELD_LINE.match(line):
            pos = window.skip_newlines(line_end)  # Common Crawl: outside the filedesc length, a known variant
            continue
        if header is None:
            resume = window.next_header(line_end + 1)
            stop = len(window.data) if resume is None else resume
            where = (f"offset {offset}" if offset is not None
                     else f"position {window.base + pos} of the decompressed stream")
            yield ArcGap(index, offset, stop - pos, f"{stop - pos} bytes at {where} are not an ARC record "
                         f"({line[:60]!r}): " + ("re-synchronised on the next record header" if resume is not None
                                                 else "up to the end"))
            index += 1
            pos = stop
            continue
        body_start = line_end + 1
        declared_end = body_start + header.length
        if max_block is not None and header.length > max_block:
            yield _skip_large(window, index, offset, header, body_start)
            index += 1
            pos = window.skip_newlines(0)
            continue
        window.ensure(declared_end + 1)
        end, problem, truncated = declared_end, None, False
        if declared_end > len(window.data) or not _follows_cleanly(window, declared_end):
            # the length is wrong: the record runs to the next record header or the end of its gzip member
            resume = window.next_header(body_start)
            boundary = member_end(window.base + body_start)
            ends = [e for e in (resume, None if boundary is None else boundary - window.base) if e is not None]
            if ends:
                end = min(ends)
            elif declared_end > len(window.data):
                truncated, end = True, len(window.data)
                problem = f"the data ends {declared_end - len(window.data)} bytes before the declared length"
            else:
                end = len(window.data)
        if end != declared_end and not truncated:
            problem = (f"declared length {header.length}, but the record ends after {end - body_start} bytes "
                       f"(next record header or end of its gzip member): re-synchronised there")
        block = bytes(window.data[body_start:end])
        if problem and not truncated:
            block = block.rstrip(b"\r\n")
        yield ArcRecord(index, offset, header, block, problem, truncated, len(block))
        index += 1
        pos = window.skip_newlines(end)


def _skip_large(window: _Window, index: int, offset: Optional[int], header: ArcHeader,
                body_start: int) -> ArcRecord:
    """An oversized record: read past its declared length without holding it (the window starts after it)."""
    end = body_start + header.length
    while end > len(window.data):
        end -= len(window.data)
        window.forget(len(window.data))
        if not window.more():
            break
    truncated = end > len(window.data)
    window.forget(min(end, len(window.data)))
    return ArcRecord(index, offset, header, b"", "the file ends inside it" if truncated else None, truncated,
                     header.length)


class _GzipStream:
    """The decompressed bytes of a gzip file (one member per record, or one for the whole file).

    Remembers where each member starts, compressed and decompressed, so a
    record starting a member gets the member's file offset.
    """

    def __init__(self, raw: IO[bytes], start: int):
        self._raw = raw
        self._compressed = start
        self._decompressed = 0
        self._member = None
        self._pending = b""
        self._starts: collections.deque = collections.deque()
        self.problem: Optional[str] = None

    def read(self) -> bytes:
        while True:
            if not self._pending:
                self._pending = self._raw.read(_CHUNK)
                if not self._pending:
                    if self._member is not None:
                        self.problem = f"gzip member at byte offset {self._starts[-1][1]} cut short (truncated file)"
                    return b""
            if self._member is None:
                if not self._pending.startswith(_GZIP_MAGIC[:len(self._pending)]) \
                        and not self._pending.strip(_PADDING):
                    self._compressed += len(self._pending)  # zero padding after the last member
                    self._pending = b""
                    continue
                self._member = zlib.decompressobj(wbits=31)
                self._starts.append((self._decompressed, self._compressed))
            try:
                out = self._member.decompress(self._pending)
            except zlib.error as err:
                self.problem = f"corrupt gzip data in the member at byte offset {self._starts[-1][1]}: {err}"
                self._pending = b""
                self._raw = io.BytesIO()
                return b""
            consumed = len(self._pending) - len(self._member.unused_data)
            self._compressed += consumed
            self._pending = self._member.unused_data
            if self._member.eof:
                self._member = None
            self._decompressed += len(out)
            if out:
                return out

    def member_end(self, position: int) -> Optional[int]:
        """The decompressed position where the member holding ``position`` ends, if another member follows."""
        return next((start for start, _ in self._starts if start > position), None)

    def offset_of(self, position: int) -> Optional[int]:
        """The file offset of the member starting at decompressed ``position``, if one does."""
        while self._starts and self._starts[0][0] < position:
            self._starts.popleft()
        return self._starts[0][1] if self._starts and self._starts[0][0] == position else None


def iter_arc(raw: IO[bytes], start: int = 0, max_block: Optional[int] = None) -> Iterator[ArcRecord | ArcGap | str]:
    """Every record (and damaged gap) of an ARC stream positioned at ``start``; a final ``str`` names a break."""
    head = raw.read(2)
    raw.seek(start)
    if head != _GZIP_MAGIC:
        yield from parse_stream(_Window(lambda: raw.read(_CHUNK)), lambda position: start + position,
                                max_block=max_block)
        return
    stream = _GzipStream(raw, start)
    held = None  # the last item waits: when the gzip stream is cut inside it, the break is reported once
    for item in parse_stream(_Window(stream.read), stream.offset_of, stream.member_end, max_block):
        if held is not None:
            yield held
        held = item
    if stream.problem and isinstance(held, ArcGap):
        held = None  # the bytes of the cut member that make no record are the break itself
    if held is not None:
        yield held
    if stream.problem and not (isinstance(held, ArcRecord) and held.truncated):
        yield stream.problem


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



