"""Timestamp provenance: when was each document written, and can we prove it
was before the cutoff?

Text that provably existed before large language models were public cannot
have been written by one. A crawl carries that proof -- the capture time -- and
a number of weaker *claims* (the page's own dates). This module keeps each piece
of evidence in its own column and decides, per document, which tier it falls in:

``captured``
    ``crawl_date < cutoff``. The archive itself saw the bytes before the
    cutoff: proof, whatever the page claims.
``claimed``
    Not captured before the cutoff, but the page's own dates say it was written
    before, with a strong source or corroboration, and nothing on the page
    contradicts it (see :func:`assign_created` for the exact rule). A claim,
    which spam can fake; only trusted as human with ``--trust claimed``.
``none``
    Everything else.

Two halves, because the HTML is not kept in the :class:`Document`:

* **read time** (called by the readers, pure functions): :func:`parse_date`,
  :func:`capture_date`, :func:`capture_date_from_json`,
  :func:`http_date_evidence`, :func:`html_date_evidence`,
  :func:`url_date_evidence`, :func:`json_date_evidence`, or all of them at once
  through :func:`gather_evidence`.
* **tag time** (in the pipeline): :func:`assign_created`, wrapped by the Beam
  transform :class:`TagTimestamps`, and the policy :func:`is_trusted_human`.

Column semantics (all ISO-8601 UTC strings ``YYYY-MM-DDTHH:MM:SSZ``):

``crawl_date``
    Capture time: WARC-Date / ARC date / Memento-Datetime / C4 ``timestamp`` /
    Dolma ``metadata.warc_date`` (then ``added``, an upper bound).
``http_date``
    The server's ``Date`` header (its clock at response time). Only used as a
    clock check: if it disagrees with the capture by more than a day the
    server's clock is wrong and its ``Last-Modified`` is dropped too.
``http_last_modified``
    The ``Last-Modified`` header: an *upper bound* on when the served bytes last
    changed (for static files). Values within a day of the fetch are what
    dynamic pages send and carry no information (see ``_FRESH``).
``published_date``
    The page's original publication date, exactly as htmldate
    (``original_date=True``) finds it, URL date first, bounded by the capture.
    Day precision: the page's *local* calendar day at ``00:00:00Z`` (converting
    ``23:30-05:00`` to UTC would move it to the wrong day).
``modified_date``
    The page's *latest* date, from its markup and text only: the later of
    htmldate ``original_date=False`` run without the URL (so a date in the URL
    cannot mask an update on the page) and the latest ISO date anywhere in the
    HTML (:func:`latest_page_date`), bounded by the capture. Day precision. A
    page showing any date after the cutoff cannot be ``claimed``.
``url_date``
    A complete ``Y/M/D`` date in the URL path. Day precision.
``created``
    Before :func:`assign_created`: a date field of JSONL/Parquet input, with
    ``created_source == "input"``. After: best estimate of when the text was
    written, ``created_source`` naming which evidence it came from.

Every read-time function takes an optional ``dropped`` list and appends a
:class:`Dropped` ``(field, value, reason)`` for every value it refused (malformed,
pre-1995, after the capture, clock skew). The reader passes the list to
:func:`count_dropped` to bump the ``timestamps/bad_value`` counters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, NamedTuple, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from provsieve.transforms import capture_time
from provsieve.transforms.document import Document
from provsieve.transforms.timing import StageClock

LOGGER = logging.getLogger(__name__)

UTC = timezone.utc
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_CUTOFF = "2022-11-30"
MIN_DATE = datetime(1995, 1, 1, tzinfo=UTC)
"""Nothing before the web went mainstream is credible as a page date."""
_FUTURE_SLACK = timedelta(days=1)
"""A value up to a day after its reference is kept: naive local times (read as
UTC) and day-precision dates can legitimately land a few hours "late"."""
_FRESH = timedelta(days=1)
"""A Last-Modified within this of the fetch is a dynamic page's render time."""
_CLOCK_SKEW = timedelta(days=1)
"""HTTP Date this far from the capture: the server's clock is wrong."""
_MAX_LEN = 80

TIERS = ("captured", "claimed", "none")
TRUST_POLICIES = ("captured", "claimed", "none")
NAMESPACE = "timestamps"


class Dropped(NamedTuple):
    """One value refused as evidence, for the ``timestamps/bad_value`` counter."""

    field: str
    value: str
    reason: str
    """``malformed``, ``null``, ``before_1995``, ``future``, ``clock_skew``, ``error``."""


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------

_NULLS = frozenset({"", "null", "none", "nil", "nan", "nat", "-", "0", "n/a", "na",
                    "unknown", "undefined", "0000-00-00", "0000-00-00t00:00:00z",
                    "0000-00-00 00:00:00"})
_ISO_LIKE = re.compile(r"^\d{4}-\d")
_ISO_LOOSE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.I,
)
_DIGITS = re.compile(r"^\d+$")
_FOUR_DIGIT_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b", re.I)
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


def to_iso(dt: datetime) -> str:
    """Canonical form: aware datetimes converted to UTC, naive ones read as UTC."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime(ISO_FORMAT)


@lru_cache(maxsize=1 << 14)
def _from_iso(value: str) -> datetime:
    """Read back a canonical string (or any ISO string) as an aware datetime.

    Cached: the reader and the tier rule read the same few strings of a record
    (its capture, its HTTP date) back again and again.
    """
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _reference(now: object) -> datetime:
    """The instant after which a date is "in the future" (wall clock if None)."""
    if isinstance(now, datetime):
        return now if now.tzinfo else now.replace(tzinfo=UTC)
    if isinstance(now, str):
        try:
            return _from_iso(now)
        except ValueError:
            pass
    return datetime.now(UTC)


def _pivot_two_digit_year(dt: datetime, ref: datetime) -> datetime:
    """A two-digit year means the latest century that is not after ``ref``.

    ``'94`` seen in 2009 is 1994 (dropped later as pre-1995), ``'08`` is 2008,
    ``'37`` in a 2024 cookie expiry is 1937 rather than 2037 -- either way a
    value that cannot be a page date, and the range check drops it.
    """
    yy = dt.year % 100
    year = ref.year - ref.year % 100 + yy
    if year > ref.year:
        year -= 100
    try:
        return dt.replace(year=year)
    except ValueError:  # 29 February
        return dt.replace(year=year, day=28)


def _parse_str(s: str, ref: datetime) -> tuple[Optional[datetime], str]:
    s = s.strip().strip("\"'<>").strip()
    if s.lower() in _NULLS:
        return None, "null"
    if len(s) > _MAX_LEN:
        return None, "malformed"
    if _DIGITS.match(s):
        fmt = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}.get(len(s))
        if fmt is not None:  # ARC / Wayback 14-digit timestamps, compact days
            try:
                return datetime.strptime(s, fmt).replace(tzinfo=UTC), ""
            except ValueError:
                return None, "malformed"
        if len(s) in (9, 10, 13):  # Unix epoch in seconds or milliseconds
            return _parse_number(int(s))
        return None, "malformed"
    if _ISO_LIKE.match(s):
        # ISO-shaped: parse it strictly or not at all. A lenient parser would
        # "repair" ClueWeb's 2008-10-294 into some day it is not.
        try:
            return datetime.fromisoformat(s.replace("z", "Z")), ""
        except ValueError:
            pass
        m = _ISO_LOOSE.match(s)
        if m is None:
            return None, "malformed"
        y, mo, d, hh, mi, ss, tz = m.groups()
        try:
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
        except ValueError:
            return None, "malformed"
        if tz and tz.upper() not in ("Z", "UTC", "GMT"):
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            if offset > timedelta(hours=14):
                return None, "malformed"
            dt = dt.replace(tzinfo=timezone(sign * offset))
        else:
            dt = dt.replace(tzinfo=UTC)
        return dt, ""
    # RFC 822/850/1123 and asctime: the HTTP and email formats.
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError, OverflowError):
        dt = None
    if dt is None:
        # Anything else ("March 03, 2018", "06-Nov-94"): dateutil, but only
        # when it did not invent a day, month or year the string lacks.
        if not (_FOUR_DIGIT_YEAR.search(s) or _MONTH_NAME.search(s)):
            return None, "malformed"
        from dateutil import parser as du_parser  # htmldate's dependency

        try:
            a = du_parser.parse(s, default=_DEFAULT_A)
            b = du_parser.parse(s, default=_DEFAULT_B)
        except (ValueError, OverflowError, TypeError, du_parser.ParserError):
            return None, "malformed"
        if a.date() != b.date():
            return None, "malformed"
        dt = a
    if str(dt.year) not in s:
        dt = _pivot_two_digit_year(dt, ref)
    return dt, ""


def _parse_number(v: float) -> tuple[Optional[datetime], str]:
    if v != v or v in (float("inf"), float("-inf")):
        return None, "malformed"
    if abs(v) >= 1e11:  # milliseconds
        v = v / 1000.0
    try:
        return datetime.fromtimestamp(v, UTC), ""
    except (OverflowError, OSError, ValueError):
        return None, "malformed"


def parse_date_reason(value: object, *, now: object = None) -> tuple[Optional[str], str]:
    """:func:`parse_date`, also saying why a value was refused.

    Returns ``(iso, "")`` or ``(None, reason)`` with reason one of ``null``,
    ``malformed``, ``before_1995``, ``future``. ``now`` is the reference for
    "future" (a one-day slack is allowed) and for two-digit years; ``None``
    means the wall clock.
    """
    ref = _reference(now)
    dt: Optional[datetime]
    if isinstance(value, str) and len(value) == 20 and _CANONICAL.match(value):
        # Already canonical (every value the reader produces, re-checked by assign_created): the
        # same answer as the general path below without re-formatting it.
        try:
            dt = datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
        except ValueError:
            return None, "malformed"
        return _bounded(dt, ref, value)
    try:
        if value is None:
            return None, "null"
        if isinstance(value, bool):
            return None, "malformed"
        if isinstance(value, datetime):
            dt, reason = value, ""
        elif isinstance(value, date):
            dt, reason = datetime(value.year, value.month, value.day), ""
        elif isinstance(value, (int, float)):
            dt, reason = _parse_number(value)
        elif isinstance(value, bytes):
            dt, reason = _parse_str(value.decode("utf-8", "replace"), ref)
        elif isinstance(value, str):
            dt, reason = _parse_str(value, ref)
        else:
            return None, "malformed"
        if dt is None:
            return None, reason
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        dt = dt.astimezone(UTC)
    except Exception:  # noqa: BLE001 - hostile input must never crash a worker
        LOGGER.debug("unparseable date %r", value, exc_info=True)
        return None, "malformed"
    return _bounded(dt, ref)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _bounded(dt: datetime, ref: datetime, iso: Optional[str] = None) -> tuple[Optional[str], str]:
    if dt < MIN_DATE:
        return None, "before_1995"
    if dt > ref + _FUTURE_SLACK:
        return None, "future"
    return iso or to_iso(dt), ""


def parse_date(value: object, *, now: object = None) -> Optional[str]:
    """Any date string/number/datetime to canonical UTC ISO, or ``None``.

    ``None`` for malformed values (ClueWeb's ``2008-10-294T05:21:46-0700``, the
    literal ``null``, garbage, impossible days), dates before 1995-01-01 and
    dates more than a day after ``now`` (default: the wall clock). Naive values
    are read as UTC; offsets are converted. ISO-shaped strings are parsed
    strictly (``datetime.fromisoformat`` plus a loose Y-M-D form), HTTP dates by
    ``email.utils``, 14-digit ARC/Wayback stamps and Unix epochs explicitly,
    everything else by dateutil only if it did not have to invent part of the
    date. A two-digit year is put in the latest century not after ``now``.
    Never raises.
    """
    return parse_date_reason(value, now=now)[0]


def _check(field: str, value: object, now: object,
           dropped: Optional[list[Dropped]]) -> Optional[str]:
    """Parse one evidence value; record it in ``dropped`` if refused."""
    if value is None:
        return None
    iso, reason = parse_date_reason(value, now=now)
    if iso is None and dropped is not None:
        dropped.append(Dropped(field, str(value)[:_MAX_LEN], reason))
    return iso


def _day(iso: Optional[str]) -> Optional[str]:
    return None if iso is None else iso[:10] + "T00:00:00Z"


# ---------------------------------------------------------------------------
# capture time
# ---------------------------------------------------------------------------

def capture_date(warc_date: object, *, dropped: Optional[list[Dropped]] = None,
                 field: str = "crawl_date") -> Optional[str]:
    """Capture time from a WARC-Date / ARC date / Memento-Datetime value.

    The capture is the only *proof* this module grants, so it is parsed with no
    forgiveness: malformed (ClueWeb09's ``2008-10-294T05:21:46-0700``), ``null``
    (Wayback exports), pre-1995 or in the future (wall clock) gives ``None`` and
    a :class:`Dropped` entry -- such a record can still be ``claimed``, never
    ``captured``.
    """
    return _check(field, warc_date, None, dropped)


def _lookup(obj: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        if part in cur:
            cur = cur[part]
            continue
        low = part.lower()  # header-style keys: case-insensitive
        for k, v in cur.items():
            if isinstance(k, str) and k.lower() == low:
                cur = v
                break
        else:
            return None
    return cur


_CAPTURE_KEYS = (
    "WARC-Date",               # WARC headers exported as JSON
    "warc_date",
    "Memento-Datetime",        # Wayback / Memento
    "memento_datetime",
    "metadata.WARC-Date",
    "metadata.warc_date",      # Dolma CC (the segment's start: minutes-hours early)
    "metadata.memento_datetime",
    "timestamp",               # C4 / RefinedWeb
    "metadata.timestamp",
    "crawl_date",
    "date_download",           # news-please
    "added",                   # Dolma: when added to the corpus -- an upper bound
)


def capture_date_from_json(record: Mapping[str, Any], *,
                           dropped: Optional[list[Dropped]] = None) -> Optional[str]:
    """Capture time of a JSONL/Parquet record (Dolma, C4, Wayback exports).

    Keys are tried in order (:data:`_CAPTURE_KEYS`); the first that parses
    wins, the refused ones are reported. Dolma's ``added`` comes last: it is
    when the text entered Dolma, not when it was crawled, but the text provably
    existed then, so it is a valid (late) capture time. ``created`` is *not* a
    capture time: it is the source's claim, see :func:`json_date_evidence`.
    """
    return _first_valid(record, _CAPTURE_KEYS, "crawl_date", None, dropped)


def _first_valid(record: Mapping[str, Any], keys: Iterable[str], field: str, capture: Optional[str],
                 dropped: Optional[list[Dropped]]) -> Optional[str]:
    """The first of ``keys`` whose value is a valid date (the refused ones are reported)."""
    for key in keys:
        value = _lookup(record, key)
        if value is None:
            continue
        iso = _check(field, value, capture, dropped)
        if iso is not None:
            return iso
    return None


# ---------------------------------------------------------------------------
# HTTP headers
# ---------------------------------------------------------------------------

def _header(headers: Any, name: str) -> Optional[str]:
    if headers is None:
        return None
    low = name.lower()
    try:
        items: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
        for k, v in items:
            if isinstance(k, bytes):
                k = k.decode("latin-1")
            if isinstance(k, str) and k.strip().lower() == low:
                return v.decode("latin-1") if isinstance(v, bytes) else str(v)
    except Exception:  # noqa: BLE001 - a broken header map is no evidence
        return None
    return None


def http_date_evidence(http_headers: Any, capture: Optional[str], *,
                       dropped: Optional[list[Dropped]] = None) -> dict[str, Optional[str]]:
    """``{"http_date", "http_last_modified"}`` from the HTTP response headers.

    Both must be after 1995 and not after the capture (+1 day). If the server's
    ``Date`` is more than a day away from the capture, its clock is wrong, and
    so is its ``Last-Modified``: both are dropped (``clock_skew``). A
    ``Last-Modified`` after the server's own ``Date`` is dropped as ``future``.
    Header names are matched case-insensitively; any mapping or list of pairs
    (fastwarc's header map included) is accepted.
    """
    raw_date = _header(http_headers, "Date")
    raw_lm = _header(http_headers, "Last-Modified")
    http_date = _check("http_date", raw_date, capture, dropped)
    if http_date is not None and capture is not None:
        if abs(_from_iso(http_date) - _from_iso(capture)) > _CLOCK_SKEW:
            if dropped is not None:
                dropped.append(Dropped("http_date", str(raw_date), "clock_skew"))
                if raw_lm is not None:
                    dropped.append(Dropped("http_last_modified", str(raw_lm), "clock_skew"))
            return {"http_date": None, "http_last_modified": None}
    ref = capture or http_date
    last_modified = _check("http_last_modified", raw_lm, ref, dropped)
    if (last_modified is not None and http_date is not None
            and _from_iso(last_modified) > _from_iso(http_date) + timedelta(minutes=5)):
        if dropped is not None:
            dropped.append(Dropped("http_last_modified", str(raw_lm), "future"))
        last_modified = None
    return {"http_date": http_date, "http_last_modified": last_modified}


# ---------------------------------------------------------------------------
# URL
# ---------------------------------------------------------------------------

_URL_DATE = re.compile(
    r"(?<![0-9])((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?![0-9])")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.I)


def url_date_evidence(url: Optional[str], *, capture: Optional[str] = None,
                      dropped: Optional[list[Dropped]] = None) -> Optional[str]:
    """A complete date in the URL *path* (``/2019/07/16/``, ``/2019-07-16-slug``).

    Same shape as htmldate's ``COMPLETE_URL`` (year-month-day joined by ``/``,
    ``-`` or ``_``) but only in the path: query strings carry API versions and
    calendar parameters (``?api-version=2019-07-01``), not publication dates.
    Day precision, bounded by 1995 and the capture.
    """
    if not url or not isinstance(url, str):
        return None
    value = _url_day(url)
    return None if value is None else _check("url_date", value, capture, dropped)


@lru_cache(maxsize=64)  # the reader asks twice per page (URL evidence, then html_date_evidence)
def _url_day(url: str) -> Optional[str]:
    path = _URL_HOST.sub("", url.strip().strip("<>").strip())
    path = path.split("?", 1)[0].split("#", 1)[0]
    m = _URL_DATE.search(path)
    return None if m is None else f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

def _load_tree(html: Any) -> Any:
    """Parse once with htmldate's loader (encoding and broken-markup repairs).

    Guard: htmldate *downloads* a str that starts with ``http`` and contains no
    space; a page body is never fetched from the network here.
    """
    from htmldate.utils import load_html
    from lxml.html import HtmlElement

    if isinstance(html, HtmlElement):
        return html
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if not isinstance(html, str) or not html.strip():
        return None
    if html.lstrip().startswith("http") and " " not in html:
        return None
    return load_html(html)


def _htmldate(tree: Any, *, url: Optional[str], original: bool, extensive: bool,
              max_date: datetime) -> Optional[str]:
    from htmldate import find_date

    return find_date(tree, extensive_search=extensive, original_date=original,
                     url=url, max_date=max_date, min_date=MIN_DATE.replace(tzinfo=None))


_STRUCTURED_META = {
    # property / name / itemprop values carrying a date, and which kind
    "article:published_time": "published", "og:published_time": "published",
    "datepublished": "published", "dc.date.issued": "published",
    "article:modified_time": "modified", "og:updated_time": "modified",
    "datemodified": "modified", "dc.date.modified": "modified",
    "last-modified": "modified",
}
_JSON_DATE = re.compile(r'"(datePublished|dateCreated|dateModified|uploadDate)"\s*:\s*"([^"]{4,40})"')


def _structured_dates(tree: Any) -> list[tuple[str, str]]:
    """(kind, raw value) pairs from Open Graph / meta / itemprop / JSON-LD.

    Only used to *report* refused values (pre-1995, after the capture): the
    dates themselves come from htmldate, which reads the same markup.
    """
    out: list[tuple[str, str]] = []
    for elem in tree.iterfind(".//meta"):
        key = (elem.get("property") or elem.get("name") or elem.get("itemprop") or "").lower()
        kind = _STRUCTURED_META.get(key)
        if kind is not None:
            value = elem.get("content") or elem.get("datetime")
            if value:
                out.append((kind, value))
    for elem in tree.xpath('.//script[@type="application/ld+json"]'):
        text = elem.text or ""
        for m in _JSON_DATE.finditer(text[:200_000]):
            out.append(("modified" if m[1] == "dateModified" else "published", m[2]))
    return out


# A loose pattern scans ~5x faster than one with look-arounds and ranges; the few matches are checked in Python.
_ISO_DAY = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d")
_SCAN_LIMIT = 4_000_000


def latest_page_date(html: Any, capture: Optional[str]) -> Optional[str]:
    """The latest ISO ``YYYY-MM-DD`` anywhere in the raw HTML, not after the capture.

    ``<time datetime>``, ``<meta content>``, JSON-LD and the JSON state of
    JavaScript sites (``"updatedAt":"2023-08-29T..."``) all spell dates this
    way. htmldate's "modified" answer is the *first* good candidate, not the
    latest; a page that shows any date after the cutoff anywhere (an update, a
    comment, a sidebar of recent posts) is not a page whose text is all older,
    so the claim rule needs the maximum. Values after the capture (event dates,
    cookie expiries) are ignored, not counted as bad: they are not offered as
    the page's date.
    """
    if isinstance(html, (bytes, bytearray)):
        html = bytes(html[:_SCAN_LIMIT]).decode("utf-8", "replace")
    elif not isinstance(html, str):
        try:
            from lxml.html import tostring

            html = tostring(html, encoding="unicode")
        except Exception:  # noqa: BLE001
            return None
    limit = (_reference(capture) + _FUTURE_SLACK).strftime("%Y-%m-%d")  # _reference reads a cached parse
    best: Optional[str] = None
    for m in _ISO_DAY.finditer(html, 0, _SCAN_LIMIT):
        day = m.group(0)
        start, end = m.span()
        if (start and html[start - 1].isdigit()) or (end < len(html) and html[end].isdigit()):
            continue
        if "1995-01-01" <= day <= limit and (best is None or day > best):
            try:
                date(int(day[:4]), int(day[5:7]), int(day[8:10]))
            except ValueError:  # 2019-02-30
                continue
            best = day
    return None if best is None else best + "T00:00:00Z"


HTML_DATE_MODES = ("auto", "htmldate", "structured")

_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_TIME_TAG = re.compile(r"<time\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_STRUCTURED_SCAN = 1_000_000
_DATE_WORDS = re.compile(r"date|time|modified|issued", re.IGNORECASE)


def _attributes(tag: str) -> dict[str, str]:
    return {m[1].lower(): next(v for v in m.groups()[1:] if v is not None) for m in _ATTRIBUTE.finditer(tag)}


def structured_html_dates(html: str) -> dict[str, list[str]]:
    """Raw published/modified values from the page's machine-readable markup, in htmldate's order of trust.

    ``<meta property|name|itemprop=...>`` (Open Graph ``article:*``, Dublin
    Core, schema.org microdata), JSON-LD ``datePublished``/``dateModified``,
    and ``<time datetime>`` marked ``pubdate`` or ``published``. Regular
    expressions over the raw page, no DOM: ~50 us a page instead of htmldate's
    ~20 ms, which is what lets ``auto`` mode skip htmldate on most pages.
    """
    head = html[:_STRUCTURED_SCAN]
    out: dict[str, list[str]] = {"published": [], "modified": []}
    for tag in _META_TAG.findall(head):
        if not _DATE_WORDS.search(tag):  # most meta tags (viewport, charset, og:title...) carry no date
            continue
        attrs = _attributes(tag)
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        kind = _STRUCTURED_META.get(key)
        value = attrs.get("content") or attrs.get("datetime")
        if kind and value:
            out[kind].append(value)
    for m in _JSON_DATE.finditer(head):
        out["modified" if m[1] == "dateModified" else "published"].append(m[2])
    for tag in _TIME_TAG.findall(head):
        attrs = _attributes(tag)
        if attrs.get("datetime") and ("pubdate" in tag.lower() or "published" in attrs.get("class", "")
                                      or attrs.get("itemprop", "").lower() == "datepublished"):
            out["published"].append(attrs["datetime"])
    return out


def html_date_evidence(html: Any, url: Optional[str], capture: Optional[str], *,
                       mode: str = "auto", extensive_search: bool = True, modified_search: bool = True,
                       dropped: Optional[list[Dropped]] = None) -> dict[str, Optional[str]]:
    """``{"published_date", "modified_date"}`` from the page.

    ``mode``:

    - ``htmldate``: always htmldate (:func:`htmldate_evidence`), its accuracy and its cost (~20 ms a page);
    - ``structured``: only the URL date and the machine-readable markup (:func:`structured_html_dates`);
    - ``auto`` (default): the structured path, and htmldate only for pages where it finds no published date,
      without its free-text scan (``extensive_search=False``: date elements, ``<abbr>``/``<time>``, byline
      classes, but no guess from a year in the prose). htmldate itself trusts a URL date, then this markup,
      before guessing from the text, so where the structured path answers, htmldate would have given the
      same day. The free-text scan costs two thirds of htmldate's time, and where it alone answers it mostly
      guesses: on the 42 shared-crawl pages without markup dates, 17 of its 27 extra dates are a bare year
      (``YYYY-01-01``); on the benchmark corpus, whose undated pages carry no date at all, it invents one
      for 31 % of them. ``extensive_search`` applies to the ``htmldate`` mode.

    ``modified_date`` is the page's latest date: the structured modified values
    and :func:`latest_page_date` (any ISO date in the markup), or htmldate's
    answer as well when htmldate runs. ``modified_search=False`` skips that
    second htmldate pass in ``auto`` mode (see :func:`gather_evidence`).
    """
    if mode not in HTML_DATE_MODES:
        raise ValueError(f"html date mode must be one of {HTML_DATE_MODES}, got {mode!r}")
    if mode == "htmldate":
        return htmldate_evidence(html, url, capture, extensive_search=extensive_search, dropped=dropped)
    text = html.decode("utf-8", "replace") if isinstance(html, (bytes, bytearray)) else html
    if not isinstance(text, str):
        return htmldate_evidence(html, url, capture, extensive_search=extensive_search, dropped=dropped)
    found = structured_html_dates(text)
    published = url_date_evidence(url, capture=capture) if url else None
    for raw in found["published"]:
        if published is not None:
            break
        published = _day(_check("published_date", raw, capture, dropped))
    modified = [_day(_check("modified_date", raw, capture, dropped)) for raw in found["modified"]]
    if published is None and mode == "auto":  # the markup's refused values are reported above, once
        return htmldate_evidence(html, url, capture, extensive_search=False,
                                 modified_search=modified_search, dropped=dropped, report_markup=False)
    modified.append(latest_page_date(text, capture))
    modified = [d for d in modified if d is not None]
    return {"published_date": published, "modified_date": max(modified) if modified else None}


def htmldate_evidence(html: Any, url: Optional[str], capture: Optional[str], *,
                      extensive_search: bool = True, modified_search: bool = True,
                      dropped: Optional[list[Dropped]] = None, report_markup: bool = True
                      ) -> dict[str, Optional[str]]:
    """``{"published_date", "modified_date"}`` from the page, via htmldate.

    ``published_date``: ``find_date(original_date=True, url=url)`` -- exactly
    htmldate's own answer (URL date first, then Open Graph/``article:*``/meta,
    JSON-LD ``datePublished``, ``<abbr>``/``<time>``, text patterns), so its
    exact-day accuracy is htmldate's, except that dates after the capture are
    not candidates (``max_date = capture``) where htmldate alone would allow up
    to today.

    ``modified_date``: the latest date the page shows: the later of
    ``find_date(original_date=False)`` with the URL *withheld* (htmldate returns
    a URL date before looking at the page, which would hide a later update) --
    ``article:modified_time``, JSON-LD ``dateModified``, ... -- and
    :func:`latest_page_date` (any ISO date in the markup).

    ``html`` may be a str, bytes or an already parsed lxml ``HtmlElement``
    (parsed once and shared by both calls). ``extensive_search=True`` is
    htmldate's default and its accuracy reference; ``False`` skips the free-text
    scan (measured in ``bench/timestamp_evidence.py``). Refused structured
    values (pre-1995, after the capture) are reported in ``dropped``, unless
    ``report_markup`` is false (the caller has reported them). Never raises: an
    htmldate failure is reported as ``Dropped("html", ..., "error")``.
    """
    result: dict[str, Optional[str]] = {"published_date": None, "modified_date": None}
    try:
        tree = _load_tree(html)
        if tree is None:
            return result
        ref = _reference(capture)
        # htmldate compares naive datetimes; the page's local day must not be
        # after the capture's (UTC) day + the usual slack.
        max_date = (ref + _FUTURE_SLACK).replace(tzinfo=None)
        for kind, raw in _structured_dates(tree) if report_markup else ():
            _check(f"{kind}_date", raw, capture, dropped)
        clean_url = url.strip().strip("<>").strip() if isinstance(url, str) else None
        published = _htmldate(tree, url=clean_url or None, original=True,
                              extensive=extensive_search, max_date=max_date)
        modified = _htmldate(tree, url="", original=False, extensive=extensive_search,
                             max_date=max_date) if modified_search else None
        result["published_date"] = _day(parse_date(published, now=max_date))
        modified_iso = _day(parse_date(modified, now=max_date))
        scanned = latest_page_date(html, capture)
        candidates = [d for d in (modified_iso, scanned) if d is not None]
        result["modified_date"] = max(candidates) if candidates else None
    except Exception as err:  # noqa: BLE001 - never crash a reader on one page
        LOGGER.debug("html date evidence failed for %s", url, exc_info=True)
        if dropped is not None:
            dropped.append(Dropped("html", type(err).__name__, "error"))
    return result


# ---------------------------------------------------------------------------
# JSONL / Parquet date fields
# ---------------------------------------------------------------------------

_CREATED_KEYS = ("created", "metadata.created", "created_at", "created_utc",
                 "date_created", "date_publish", "published", "metadata.date")


def json_date_evidence(record: Mapping[str, Any], capture: Optional[str], *,
                       dropped: Optional[list[Dropped]] = None) -> dict[str, Optional[str]]:
    """The input's own date field as ``{"created", "created_source": "input"}``.

    ``created`` (Dolma), ``created_at``/``created_utc`` (forums),
    ``date_publish`` (news-please)...: the dataset's claim of when the text was
    written, bounded by 1995 and the capture. Empty dict if none. Also returns
    ``url_date`` when the record has a URL (``url``, ``metadata.url``,
    ``metadata.warc_url``).
    """
    out: dict[str, Optional[str]] = {}
    created = _first_valid(record, _CREATED_KEYS, "created", capture, dropped)
    if created is not None:
        out["created"] = created
        out["created_source"] = "input"
    for key in ("url", "metadata.warc_url", "metadata.url", "warc_url"):
        url = _lookup(record, key)
        if isinstance(url, str) and url:
            out["url_date"] = url_date_evidence(url, capture=capture, dropped=dropped)
            break
    return out


def gather_evidence(*, warc_date: object = None, json_record: Optional[Mapping[str, Any]] = None,
                    http_headers: Any = None, html: Any = None, url: Optional[str] = None,
                    html_mode: str = "auto", extensive_search: bool = True,
                    dropped: Optional[list[Dropped]] = None, memento_datetime: object = None,
                    capture_uri: Optional[str] = None, arc_date: Optional[str] = None) -> dict[str, Optional[str]]:
    """Everything the reader needs, as keyword arguments for ``new_document``.

    ``crawl_date`` (and ``capture_source``) from the archive's capture evidence
    (:func:`capture_time.capture_evidence`: ``warc_date``, ``memento_datetime``,
    a replay ``capture_uri``, ``arc_date``) or ``json_record``
    (JSONL/Parquet), then HTTP, HTML, URL and input-field evidence, each bounded
    by the capture. Only keys with a value are returned.
    """
    out: dict[str, Optional[str]] = {}
    crawl = None
    if any(v is not None for v in (warc_date, memento_datetime, capture_uri, arc_date)):
        out.update(capture_time.capture_evidence(warc_date=warc_date, memento_datetime=memento_datetime,
                                                 capture_uri=capture_uri, arc_date=arc_date, dropped=dropped))
        crawl = out["crawl_date"]
    if crawl is None and json_record is not None:
        crawl = capture_date_from_json(json_record, dropped=dropped)
        out["capture_source"] = "input" if crawl is not None else None
    out["crawl_date"] = crawl
    if http_headers is not None:
        out.update(http_date_evidence(http_headers, crawl, dropped=dropped))
    if url:
        out["url_date"] = url_date_evidence(url, capture=crawl, dropped=dropped)
    if json_record is not None:
        for k, v in json_date_evidence(json_record, crawl, dropped=dropped).items():
            if out.get(k) is None:
                out[k] = v
    if html is not None:
        # htmldate's "modified" pass is the costliest part of the auto fallback. A page that reaches the
        # fallback has no URL date and no markup date, so under assign_created's rule it can only be
        # `claimed` with a stale Last-Modified: without that header its modified date decides nothing.
        modified_search = html_mode != "auto" or out.get("http_last_modified") is not None
        out.update(html_date_evidence(html, url, crawl, mode=html_mode, extensive_search=extensive_search,
                                      modified_search=modified_search, dropped=dropped))
    return {k: v for k, v in out.items() if v is not None}


def warm_up() -> None:
    """Pay htmldate's one-time costs now (call from a DoFn's ``setup``).

    dateparser, htmldate's last-resort parser, compiles a locale's tables the
    first time a string is tried against it; a string no locale accepts tries
    all of them (measured: ~5 s once, then milliseconds; the first such page in
    the CC 2020 sample took 3.5 s). Optional; only moves the cost. Only
    htmldate's extensive search (``--html-dates htmldate``) calls dateparser.
    """
    try:
        from htmldate.extractors import external_date_parser

        external_date_parser("qwxz 12 zzqv 2019", "%Y-%m-%d")  # matches no locale
    except Exception:  # noqa: BLE001 - an optimisation only
        LOGGER.debug("htmldate warm-up failed", exc_info=True)


def count_dropped(dropped: Iterable[Dropped]) -> int:
    """Bump ``timestamps/bad_value`` (and ``bad_value.<field>``) for each entry.

    Call from inside a DoFn (the reader's); outside a pipeline the counters are
    no-ops. Returns how many were counted.
    """
    n = 0
    for d in dropped:
        Metrics.counter(NAMESPACE, "bad_value").inc()
        Metrics.counter(NAMESPACE, f"bad_value.{d.field}").inc()
        n += 1
    return n


# ---------------------------------------------------------------------------
# decision
# ---------------------------------------------------------------------------

@lru_cache(maxsize=64)
def normalize_cutoff(cutoff: str) -> str:
    """``YYYY-MM-DD`` (or any ISO instant) to canonical UTC ISO; ValueError if bad."""
    try:
        dt = datetime.fromisoformat(cutoff.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError) as err:
        raise ValueError(f"cutoff must be YYYY-MM-DD, got {cutoff!r}") from err
    return to_iso(dt if dt.tzinfo else dt.replace(tzinfo=UTC))


def _valid(field: str, value: Optional[str], capture: Optional[str],
           dropped: Optional[list[Dropped]]) -> Optional[str]:
    """Re-validate a column (inputs may come from anywhere, e.g. Parquet)."""
    if value is None:
        return None
    return _check(field, value, capture, dropped)


def assign_created(doc: Document, cutoff: str = DEFAULT_CUTOFF, *,
                   claim_margin_days: int = 1,
                   dropped: Optional[list[Dropped]] = None) -> Document:
    """Fill ``created``, ``created_source``, ``pre_cutoff``, ``pre_cutoff_evidence``.

    Evidence columns are re-validated first (1995 <= date <= capture + 1 day;
    refused values are set to ``None`` and reported in ``dropped``).

    **captured**: ``crawl_date < cutoff``. Proof; nothing the page says matters.

    **claimed** (only if not captured). The dates that count as *claims* that
    the text was written before the cutoff, and how much each is worth:

    * ``url_date`` -- strong: written by the CMS at publication and never
      changed afterwards, hard to get wrong by extraction.
    * ``created`` from the input (``created_source == "input"``) -- strong: the
      dataset's own record of the item (post time, paper date).
    * ``published_date`` -- weak alone: htmldate may have picked a date the text
      merely *mentions* (a 2023 article about a 2018 event with no own date).
    * ``http_last_modified`` -- weak alone (may be a template's mtime), and only
      when "stale", i.e. more than a day before the fetch; a fresh one is a
      dynamic page's render time and says nothing.

    A claim needs a strong source, or ``published_date`` *and* a stale
    ``Last-Modified``, before ``cutoff - claim_margin_days`` (the margin absorbs
    time zones and day-precision dates). And it must not be contradicted: no
    ``modified_date``, ``published_date``, ``url_date`` or input ``created`` on
    or after the cutoff. Pages that carry many dates are covered by
    ``modified_date`` being the page's *latest* date: if any recent date shows
    through anywhere in the markup, the page does not get the claim. A recent
    ``Last-Modified`` is *not* a contradiction: static sites are rebuilt
    (GitHub Pages stamps every page with the build time) without the text of a
    2018 post changing.

    **none**: otherwise (``pre_cutoff`` is then ``False``).

    ``created`` is the best estimate of when the text was written: the first
    available of ``published_date`` (htmldate's original date, the most
    accurate single source), ``url_date``, input ``created``, stale
    ``http_last_modified``, ``crawl_date``, never after the capture.
    ``created_source`` names it: ``published``, ``url``, ``input``,
    ``last_modified``, ``capture`` (``None`` with ``created`` if nothing).
    """
    cut = _from_iso(normalize_cutoff(cutoff))
    claim_limit = cut - timedelta(days=claim_margin_days)

    crawl = _valid("crawl_date", doc.crawl_date, None, dropped)
    http_date = _valid("http_date", doc.http_date, crawl, dropped)
    ref = crawl or http_date
    published = _valid("published_date", doc.published_date, ref, dropped)
    modified = _valid("modified_date", doc.modified_date, ref, dropped)
    url_date = _valid("url_date", doc.url_date, ref, dropped)
    last_modified = _valid("http_last_modified", doc.http_last_modified, ref, dropped)
    input_created = None
    if doc.created is not None and doc.created_source in (None, "input"):
        input_created = _valid("created", doc.created, ref, dropped)

    fetched = http_date or crawl
    stale_lm = None
    if last_modified is not None:
        if fetched is None or _from_iso(last_modified) < _from_iso(fetched) - _FRESH:
            stale_lm = last_modified

    def before(v: Optional[str], limit: datetime) -> bool:
        return v is not None and _from_iso(v) < limit

    def at_or_after(v: Optional[str]) -> bool:
        return v is not None and _from_iso(v) >= cut

    if crawl is not None and _from_iso(crawl) < cut:
        tier = "captured"
    else:
        contradicted = any(at_or_after(v) for v in
                           (modified, published, url_date, input_created))
        strong = before(url_date, claim_limit) or before(input_created, claim_limit)
        corroborated = before(published, claim_limit) and before(stale_lm, claim_limit)
        tier = "claimed" if (strong or corroborated) and not contradicted else "none"

    created, source = None, None
    for name, value in (("published", published), ("url", url_date), ("input", input_created),
                        ("last_modified", stale_lm), ("capture", crawl)):
        if value is not None:
            created, source = value, name
            break
    if created is not None and crawl is not None and created > crawl:
        created = crawl  # within the one-day slack: never after the capture

    return doc._replace(
        crawl_date=crawl, http_date=http_date, http_last_modified=last_modified,
        published_date=published, modified_date=modified, url_date=url_date,
        created=created, created_source=source,
        pre_cutoff=tier != "none", pre_cutoff_evidence=tier,
    )


def is_trusted_human(doc: Document, trust: str = "captured") -> bool:
    """The ``--trust`` policy: may this document skip the AI filter?

    ``captured`` (default): only proof counts. ``claimed``: the page's own
    (corroborated) dates count too. ``none``: nothing is trusted; every
    document goes through the AI filter. Unknown policy: ValueError.
    """
    if trust not in TRUST_POLICIES:
        raise ValueError(f"--trust must be one of {TRUST_POLICIES}, got {trust!r}")
    if trust == "none":
        return False
    if trust == "claimed":
        return doc.pre_cutoff_evidence in ("captured", "claimed")
    return doc.pre_cutoff_evidence == "captured"


class _AssignCreatedFn(beam.DoFn):
    def __init__(self, cutoff: str, claim_margin_days: int) -> None:
        self._cutoff = cutoff
        self._margin = claim_margin_days

    def setup(self) -> None:
        self._tiers = {t: Metrics.counter(NAMESPACE, f"tier.{t}") for t in TIERS}
        self._bad = Metrics.counter(NAMESPACE, "bad_value")
        self._clock = StageClock("timestamps")
        self._sources: dict[str, Any] = {}

    def process(self, doc: Document) -> Iterable[Document]:
        dropped: list[Dropped] = []
        with self._clock:
            out = assign_created(doc, self._cutoff, claim_margin_days=self._margin, dropped=dropped)
        for d in dropped:
            self._bad.inc()
            Metrics.counter(NAMESPACE, f"bad_value.{d.field}").inc()
        self._tiers[out.pre_cutoff_evidence or "none"].inc()
        source = out.created_source or "none"
        if source not in self._sources:
            self._sources[source] = Metrics.counter(NAMESPACE, f"created_source.{source}")
        self._sources[source].inc()
        yield out


class TagTimestamps(beam.PTransform):
    """PCollection[Document] -> PCollection[Document] with the tier filled.

    Counters (namespace ``timestamps``): ``tier.captured``, ``tier.claimed``,
    ``tier.none``, ``created_source.<published|url|input|last_modified|capture|none>``,
    ``bad_value`` and ``bad_value.<field>``: what the manifest reports.
    """

    def __init__(self, cutoff: str = DEFAULT_CUTOFF, *, claim_margin_days: int = 1) -> None:
        super().__init__()
        self._cutoff = normalize_cutoff(cutoff)  # fail at construction, not on a worker
        self._margin = claim_margin_days

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | "AssignCreated" >> beam.ParDo(
            _AssignCreatedFn(self._cutoff, self._margin)).with_output_types(Document)
