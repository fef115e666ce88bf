"""Date evidence from the page's machine-readable markup (meta, JSON-LD, ``<time>``) and its latest ISO date."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Optional

from provsieve.transforms.dates import _FUTURE_SLACK, _reference

_STRUCTURED_META = {
    # property / name / itemprop values carrying a date, and which kind
    "article:published_time": "published", "og:published_time": "published",
    "datepublished": "published", "dc.date.issued": "published",
    "article:modified_time": "modified", "og:updated_time": "modified",
    "datemodified": "modified", "dc.date.modified": "modified",
    "last-modified": "modified",
}
_JSON_DATE = re.compile(r'"(datePublished|dateCreated|dateModified|uploadDate)"\s*:\s*"([^"]{4,40})"')


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


# A year htmldate accepts (its YEAR_RE, 1990-2039), anywhere (inside 20190304 and epoch-free timestamps too),
# or a day.month.two-digit-year (its YMD_PATTERN's second form).
_YEAR_ANYWHERE = re.compile(r"199\d|20[0-3]\d|\d[-/.]\d{1,2}[-/.]\d\d")


def may_hold_date(html: str) -> bool:
    """False when the page spells no year at all, so htmldate cannot find a date on it.

    Every date htmldate returns has a year in the page (or the URL, checked before): a four-digit year
    within its range, or two digits after a numeric day and month; dateparser, its last resort, runs with
    ``STRICT_PARSING`` (day, month and year required). On the benchmark corpus three quarters of the pages
    without a markup date hold no year and skip htmldate (``bench/date_accuracy.py`` counts how often
    htmldate would have found a date where this says none: 0 so far).
    """
    return _YEAR_ANYWHERE.search(html) is not None
