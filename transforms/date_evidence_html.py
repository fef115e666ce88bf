"""Date evidence from the page's machine-readable markup (meta, JSON-LD, ``<time>``) and its latest ISO date."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Optional, Union

from resiliparse.parse.html import HTMLTree

from provsieve.transforms.dates import _FUTURE_SLACK, _reference

_STRUCTURED_META = {
    # property / name / itemprop values carrying a date, and which kind
    "article:published_time": "published", "og:published_time": "published",
    "datepublished": "published", "dc.date.issued": "published",
    "article:modified_time": "modified", "og:updated_time": "modified",
    "datemodified": "modified", "dc.date.modified": "modified",
    "last-modified": "modified",
}
_PUBLISHED_ITEMPROPS = frozenset({"datepublished", "datecreated"})


PUBLISHED_META_NAMES = frozenset({
    "analyticsattributes.articledate", "article.created", "article.published", "article:post_date",
    "article:publicationdate", "article:published", "article:published_date", "article:published_time",
    "article_date_original", "bt:pubdate", "citation_date", "citation_publication_date", "content_create_date",
    "created", "cxenseparse:recs:publishtime", "date", "date_created", "date_published", "datecreated", "dateposted",
    "datepublished", "dc.created", "dc.date", "dc.date.created", "dc.date.issued", "dc.date.publication",
    "dc:created", "dc:date", "dcsext.articlefirstpublished", "dcterms.created", "dcterms.date", "dcterms.issued",
    "displaydate", "doc_date", "field-name-post-date", "gentime", "mediator_published_time", "og:article:published",
    "og:article:published_time", "og:datepublished", "og:pubdate", "og:publish_date", "og:published_time",
    "og:question:published_time", "og:regdate", "originalpublicationdate", "parsely-pub-date", "pdate", "ptime",
    "pubdate", "publication_date", "publish-date", "publish_date", "publish_time", "publishdate", "published-date",
    "published_date", "published_time", "publisheddate", "rbpubdate", "release_date", "rnews:datepublished",
    "sailthru.date", "shareaholic:article_published_time", "timestamp", "twt-published-at", "video:release_date",
    "vr:published_time",
})
"""The meta names and properties htmldate 1.11.0 reads as a publication date (its ``DATE_ATTRIBUTES``), but its
catch-all ``meta``: frozen here, so an htmldate upgrade does not change provsieve's answers unnoticed (a test
checks this set still covers htmldate's)."""


_JSON_DATE = re.compile(r'"(datePublished|dateCreated|dateModified|uploadDate)"\s*:\s*"([^"]{4,40})"')


# An ISO day is found by its first dash: a pattern that starts with a literal lets the regex engine jump from
# one "-" to the next, where ``(?:19|20)\d\d-[01]\d-[0-3]\d`` tries every position (4.7x slower on real pages,
# bench/RESULTS.md, session 16). The lookahead consumes only the dash, so no later match is skipped.
_DAY_DASH = re.compile(r"-(?=[01]\d-[0-3]\d)")
_ISO_YEAR = re.compile(r"(?:19|20)\d\d")
_SCAN_LIMIT = 4_000_000


@lru_cache(maxsize=256)
def _day_limit(capture: str) -> str:
    """The last day a page date may have (``YYYY-MM-DD``): the capture's plus the slack (cached per capture)."""
    return (_reference(capture) + _FUTURE_SLACK).date().isoformat()


_BEFORE_FIRST_DAY = "1994-12-31"
"""The day before the first one :func:`latest_page_date` keeps (1995-01-01: no web page is older)."""


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
    limit = _day_limit(capture) if capture is not None else (_reference(None) + _FUTURE_SLACK).date().isoformat()
    best = _BEFORE_FIRST_DAY  # a day kept is later than the best so far, so from 1995-01-01 on
    size = len(html)
    year_at = _ISO_YEAR.fullmatch
    last_end = 0  # the matches are those of a left-to-right scan for the whole day: they do not overlap
    for dash in _DAY_DASH.finditer(html, 4, _SCAN_LIMIT):
        start = dash.start() - 4
        if start < last_end or year_at(html, start, start + 4) is None:
            continue
        end = last_end = start + 10
        day = html[start:end]
        # the string comparison first: most matches are not later than the best so far (one test each)
        if day <= best or day > limit:
            continue
        if (start and html[start - 1].isdigit()) or (end < size and html[end].isdigit()):
            continue
        try:
            date(int(day[:4]), int(day[5:7]), int(day[8:10]))
        except ValueError:  # 2019-02-30
            continue
        best = day
    return None if best == _BEFORE_FIRST_DAY else best + "T00:00:00Z"


# One query for every element that can carry a machine-readable date: a meta whose property/name names a date
# (the keys of _STRUCTURED_META and of PUBLISHED_META_NAMES all contain one of these words;
# tested) or whose itemprop does (every itemprop read here contains "date"), <time datetime>, JSON-LD. Narrow on
# purpose: making a Python object of each of a page's elements costs more than the regex scan did.
_DATE_WORDS = ("date", "time", "modified", "creat", "publi", "issued")
_DATE_ELEMENTS = ", ".join([f'meta[{attr}*="{word}" i]' for attr in ("property", "name") for word in _DATE_WORDS]
                           + ['meta[itemprop*="date" i]', "time[datetime]", 'script[type="application/ld+json" i]'])
_JSON_LD_SCAN = 200_000


def parse_html(html: str) -> HTMLTree:
    """The page's Resiliparse tree (the reader reuses the one extraction built: see ``extract.ExtractedText``)."""
    return HTMLTree.parse(html)


def meta_date(get: Callable[[str], Optional[str]]) -> tuple[Optional[str], bool, bool]:
    """A ``<meta>``'s date value and whether it is a published and/or a modified one; ``get`` reads an attribute.

    Published as htmldate's ``examine_header`` keys it: the ``name`` if there is one, else the ``property``,
    in :data:`PUBLISHED_META_NAMES`; an ``itemprop`` meta (no name, no property) if ``datePublished`` or
    ``dateCreated``, its ``datetime`` read before its ``content``. Modified: the key in ``_STRUCTURED_META``.
    One rule for the Resiliparse tree (``elem.getattr``) and htmldate's lxml tree (``elem.get``).
    """
    name, prop = get("name"), get("property")
    itemprop = get("itemprop") if name is None and prop is None else None
    value = ((get("datetime") or get("content")) if itemprop is not None else get("content") or get("datetime"))
    if not value:
        return None, False, False
    modified = _STRUCTURED_META.get((prop or name or itemprop or "").lower()) == "modified"
    if itemprop is not None:
        return value, itemprop.lower() in _PUBLISHED_ITEMPROPS, modified
    return value, (name if name is not None else prop or "").lower() in PUBLISHED_META_NAMES, modified


def structured_html_dates(page: Union[str, HTMLTree]) -> dict[str, list[str]]:
    """Raw published/modified values from the page's machine-readable markup, in htmldate's order of trust.

    Published: the ``<meta>`` elements htmldate keys as a publication date (its ``DATE_ATTRIBUTES``, by the
    meta's ``name``, else its ``property``; ``itemprop`` ``datePublished``/``dateCreated``, ``datetime``
    before ``content``) in document order, so the first is the first meta htmldate would read as one. The
    values are parsed by provsieve's own parser, not htmldate's, and ``examine_header`` does more, so the
    answers can differ: htmldate skips a value it cannot parse (more than 18 digits:
    ``...T21:30:00.000-05:00``) and takes the next meta; it reads ``http-equiv="date"``, ``pubdate``
    attributes and itemprop ``pubyear``, which are not read here; and it returns a modified property as a
    fallback before JSON-LD, where the JSON-LD ``datePublished`` is taken here; then
    JSON-LD ``datePublished`` (htmldate's ``json_search``), then JSON-LD ``dateCreated``/``uploadDate``,
    then ``<time datetime>`` marked ``pubdate`` or ``published``. Modified: ``article:modified_time``,
    ``og:updated_time``, ``dateModified``, ... (``_STRUCTURED_META``), meta before JSON-LD. Read from the
    Resiliparse tree that text extraction already built (``page`` may be that
    tree, or the HTML, parsed here): entities decoded, comments and attribute
    quoting handled by the parser, no lxml; ~35-50 us a page on the benchmark corpus's small pages,
    ~95 us on the shared crawl's real ones (bench/RESULTS.md).
    """
    tree = page if isinstance(page, HTMLTree) else parse_html(page)
    out: dict[str, list[str]] = {"published": [], "modified": []}
    document = tree.document
    if document is None:
        return out
    metas, scripts, times = [], [], []
    by_tag = {"meta": metas, "script": scripts, "time": times}  # the only tags _DATE_ELEMENTS selects
    for elem in document.query_selector_all(_DATE_ELEMENTS):
        by_tag[elem.tag].append(elem)
    for elem in metas:
        value, published, modified = meta_date(elem.getattr)
        if published:
            out["published"].append(value)
        if modified:
            out["modified"].append(value)
    later = []  # JSON-LD dateCreated / uploadDate: after every datePublished, which htmldate alone reads
    for elem in scripts:
        for m in _JSON_DATE.finditer(elem.text, 0, _JSON_LD_SCAN):
            if m[1] == "dateModified":
                out["modified"].append(m[2])
            else:
                (out["published"] if m[1] == "datePublished" else later).append(m[2])
    out["published"].extend(later)
    for elem in times:
        if (elem.hasattr("pubdate") or "published" in (elem.getattr("class") or "")
                or (elem.getattr("itemprop") or "").lower() == "datepublished"):
            out["published"].append(elem.getattr("datetime"))
    return out


# A year htmldate accepts (its YEAR_RE, 1990-2039), anywhere (inside 20190304 too): found as two literal
# prefixes, which the regex engine skips to (``199\d|20[0-3]\d`` tries every "1" and "2": 4x slower on real
# pages), neither of which can overlap itself; _year_starts merges them as one left-to-right scan would.
_YEAR_1990S = re.compile(r"199(?=\d)")
_YEAR_2000S = re.compile(r"20(?=[0-3]\d)")
# A day.month.two-digit-year (htmldate's YMD_PATTERN's second form), the only dated form without such a year.
_SHORT_YEAR_DATE = re.compile(r"\d[-/.]\d{1,2}[-/.]\d\d")
# A number that may be a day or a month: one or two digits, not inside a character reference (&#160; &#x27;)
# nor glued to a Latin letter before it (h1; col-md-6 is still counted: a superset is safe, only slower).
_NUMBER = re.compile(r"(?<![#A-Za-z\d])\d\d?(?!\d)")
_WORD = re.compile(r"[^\W\d_]+")
DAY_WINDOW = 48
"""How far (characters) from a year a day and a month are looked for: farther than
``3&nbsp;de&nbsp;septiembre&nbsp;de&nbsp;2019`` spells it."""
_MAX_YEARS = 2_000
_MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
_ROMAN_MONTHS = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")


def _fold(text: str) -> str:
    return text.replace("ı", "i").replace("İ", "i").lower()  # lower() alone mishandles the Turkish dotless i


@lru_cache(maxsize=1)
def month_words() -> frozenset[str]:
    """Every word of a month name in any dateparser locale (htmldate's last-resort parser), folded.

    Words of three letters or more (``mar``, ``sept``, ``märz``, ``settembre``), CJK ones of any length
    (``月``), and Roman numerals: shorter Latin tokens of multi-word names (``de`` of ``de enero``) are common
    words that would make every number look like a day. Built once per worker (~0.6 s, :func:`warm_up`).
    """
    from dateparser.languages.loader import default_loader

    words = {token for locale in default_loader.get_locales() for key in _MONTH_KEYS
             for name in locale.info.get(key, []) for token in _WORD.findall(_fold(name))}
    return frozenset(w for w in words if len(w) >= 3 or min(w) >= "\u2e80") | frozenset(_ROMAN_MONTHS)


def _year_starts(html: str) -> list[int]:
    """Where ``re.finditer(r"199\\d|20[0-3]\\d", html)`` matches: the non-overlapping four-digit years, in order."""
    starts, last_end = [], 0
    for start in sorted([m.start() for m in _YEAR_1990S.finditer(html)]
                        + [m.start() for m in _YEAR_2000S.finditer(html)]):
        if start >= last_end:
            starts.append(start)
            last_end = start + 4
    return starts


def may_hold_day_date(html: str, year: Optional[str] = None) -> bool:
    """False when the page spells no date with a day htmldate could read, so its search can only guess a year.

    A date htmldate returns from the page (its URL and markup are checked before) has a year in the page --
    a four-digit year within its range, or a numeric day.month.two-digit year -- and a day of the month
    and a month near it: ``2019-03-04``, ``20190304``, ``4 March 2019``, ``March 4th, 2019``, ``2019年3月4日``
    (dateparser, its last resort, runs with ``STRICT_PARSING``: day, month and year required). So a page
    where no year has, within :data:`DAY_WINDOW` characters, a one- or two-digit number (other years,
    ``h1`` and character references such as ``&#x27;`` do not count) *and* either a second such number or
    a month word of any dateparser locale (:func:`month_words`), holds at most a bare year or a month and
    year. All htmldate's full search can return there is ``YYYY-01-01`` or ``YYYY-MM-01`` from ``in 2008``
    or ``© 2019``: never the day. ``auto`` skips htmldate on such pages; a bare-year guess would only put a
    year the text mentions into ``created`` (and could corroborate a stale ``Last-Modified`` into a false
    claim). ``bench/date_accuracy.py --guard`` and ``bench/date_evidence_profile.py --guard`` count the
    pages skipped where htmldate would have returned a day that is not the 1st: 0 so far.

    ``year`` (``"2019"``): look at that year's occurrences only, to tell whether htmldate's answer
    ``2019-01-01`` or ``2019-03-01`` can be a day the page spells, or is a bare-year or month guess.
    """
    words = None
    starts = _year_starts(html) if year is None else [m.start() for m in re.finditer(re.escape(year), html)]
    for n, start in enumerate(starts):
        end = start + 4
        if (start and html[start - 1].isdigit()) or (end < len(html) and html[end].isdigit()) or n >= _MAX_YEARS:
            return True  # 20190304; or a page of numbers: let htmldate decide
        left, right = max(0, start - DAY_WINDOW), end + DAY_WINDOW
        numbers = len(_NUMBER.findall(html, left, start)) + len(_NUMBER.findall(html, end, right))
        if numbers >= 2:
            return True
        if numbers:
            words = words or month_words()
            if any(w in words for w in _WORD.findall(_fold(html[left:start] + " " + html[end:right]))):
                return True
    return _SHORT_YEAR_DATE.search(html) is not None
