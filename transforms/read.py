"""Reading crawl files into Documents: WARC, WET, ARC, JSONL and Parquet.

Every file is opened through Beam's ``FileSystems`` (local paths, ``gs://``,
``s3://``, ...). Compression (gzip, zstd, and lz4 for WARC) is detected from
the first bytes, not the file name. Each record read becomes exactly one
:class:`~provsieve.transforms.document.Document`: a readable document, or a
rejected one whose ``reject_reason`` says why (``binary_content``,
``empty_text``, ``too_large``, ``bad_encoding``, ``unreadable_record``,
``missing_text_field``, ``non_200_status``, ...). When a file breaks midway the
records before the break are kept and the break itself becomes one rejected
row (``truncated_file``) naming the file and byte offset; a file that cannot be
opened becomes one ``unreadable_file`` row. Nothing is dropped silently.

WARC records that are not documents (``request``, ``metadata``, ``warcinfo``,
``revisit``, ``resource``) are skipped and counted as ``read.skipped_records``;
they are not input documents.

``source_offset`` is the byte offset of the record in the file as stored
(compressed) for WARC/WET/ARC, and the byte offset of the line in the
decompressed stream for JSONL; ``None`` for Parquet, whose rows are located by
``source_index`` (the row number).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import time
import zlib
from typing import IO, Any, Iterator, NamedTuple, Optional

import apache_beam as beam
from apache_beam.io import fileio
import pyarrow.parquet as pq
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from fastwarc.warc import ArchiveIterator, WarcRecordType

from provsieve.transforms import timestamps
from provsieve.transforms.document import Document, new_document
from provsieve.transforms.extract import extract_text
from provsieve.transforms.timing import StageClock

LOG = logging.getLogger("provsieve")

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = (0x184D2A50, 0x184D2A5F)
_LZ4_MAGIC = b"\x04\x22\x4d\x18"


class ReaderOptions(NamedTuple):
    text_field: str = "text"
    """JSONL key / Parquet column holding the text (dotted paths allowed for JSONL)."""
    max_doc_bytes: int = 10 * 1024 * 1024
    """Payloads or texts larger than this are rejected as ``too_large`` (not read into memory for WARC)."""
    html_dates: str = "auto"
    """How HTML pages are searched for dates: ``auto``, ``htmldate`` or ``structured`` (see timestamps)."""


# --- format and compression detection -------------------------------------


def _strip_compression_suffix(name: str) -> str:
    for suffix in (".gz", ".gzip", ".zst", ".zstd", ".lz4"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def format_from_name(path: str) -> Optional[str]:
    name = _strip_compression_suffix(path.lower().rsplit("/", 1)[-1])
    if name.endswith(".warc.wet") or name.endswith(".wet"):
        return "wet"
    for ext, fmt in ((".warc", "warc"), (".arc", "arc"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                     (".json", "jsonl"), (".parquet", "parquet")):
        if name.endswith(ext):
            return fmt
    return None


def format_from_content(head: bytes) -> Optional[str]:
    """Sniff the format from the first decompressed bytes."""
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    return None


def compression_of(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC) or (len(head) >= 4 and _ZSTD_SKIPPABLE[0] <= int.from_bytes(head[:4], "little") <= _ZSTD_SKIPPABLE[1]):
        return "zstd"
    if head.startswith(_LZ4_MAGIC):
        return "lz4"
    return "none"


def _open_raw(path: str) -> IO[bytes]:
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _zstd_reader(raw: IO[bytes]) -> IO[bytes]:
    """A zstd stream reader; honours the WARC-zstd convention of a dictionary in a leading skippable frame."""
    head = raw.read(8)
    magic = int.from_bytes(head[:4], "little") if len(head) >= 4 else 0
    dict_data = None
    if _ZSTD_SKIPPABLE[0] <= magic <= _ZSTD_SKIPPABLE[1]:
        size = int.from_bytes(head[4:8], "little")
        blob = raw.read(size)
        if blob.startswith(_ZSTD_MAGIC):
            blob = zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 28)
        dict_data = zstandard.ZstdCompressionDict(blob)
        prefix = b""
    else:
        prefix = head
    dctx = zstandard.ZstdDecompressor(dict_data=dict_data) if dict_data else zstandard.ZstdDecompressor()
    source = io.BufferedReader(_Prefixed(prefix, raw)) if prefix else raw
    return dctx.stream_reader(source, read_across_frames=True)


class _Prefixed(io.RawIOBase):
    """A raw stream with some already-consumed bytes put back in front."""

    def __init__(self, prefix: bytes, raw: IO[bytes]):
        self._prefix, self._raw = prefix, raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        chunk = self._raw.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def open_decompressed(path: str) -> tuple[IO[bytes], str]:
    """Open ``path`` on any Beam filesystem and undo gzip/zstd, detected from the magic bytes."""
    raw = _open_raw(path)
    head = raw.read(8)
    raw.seek(0)
    compression = compression_of(head)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb"), compression
    if compression == "zstd":
        return io.BufferedReader(_ZstdAsRaw(_zstd_reader(raw))), compression
    return raw, compression


class _ZstdAsRaw(io.RawIOBase):
    def __init__(self, reader):
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._reader.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def detect_format(path: str) -> str:
    fmt = format_from_name(path)
    if fmt:
        return fmt
    stream, _ = open_decompressed(path)
    with stream:
        fmt = format_from_content(stream.read(64))
    if fmt is None:
        raise ValueError(f"{path}: unknown format (not WARC, ARC, WET, JSONL or Parquet)")
    return fmt


# --- per-format readers -----------------------------------------------------


def _rejected(source_uri: str, source_format: str, index: int, offset: Optional[int], reason: str,
              detail: Optional[str] = None, **provenance: Any) -> Document:
    return new_document(source_uri=source_uri, source_format=source_format, source_index=index,
                        source_offset=offset, text="", reject_reason=reason, reject_detail=detail, **provenance)


def _clean_uri(uri: Optional[str]) -> Optional[str]:
    """WARC/1.1 drafts (and wget) wrap WARC-Target-URI in angle brackets."""
    if uri is None:
        return None
    uri = uri.strip()
    return uri[1:-1] if uri.startswith("<") and uri.endswith(">") else uri


def _http_document(*, source_uri: str, source_format: str, index: int, offset: Optional[int],
                   url: Optional[str], record_id: Optional[str], capture_raw: Optional[str],
                   status: Optional[int], http_headers: dict[str, str], payload: bytes,
                   options: ReaderOptions) -> Document:
    """One fetched page (WARC or ARC response) to a Document with its timestamp evidence."""
    content_type = http_headers.get("content-type")
    provenance: dict[str, Any] = dict(url=url, warc_record_id=record_id, content_type=content_type)
    if status is not None and status != 200:
        provenance.update(_date_evidence(warc_date=capture_raw, http_headers=http_headers, url=url))
        return _rejected(source_uri, source_format, index, offset, "non_200_status", f"HTTP status {status}", **provenance)
    extracted = extract_text(payload, content_type)
    provenance.update(_date_evidence(warc_date=capture_raw, http_headers=http_headers, url=url, html=extracted.html,
                                     html_mode=options.html_dates))
    if extracted.reject_reason:
        return _rejected(source_uri, source_format, index, offset, extracted.reject_reason,
                         extracted.reject_detail, **provenance)
    return new_document(source_uri=source_uri, source_format=source_format, source_index=index,
                        source_offset=offset, text=extracted.text, **provenance)


def _date_evidence(**sources: Any) -> dict[str, Any]:
    """Timestamp evidence of one record; values refused as evidence are counted, not fatal."""
    with _EVIDENCE_CLOCK:
        dropped: list[timestamps.Dropped] = []
        evidence = timestamps.gather_evidence(dropped=dropped, **sources)
        timestamps.count_dropped(dropped)
    return evidence


_EVIDENCE_CLOCK = StageClock("date_evidence")


def read_warc(path: str, source_format: str, options: ReaderOptions) -> Iterator[Document]:
    """Response records (WARC) or conversion records (WET); fastwarc detects gzip/zstd/lz4 itself.

    The last document is held back until the end of the file is checked: if
    the compressed stream breaks inside it, that record *is* the break and is
    reported once, as ``truncated_file``.
    """
    wanted = WarcRecordType.response | WarcRecordType.conversion
    index = -1
    last_offset = 0
    held: Optional[Document] = None
    skipped = Metrics.counter("read", "skipped_records")
    with _open_raw(path) as raw:
        records = iter(ArchiveIterator(raw, record_types=WarcRecordType.any_type, parse_http=True,
                                       auto_decode="all"))
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as err:  # noqa: BLE001 - any parse error ends this file, reported below
                if held is not None:
                    yield held
                yield _rejected(path, source_format, index + 1, last_offset, "truncated_file",
                                f"{path}: unreadable after byte offset {last_offset} (record {index + 1}): {err}")
                return
            index += 1
            last_offset = record.stream_pos
            if not record.record_type & wanted:
                skipped.inc()
                continue
            if held is not None:
                yield held
            held = _warc_record_document(path, source_format, index, last_offset, record, options)
    problem = compressed_tail_problem(path, last_offset)
    if held is not None and problem and held.source_offset == last_offset and held.reject_reason:
        yield held._replace(reject_reason="truncated_file", reject_detail=problem)
        return
    if held is not None:
        yield held
    if problem:
        yield _rejected(path, source_format, index + 1, last_offset, "truncated_file", problem)


def compressed_tail_problem(path: str, last_offset: int) -> Optional[str]:
    """Why the compressed stream after the last record read is broken, or None.

    fastwarc ends iteration quietly at a gzip/zstd member that is cut short, so
    the records after the break would vanish unreported. Decompressing from the
    last record's offset to the end of the file is cheap (one record) and
    tells a complete file from a truncated one.
    """
    with _open_raw(path) as raw:
        raw.seek(last_offset)
        tail = raw.read(_MAX_TAIL_CHECK)
    compression = compression_of(tail[:8])
    try:
        if compression == "gzip":
            while tail:
                member = zlib.decompressobj(wbits=31)
                member.decompress(tail, 1 << 30)
                if not member.eof:
                    return f"{path}: gzip stream cut short after byte offset {last_offset} (truncated file)"
                tail = member.unused_data
        elif compression == "zstd":
            while tail:
                frame = zstandard.ZstdDecompressor().decompressobj()
                frame.decompress(tail)
                if not frame.eof:
                    return f"{path}: zstd frame cut short after byte offset {last_offset} (truncated file)"
                tail = frame.unused_data
    except (zlib.error, zstandard.ZstdError) as err:
        return f"{path}: corrupt {compression} data after byte offset {last_offset}: {err}"
    return None


_MAX_TAIL_CHECK = 256 * 1024 * 1024
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _warc_record_document(path: str, source_format: str, index: int, offset: int, record,
                          options: ReaderOptions) -> Document:
    headers = record.headers
    url = _clean_uri(headers.get("WARC-Target-URI"))
    record_id = headers.get("WARC-Record-ID")
    capture_raw = headers.get("WARC-Date")
    provenance = dict(url=url, warc_record_id=record_id)
    bad_names = [name for name, _ in headers.items() if not _HEADER_NAME.match(name)]
    if bad_names:
        return _rejected(path, source_format, index, offset, "malformed_header",
                         f"{path}@{offset}: WARC header line(s) {bad_names!r} are not 'Name: value'", **provenance)
    try:
        if record.content_length > options.max_doc_bytes:
            return _rejected(path, source_format, index, offset, "too_large",
                             f"{record.content_length} bytes > max {options.max_doc_bytes}",
                             **_date_evidence(warc_date=capture_raw, url=url), **provenance)
        if record.record_type == WarcRecordType.conversion:
            payload = record.reader.read()
            _check_complete(payload, record.content_length, path, offset)
            return _http_document(source_uri=path, source_format=source_format, index=index, offset=offset,
                                  url=url, record_id=record_id, capture_raw=capture_raw, status=None,
                                  http_headers={"content-type": headers.get("Content-Type") or "text/plain"},
                                  payload=payload, options=options)
        if record.http_headers is None:
            return _rejected(path, source_format, index, offset, "unreadable_record",
                             f"{path}@{offset}: response record without a parseable HTTP header",
                             **_date_evidence(warc_date=capture_raw, url=url), **provenance)
        http = record.http_headers
        payload = record.reader.read()
        if not (http.get("Transfer-Encoding") or http.get("Content-Encoding")):  # decoded lengths differ
            _check_complete(payload, record.content_length, path, offset)
        return _http_document(source_uri=path, source_format=source_format, index=index, offset=offset,
                              url=url, record_id=record_id, capture_raw=capture_raw, status=http.status_code,
                              http_headers={k.lower(): v for k, v in http.items()}, payload=payload,
                              options=options)
    except _TruncatedRecord as err:
        return _rejected(path, source_format, index, offset, "truncated_record", str(err), **provenance)
    except Exception as err:  # noqa: BLE001 - one bad record must not end the run
        return _rejected(path, source_format, index, offset, "unreadable_record", f"{path}@{offset}: {err!r}", **provenance)


class _TruncatedRecord(Exception):
    pass


def _check_complete(payload: bytes, expected: int, path: str, offset: int) -> None:
    if len(payload) < expected:
        raise _TruncatedRecord(f"{path}@{offset}: record cut short ({len(payload)} of {expected} bytes): truncated file")


def read_arc(path: str, options: ReaderOptions) -> Iterator[Document]:
    """ARC (the Internet Archive's pre-WARC format), through warcio, which fastwarc does not read."""
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    index = -1
    offset: Optional[int] = 0
    with _open_raw(path) as raw:
        records = WarcioIterator(raw, arc2warc=True)
        iterator = iter(records)
        while True:
            try:
                record = next(iterator)
                index += 1
                if record.rec_type != "response":
                    Metrics.counter("read", "skipped_records").inc()
                    continue
                url = _clean_uri(record.rec_headers.get_header("WARC-Target-URI"))
                length = int(record.rec_headers.get_header("Content-Length") or 0)
                if length > options.max_doc_bytes:
                    yield _rejected(path, "arc", index, records.get_record_offset(), "too_large",
                                    f"{length} bytes > max {options.max_doc_bytes}", url=url)
                    continue
                payload = record.content_stream().read()
                offset = records.get_record_offset()  # only valid once the record is read
                http = record.http_headers
                status = http.get_statuscode() if http else None
                yield _http_document(
                    source_uri=path, source_format="arc", index=index, offset=offset, url=url,
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                    capture_raw=record.rec_headers.get_header("WARC-Date"),
                    status=int(status) if status and status.isdigit() else None,
                    http_headers={k.lower(): v for k, v in (http.headers if http else [])},
                    payload=payload, options=options)
            except StopIteration:
                return
            except Exception as err:  # noqa: BLE001
                yield _rejected(path, "arc", index + 1, offset, "truncated_file",
                                f"{path}: unreadable after byte offset {offset} (record {index + 1}): {err}")
                return


def _field(obj: dict, dotted: str) -> Any:
    value: Any = obj
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def json_document(obj: Any, *, source_uri: str, source_format: str, index: int, offset: Optional[int],
                  options: ReaderOptions) -> Document:
    """A Dolma (``{id,text,source,added,created,metadata}``), C4 (``{text,url,timestamp}``) or plain record."""
    if not isinstance(obj, dict):
        return _rejected(source_uri, source_format, index, offset, "unreadable_record",
                         f"{source_uri}@{offset}: record is a JSON {type(obj).__name__}, not an object")
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    url = obj.get("url") or metadata.get("url") or metadata.get("warc_url")
    url = url if isinstance(url, str) else None
    provenance = dict(url=url, warc_record_id=metadata.get("warc_record_id") or obj.get("warc_record_id"),
                      content_type=metadata.get("content_type"), **_date_evidence(json_record=obj, url=url))
    text = _field(obj, options.text_field)
    if text is None:
        return _rejected(source_uri, source_format, index, offset, "missing_text_field",
                         f"no '{options.text_field}' field", **provenance)
    if not isinstance(text, str):
        return _rejected(source_uri, source_format, index, offset, "missing_text_field",
                         f"'{options.text_field}' is a {type(text).__name__}, not a string", **provenance)
    if len(text) > options.max_doc_bytes:
        return _rejected(source_uri, source_format, index, offset, "too_large",
                         f"{len(text)} characters > max {options.max_doc_bytes}", **provenance)
    if not text.strip():
        return _rejected(source_uri, source_format, index, offset, "empty_text", None, **provenance)
    return new_document(source_uri=source_uri, source_format=source_format, source_index=index,
                        source_offset=offset, text=text, **provenance)


def read_jsonl(path: str, options: ReaderOptions) -> Iterator[Document]:
    offset = 0
    index = -1
    stream, _ = open_decompressed(path)
    with stream:
        while True:
            try:
                line = stream.readline(options.max_doc_bytes + 1)
                line_offset, too_long = offset, len(line) > options.max_doc_bytes
                offset += len(line)
                if too_long and not line.endswith(b"\n"):
                    offset += _skip_rest_of_line(stream)
            except Exception as err:  # noqa: BLE001 - truncated/corrupt compressed stream
                yield _rejected(path, "jsonl", index + 1, offset, "truncated_file",
                                f"{path}: unreadable after decompressed byte offset {offset} (line {index + 1}): {err}")
                return
            if not line:
                return
            if not line.strip():
                continue
            index += 1
            if too_long:
                yield _rejected(path, "jsonl", index, line_offset, "too_large",
                                f"line longer than {options.max_doc_bytes} bytes")
                continue
            try:
                obj = json.loads(line)
            except ValueError as err:
                yield _rejected(path, "jsonl", index, line_offset, "unreadable_record",
                                f"{path}@{line_offset}: invalid JSON: {err}")
                continue
            yield json_document(obj, source_uri=path, source_format="jsonl", index=index, offset=line_offset,
                                options=options)


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    """Consume the rest of an over-long line without holding it; return how many bytes that was."""
    skipped = 0
    while True:
        chunk = stream.readline(1 << 20)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def read_parquet(path: str, options: ReaderOptions) -> Iterator[Document]:
    with _open_raw(path) as raw:
        parquet = pq.ParquetFile(raw)
        columns = parquet.schema_arrow.names
        index = -1
        if options.text_field not in columns:
            for index in range(parquet.metadata.num_rows):
                yield _rejected(path, "parquet", index, None, "missing_text_field",
                                f"no '{options.text_field}' column (columns: {', '.join(columns)})")
            return
        try:
            for batch in parquet.iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    index += 1
                    yield json_document(row, source_uri=path, source_format="parquet", index=index, offset=None,
                                        options=options)
        except Exception as err:  # noqa: BLE001
            yield _rejected(path, "parquet", index + 1, None, "truncated_file",
                            f"{path}: unreadable after row {index}: {err}")


def read_file(path: str, options: ReaderOptions = ReaderOptions()) -> Iterator[Document]:
    """Every Document of one file, in file order; never raises."""
    started = time.monotonic()
    count = 0
    try:
        fmt = detect_format(path)
        if fmt in ("warc", "wet"):
            records = read_warc(path, fmt, options)
        elif fmt == "arc":
            records = read_arc(path, options)
        elif fmt == "jsonl":
            records = read_jsonl(path, options)
        else:
            records = read_parquet(path, options)
        for doc in records:
            count += 1
            yield doc
    except Exception as err:  # noqa: BLE001 - a file we cannot open is reported, not fatal
        LOG.warning("cannot read %s: %s", path, err)
        yield _rejected(path, format_from_name(path) or "unknown", count, None, "unreadable_file",
                        f"{path}: {type(err).__name__}: {err}")
        return
    LOG.info("read %s: %d documents in %.1fs", path, count, time.monotonic() - started)


def read_record(source_uri: str, source_format: str, source_offset: Optional[int], source_index: int,
                options: ReaderOptions = ReaderOptions()) -> Optional[Document]:
    """Re-read the one record a Document came from (for audits), or None if it is not there.

    WARC/WET records are read by seeking to ``source_offset``; other formats
    are scanned to ``source_index``.
    """
    if source_format in ("warc", "wet") and source_offset is not None:
        with _open_raw(source_uri) as raw:
            raw.seek(source_offset)
            for record in ArchiveIterator(raw, record_types=WarcRecordType.any_type, parse_http=True,
                                          auto_decode="all"):
                return _warc_record_document(source_uri, source_format, source_index, source_offset, record, options)
        return None
    for doc in read_file(source_uri, options):
        if doc.source_index == source_index:
            return doc
    return None


# --- Beam -------------------------------------------------------------------


def expand_inputs(patterns: list[str]) -> list[str]:
    """Check every glob matches something, before the run starts.

    Raises ``FileNotFoundError`` naming the patterns that match nothing.
    """
    empty = []
    for pattern in patterns:
        result = FileSystems.match([pattern])[0]
        if not result.metadata_list:
            empty.append(pattern)
    if empty:
        raise FileNotFoundError("no input files match: " + ", ".join(repr(p) for p in empty))
    return patterns


class _ReadFileFn(beam.DoFn):
    def __init__(self, options: ReaderOptions):
        self._options = options
        self._records = Metrics.counter("read", "records")
        self._files = Metrics.counter("read", "files")
        self._clock = StageClock("read")

    def setup(self) -> None:
        if self._options.html_dates == "htmldate":  # its free-text scan reaches dateparser: pay that cost here
            timestamps.warm_up()

    def process(self, path: str) -> Iterator[Document]:
        self._files.inc()
        for doc in self._clock.iterate(read_file(path, self._options)):
            self._records.inc()
            if doc.reject_reason:
                Metrics.counter("read", f"rejected_{doc.reject_reason}").inc()
            yield doc


class ReadDocuments(beam.PTransform):
    """File globs -> Documents, one file per element so files spread over workers."""

    def __init__(self, patterns: list[str], options: ReaderOptions = ReaderOptions()):
        super().__init__()
        self._patterns = list(patterns)
        self._options = options

    def expand(self, pbegin):
        return (
            pbegin
            | "Patterns" >> beam.Create(self._patterns)
            | "Match" >> fileio.MatchAll()
            | "Paths" >> beam.Map(lambda metadata: metadata.path)
            | "Dedupe paths" >> beam.Distinct()
            | "Spread files" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadFileFn(self._options))
        )
