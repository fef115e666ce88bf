"""Date parsing for timestamp evidence: any date value to canonical UTC ISO, or a reason it was refused.

Every evidence source (:mod:`date_evidence_http`, ``_url``, ``_json``, ``_html``, ``_htmldate``) and the tier
rule (:mod:`date_tiers`) parse through :func:`parse_date_reason`; a refused value becomes a :class:`Dropped`
for the ``timestamps/bad_value`` counters (:func:`count_dropped`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import NamedTuple, Optional

from apache_beam.metrics import Metrics

LOGGER = logging.getLogger(__name__)

UTC = timezone.utc
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MIN_DATE = datetime(1995, 1, 1, tzinfo=UTC)
"""Nothing before the web went mainstream is credible as a page date."""
_FUTURE_SLACK = timedelta(days=1)
"""A value up to a day after its reference is kept: naive local times (read as
UTC) and day-precision dates can legitimately land a few hours "late"."""
_MAX_LEN = 80
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
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}
_IMF_FIXDATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (" + "|".join(_MONTHS)
                          + r") (\d{4}) (\d\d):(\d\d):(\d\d) GMT\Z")
"""RFC 9110's IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), read without ``email.utils`` (a third of its cost)."""
_FOUR_DIGIT_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b", re.I)
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


def to_iso(dt: datetime) -> str:
    """Canonical form: aware datetimes converted to UTC, naive ones read as UTC."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.isoformat()[:19] + "Z"  # ISO_FORMAT, at half strftime's cost (3 values a page)


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
    fixdate = _IMF_FIXDATE.match(s)
    if fixdate is not None:  # HTTP's own form (nearly every Date and Last-Modified): what email.utils gives
        day, month, year, hh, mi, ss = fixdate.groups()
        try:
            return datetime(int(year), _MONTHS[month], int(day), int(hh), int(mi), int(ss), tzinfo=UTC), ""
        except ValueError:
            pass  # 31 Feb, second 60: the general path below decides, as before
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
            dt = _from_iso(value)  # cached: the reader and the tier rule check the same strings
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


_WRITTEN_DAY = re.compile(r"\s*(\d{4})(?:-(\d{1,2})-(\d{1,2})(?!\d)|(\d\d)(\d\d)(?=T))")


def written_day(raw: object, iso: Optional[str], now: object = None) -> Optional[str]:
    """The day of an accepted date value (``iso``, its UTC reading) as the page writes it.

    A publication time is written in the publisher's zone (``2019-03-04T21:30:00-05:00``): its day is the
    4th, the day a reader, htmldate and a news site's archive give, although it is the 5th in UTC. For a
    value that starts with ``YYYY-MM-DD`` (or ISO's basic ``YYYYMMDDThhmm...``) that written day is kept
    if it is within a day of the UTC one (it always is for a real zone) and passes the bounds the instant
    passed (not before 1995, not more than a day after ``now``, the capture; default: the wall clock);
    any other form (``iso`` is ``None``, or no written ISO day) gives the UTC day. Only the published date
    reads days this way: the modified dates decide the pre-cutoff claim, where the instant counts.
    """
    if iso is None:
        return None
    # the strip parse_date applies (_parse_str), so a quoted value is read as written too
    m = _WRITTEN_DAY.match(raw.strip().strip("\"'<>")) if isinstance(raw, str) else None
    if m is not None:
        try:
            written = date(int(m[1]), int(m[2] or m[4]), int(m[3] or m[5]))
        except ValueError:  # unreachable for the value iso was read from: guards an iso of another value
            return _day(iso)
        if abs((written - date.fromisoformat(iso[:10])).days) <= 1:  # likewise: always, for iso read from raw
            day = datetime(written.year, written.month, written.day, tzinfo=UTC)
            if not _bounded(day, _reference(now))[1]:
                return written.isoformat() + "T00:00:00Z"
    return _day(iso)


# a time of day written after the day (``T03:42``, `` 23:42``, ISO's basic ``T0342``): a bare day is the
# day the editor chose, not an instant at midnight UTC whose copy in another zone could move it
_TIME_OF_DAY = re.compile(r"(?:T\d\d:?\d\d|\s\d{1,2}:\d\d)")


def _in_a_zone(value: object, ref: datetime) -> bool:
    """Whether ``value`` parses (as :func:`parse_date` reads it) to a time with a UTC offset other than 0.

    The offset is the parser's, so ``-04``, a quoted value and a named zone (``EDT``, -04:00 for
    ``email.utils``) count as they are read; ``06-04-2015`` has none; ``Z``, ``+00:00``, ``-00:00``,
    ``UTC`` and a zone-less value are not in a zone.
    """
    if not isinstance(value, str):
        return False
    try:
        dt = _parse_str(value, ref)[0]
    except Exception:  # noqa: BLE001 - as parse_date_reason: hostile input never crashes a worker
        return False
    return dt is not None and dt.utcoffset() not in (None, timedelta(0))


def publisher_day(raw: object, iso: Optional[str], others: Iterable[object], now: object = None) -> Optional[str]:
    """The published day of ``raw`` (:func:`written_day`; ``iso`` its instant), or, where ``raw`` is a time of
    day written in UTC or without a zone, the written day of the values in ``others`` that are the same
    instant written with another zone, where they all give one day (copies that disagree, or none: the day
    of ``raw``; so the order of ``others`` does not matter).

    A page that writes its publication time in UTC (``2015-04-07T03:42:00Z``, first) and again in the
    publisher's zone (``2015-04-06 23:42:00-0400``) was published on the 6th, the day its URL and archive
    give: the zoned copy says whose day it is. A heuristic from that one page: a copy's zone is taken as
    the publisher's, which a third-party tag (``sailthru.date``, set to whatever zone its integration
    uses) need not be. A ``raw`` in a zone of its own is the publisher's already, and a bare day (no time
    of day) is the day the editor chose. ``raw`` is parsed again only where ``others`` holds a value, so
    most pages pay nothing.
    """
    day = written_day(raw, iso, now)
    others = [other for other in others if isinstance(other, str)]
    if day is None or not others or not isinstance(raw, str) or _TIME_OF_DAY.search(raw) is None:
        return day
    ref = _reference(now)
    if _in_a_zone(raw, ref):
        return day
    days = {written_day(other, iso, now) for other in others
            if _in_a_zone(other, ref) and parse_date(other, now=now) == iso}
    return days.pop() if len(days) == 1 else day


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
