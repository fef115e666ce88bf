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

Every WARC record that holds a page is a document: ``response`` records
(with an HTTP message, or, as in Wayback exports, the body itself described by
the WARC header), ``conversion`` records (WET) and ``resource`` records of an
HTML or text media type. The others (``request``, ``metadata``, ``warcinfo``,
non-text or crawler-metadata ``resource``, and ``revisit``, whose payload is
stored in another record) are no input documents: they are counted per file
and type in the reader's tally, which goes to the manifest. ARC files are read
by :mod:`read_arc`; capture time and the original URL of replayed captures come
from :mod:`capture_time`.

``source_offset`` is the byte offset of the record in the file as stored
(compressed) for WARC/WET/ARC (``None`` for ARC records inside a whole-file
gzip member after its first), and the byte offset of the line in the
decompressed stream for JSONL; ``None`` for Parquet, whose rows are located by
``source_index`` (the row number).
"""

from __future__ import annotations

import collections
import json
import logging
import re
import time
from typing import IO, Any, Iterator, NamedTuple, Optional

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics
from fastwarc.warc import ArchiveIterator, WarcRecordType

from provsieve.transforms import capture_time, date_evidence, date_evidence_htmldate, dates, read_arc as arc
from provsieve.transforms.document import Document, make_doc_id, new_document
from provsieve.transforms.extract import extract_text
from provsieve.transforms.header_lookup import HeaderLookup
from provsieve.transforms.match_inputs import MatchInputs
from provsieve.transforms.read_streams import compressed_tail_problem, open_decompressed, open_raw
from provsieve.transforms.timing import StageClock

LOG = logging.getLogger("provsieve")

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
                   url: Optional[str], record_id: Optional[str], capture: dict[str, Any],
                   status: Optional[int], http_headers: dict[str, str], payload: bytes,
                   options: ReaderOptions) -> Document:
    """One fetched page (WARC or ARC response) to a Document with its timestamp evidence.

    ``capture`` holds the capture evidence of the record (``warc_date``,
    ``memento_datetime``, ``capture_uri``, ``arc_date``; see capture_time).
    """
    content_type = http_headers.get("content-type")
    provenance: dict[str, Any] = dict(url=url, warc_record_id=record_id, content_type=content_type,
                                      capture_uri=capture.get("capture_uri"))
    if status is not None and status != 200:
        provenance.update(_date_evidence(http_headers=http_headers, url=url, **capture))
        return _rejected(source_uri, source_format, index, offset, "non_200_status", f"HTTP status {status}", **provenance)
    extracted = extract_text(payload, content_type)
    provenance.update(_date_evidence(http_headers=http_headers, url=url, html=extracted.html,
                                     html_tree=extracted.tree, html_mode=options.html_dates, **capture))
    if extracted.reject_reason:
        return _rejected(source_uri, source_format, index, offset, extracted.reject_reason,
                         extracted.reject_detail, **provenance)
    return new_document(source_uri=source_uri, source_format=source_format, source_index=index,
                        source_offset=offset, text=extracted.text, **provenance)


def _date_evidence(**sources: Any) -> dict[str, Any]:
    """Timestamp evidence of one record; values refused as evidence are counted, not fatal."""
    with _EVIDENCE_CLOCK:
        dropped: list[dates.Dropped] = []
        evidence = date_evidence.gather_evidence(dropped=dropped, **sources)
        dates.count_dropped(dropped)
    return evidence


_EVIDENCE_CLOCK = StageClock("date_evidence")


def read_warc(path: str, source_format: str, options: ReaderOptions,
              tally: Optional[collections.Counter] = None) -> Iterator[Document]:
    """Page records (WARC) or conversion records (WET); fastwarc detects gzip/zstd/lz4 itself.

    Records that hold no page are counted per type in ``tally`` (``revisit``
    among them: its payload is stored elsewhere). The last document is held
    back until the end of the file is checked: if the compressed stream breaks
    inside it, that record *is* the break and is reported once, as
    ``truncated_file``.
    """
    index = -1
    last_offset = 0
    held: Optional[Document] = None
    tally = collections.Counter() if tally is None else tally
    with open_raw(path) as raw:
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
            kind = warc_record_kind(record)
            if kind is not None:
                tally[kind] += 1
                Metrics.counter("read", f"skipped_records.{kind}").inc()
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


_PAGE_TYPES = WarcRecordType.response | WarcRecordType.conversion
_TEXT_MEDIA = re.compile(r"^\s*(text/|application/(xhtml\+xml|xml)\b)", re.IGNORECASE)
_CRAWLER_SCHEMES = ("metadata:", "dns:", "filedesc:", "<metadata:", "<dns:")


def warc_record_kind(record) -> Optional[str]:
    """None for a record that holds a page; else the type it is counted under as skipped.

    Pages: ``response`` and ``conversion`` records, and ``resource`` records of
    an HTML or text media type that are not crawler metadata (wget stores its
    log as ``metadata://`` resources). ``revisit`` records are counted apart.
    """
    if record.record_type & _PAGE_TYPES:
        return None
    warc_type = (record.headers.get("WARC-Type") or "unknown").strip().lower()
    if record.record_type == WarcRecordType.resource:
        target = (record.headers.get("WARC-Target-URI") or "").strip().lower()
        if _TEXT_MEDIA.match(record.headers.get("Content-Type") or "") and not target.startswith(_CRAWLER_SCHEMES):
            return None
    return warc_type


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _warc_capture(headers, http_headers=None) -> tuple[Optional[str], dict[str, Any]]:
    """(the page's URL, its capture evidence) from a WARC header (and the HTTP header of a response).

    A Wayback-style replay ``WARC-Target-URI`` gives the original URL; the
    replay URI is kept as ``capture_uri``.
    """
    target = _clean_uri(headers.get("WARC-Target-URI"))
    replay = capture_time.parse_replay_uri(target)
    memento = headers.get("Memento-Datetime")
    if memento is None and http_headers is not None:
        memento = http_headers.get("Memento-Datetime")
    capture = dict(warc_date=headers.get("WARC-Date"), memento_datetime=memento,
                   capture_uri=replay.capture_uri if replay else None)
    return (replay.original_url if replay else target), capture


def _warc_record_document(path: str, source_format: str, index: int, offset: int, record,
                          options: ReaderOptions) -> Document:
    headers = HeaderLookup(record.headers)  # HeaderMap.get decodes the whole header per call
    http = record.http_headers
    http_lookup = HeaderLookup(http) if http is not None else None
    url, capture = _warc_capture(headers, http_lookup)
    record_id = headers.get("WARC-Record-ID")
    provenance = dict(url=url, warc_record_id=record_id, capture_uri=capture["capture_uri"])
    bad_names = [name for name, _ in headers.items if not _HEADER_NAME.match(name)]
    if bad_names:
        return _rejected(path, source_format, index, offset, "malformed_header",
                         f"{path}@{offset}: WARC header line(s) {bad_names!r} are not 'Name: value'", **provenance)
    try:
        if record.content_length > options.max_doc_bytes:
            return _rejected(path, source_format, index, offset, "too_large",
                             f"{record.content_length} bytes > max {options.max_doc_bytes}",
                             **_date_evidence(url=url, **capture), **provenance)
        block_type = headers.get("Content-Type") or ""
        not_http = (record.record_type == WarcRecordType.response and block_type.lower().startswith("application/http")
                    and (http is None or not (http.status_line or "").startswith("HTTP/")))
        if http is None or not_http:
            # a conversion or resource record, or a response whose block is the body itself (Wayback exports
            # merge the capture's HTTP headers into the WARC header): the WARC header describes the body
            if not_http:  # declared an HTTP message but holds none: fastwarc took the body for headers
                payload, block_type = _record_block(path, offset), ""
            else:
                payload = record.reader.read()
            _check_complete(payload, record.content_length, path, offset)
            merged = capture_time.origin_http_headers(dict(headers.items))
            if not_http:  # application/http says nothing about the body: the origin's type, or sniffing
                merged.pop("content-type", None)
                if headers.get("X-Archive-Orig-Content-Type"):
                    merged["content-type"] = headers.get("X-Archive-Orig-Content-Type")
            status = None
            if not block_type and record.record_type == WarcRecordType.conversion:
                merged["content-type"] = "text/plain"
            elif record.record_type == WarcRecordType.response and payload.startswith(b"HTTP/1."):
                status, http_headers, payload = arc.http_parts(payload, block_type)  # mislabelled HTTP block
                merged.update(capture_time.origin_http_headers(http_headers))
            return _http_document(source_uri=path, source_format=source_format, index=index, offset=offset,
                                  url=url, record_id=record_id, capture=capture, status=status,
                                  http_headers=merged, payload=payload, options=options)
        payload = record.reader.read()
        if not (http_lookup.get("Transfer-Encoding") or http_lookup.get("Content-Encoding")):  # decoded lengths differ
            _check_complete(payload, record.content_length, path, offset)
        return _http_document(source_uri=path, source_format=source_format, index=index, offset=offset,
                              url=url, record_id=record_id, capture=capture, status=http.status_code,
                              http_headers=capture_time.origin_http_headers(dict(http_lookup.items)), payload=payload,
                              options=options)
    except _TruncatedRecord as err:
        return _rejected(path, source_format, index, offset, "truncated_record", str(err), **provenance)
    except Exception as err:  # noqa: BLE001 - one bad record must not end the run
        return _rejected(path, source_format, index, offset, "unreadable_record", f"{path}@{offset}: {err!r}", **provenance)


def _record_block(path: str, offset: int) -> bytes:
    """The block of the WARC record at ``offset``, read again without HTTP parsing."""
    with open_raw(path) as raw:
        raw.seek(offset)
        for record in ArchiveIterator(raw, record_types=WarcRecordType.any_type, parse_http=False):
            return record.reader.read()
    return b""


class _TruncatedRecord(Exception):
    pass


def _check_complete(payload: bytes, expected: int, path: str, offset: int) -> None:
    if len(payload) < expected:
        raise _TruncatedRecord(f"{path}@{offset}: record cut short ({len(payload)} of {expected} bytes): truncated file")


def read_arc(path: str, options: ReaderOptions, tally: Optional[collections.Counter] = None,
             start: int = 0) -> Iterator[Document]:
    """ARC v1/v2 (plain, gzip per record or whole-file gzip) through the tolerant reader of ``read_arc``."""
    tally = collections.Counter() if tally is None else tally
    index, offset = 0, start
    with open_raw(path) as raw:
        raw.seek(start)
        for item in arc.iter_arc(raw, start, max_block=options.max_doc_bytes):
            if isinstance(item, str):
                yield _rejected(path, "arc", index, offset, "truncated_file", f"{path}: {item}")
                return
            index, offset = item.index + 1, item.offset if item.offset is not None else offset
            if isinstance(item, arc.ArcGap):
                tally[arc.RESYNCED] += 1
                yield _rejected(path, "arc", item.index, item.offset, "unreadable_record", f"{path}: {item.detail}")
                continue
            yield from _arc_record_documents(path, item, options, tally)


def _arc_record_documents(path: str, record: "arc.ArcRecord", options: ReaderOptions,
                          tally: collections.Counter) -> Iterator[Document]:
    """The Document of one ARC record (none for ``filedesc``/``dns`` records, which are counted)."""
    header = record.header
    kind = arc.record_kind(header)
    if kind is not None:
        tally[kind] += 1
        Metrics.counter("read", f"skipped_records.{kind}").inc()
        return
    where = f"{path}@{record.offset}" if record.offset is not None else f"{path} record {record.index}"
    replay = capture_time.parse_replay_uri(header.url)  # an ARC written from a replay of another archive
    url = replay.original_url if replay else header.url
    capture = dict(capture_uri=replay.capture_uri if replay else None, arc_date=header.date)
    if record.problem:
        tally[arc.RESYNCED] += 1

    def rejected(reason: str, detail: str) -> Document:
        return _rejected(path, "arc", record.index, record.offset, reason, detail, url=url,
                         capture_uri=capture["capture_uri"], **_date_evidence(url=url, **capture))

    if record.truncated:
        yield rejected("truncated_file", f"{where}: {record.problem} (truncated file)")
        return
    if record.size > options.max_doc_bytes:
        yield rejected("too_large", f"{record.size} bytes > max {options.max_doc_bytes}")
        return
    try:
        status, http_headers, payload = arc.http_parts(record.block, header.content_type)
    except Exception as err:  # noqa: BLE001 - one bad record must not end the file
        yield rejected("unreadable_record", f"{where}: unparseable HTTP header: {err!r}"
                       + (f"; {record.problem}" if record.problem else ""))
        return
    doc = _http_document(source_uri=path, source_format="arc", index=record.index, offset=record.offset,
                         url=url, record_id=None, capture=capture, status=status,
                         http_headers=capture_time.origin_http_headers(http_headers), payload=payload,
                         options=options)
    if record.problem and doc.reject_reason:
        doc = doc._replace(reject_detail=f"{doc.reject_detail or doc.reject_reason}; {where}: {record.problem}")
    yield doc


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
    with open_raw(path) as raw:
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


def read_file(path: str, options: ReaderOptions = ReaderOptions(),
              tally: Optional[collections.Counter] = None) -> Iterator[Document]:
    """Every Document of one file, in file order; never raises.

    Records that are not documents (WARC ``request``/``metadata``/``revisit``...,
    ARC ``filedesc``/``dns``) are counted per type in ``tally``, and so are ARC
    records read after re-synchronising (``arc.RESYNCED``).
    """
    started = time.monotonic()
    count = 0
    try:
        fmt = detect_format(path)
        if fmt in ("warc", "wet"):
            records = read_warc(path, fmt, options, tally)
        elif fmt == "arc":
            records = read_arc(path, options, tally)
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

    WARC/WET and ARC records are read by seeking to ``source_offset``; other
    formats (and ARC records without an offset) are scanned to ``source_index``.
    """
    if source_format in ("warc", "wet") and source_offset is not None:
        with open_raw(source_uri) as raw:
            raw.seek(source_offset)
            for record in ArchiveIterator(raw, record_types=WarcRecordType.any_type, parse_http=True,
                                          auto_decode="all"):
                return _warc_record_document(source_uri, source_format, source_index, source_offset, record, options)
        return None
    if source_format == "arc" and source_offset is not None:
        for doc in read_arc(source_uri, options, start=source_offset):
            return doc._replace(doc_id=make_doc_id(source_uri, source_index), source_index=source_index)
        return None
    for doc in read_file(source_uri, options):
        if doc.source_index == source_index:
            return doc
    return None


# --- Beam -------------------------------------------------------------------


class _ReadFileFn(beam.DoFn):
    """Path -> its Documents; the file's tally (skipped records per type...) on the ``tally`` output."""

    def __init__(self, options: ReaderOptions):
        self._options = options
        self._records = Metrics.counter("read", "records")
        self._files = Metrics.counter("read", "files")
        self._clock = StageClock("read")

    def setup(self) -> None:
        if self._options.html_dates != "structured":  # htmldate's free-text scan reaches dateparser: pay that here
            date_evidence_htmldate.warm_up()

    def process(self, path: str) -> Iterator[Any]:
        self._files.inc()
        tally: collections.Counter = collections.Counter()
        for doc in self._clock.iterate(read_file(path, self._options, tally)):
            self._records.inc()
            if doc.reject_reason:
                Metrics.counter("read", f"rejected_{doc.reject_reason}").inc()
            yield doc
        for kind, count in sorted(tally.items()):
            yield beam.pvalue.TaggedOutput(TALLY, (("skipped", path, kind), count))


TALLY = "tally"
"""The reader's second output: ``(("skipped", file, record type), count)`` facts for the manifest."""


class ReadDocuments(beam.PTransform):
    """File globs -> Documents, one file per element so files spread over workers.

    With ``with_tally`` the result is ``(documents, tally facts)``.
    """

    def __init__(self, patterns: list[str], options: ReaderOptions = ReaderOptions(), with_tally: bool = False):
        super().__init__()
        self._patterns = list(patterns)
        self._options = options
        self._with_tally = with_tally

    def expand(self, pbegin):
        read = (
            pbegin
            | "Patterns" >> beam.Create(self._patterns)
            | "Match" >> MatchInputs()
            | "Spread files" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadFileFn(self._options)).with_outputs(TALLY, main="documents")
        )
        return (read.documents, read[TALLY]) if self._with_tally else read.documents
