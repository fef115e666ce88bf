"""Date evidence from htmldate: its published and modified dates over an lxml tree (the accuracy reference)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from provsieve.transforms.date_evidence_html import _JSON_DATE, latest_page_date, meta_date, month_words
from provsieve.transforms.dates import _FUTURE_SLACK, MIN_DATE, Dropped, _check, _day, _reference, parse_date

LOGGER = logging.getLogger(__name__)


def _safe_text(html: str) -> Optional[str]:
    """The page text for htmldate to parse itself, or None (empty, or what htmldate would fetch as a URL)."""
    if not html.strip() or (html.lstrip().startswith("http") and " " not in html):
        return None
    return html


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
    if not isinstance(html, str) or _safe_text(html) is None:
        return None
    return load_html(html)


def _htmldate(tree: Any, *, url: Optional[str], original: bool, extensive: bool,
              max_date: datetime) -> Optional[str]:
    from htmldate import find_date

    return find_date(tree, extensive_search=extensive, original_date=original,
                     url=url, max_date=max_date, min_date=MIN_DATE.replace(tzinfo=None))


def _structured_dates(tree: Any) -> list[tuple[str, str]]:
    """(kind, raw value) pairs from Open Graph / meta / itemprop / JSON-LD.

    Only used to *report* refused values (pre-1995, after the capture): the
    dates themselves come from htmldate, which reads the same markup.
    """
    out: list[tuple[str, str]] = []
    for elem in tree.iterfind(".//meta"):
        value, published, modified = meta_date(elem.get)  # the metas the structured path reads, keyed alike
        if published:
            out.append(("published", value))
        if modified:
            out.append(("modified", value))
    for elem in tree.xpath('.//script[@type="application/ld+json"]'):
        text = elem.text or ""
        for m in _JSON_DATE.finditer(text[:200_000]):
            out.append(("modified" if m[1] == "dateModified" else "published", m[2]))
    return out


def htmldate_evidence(html: Any, url: Optional[str], capture: Optional[str], *,
                      extensive_search: bool = True, modified_search: bool = True,
                      modified_extensive: Optional[bool] = None,
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
    ``report_markup`` is false (the caller has reported them). ``modified_extensive``: the free-text scan
    for the modified pass (default: ``extensive_search``). With one htmldate call (no modified pass, no
    markup to report) htmldate gets the text and parses it itself: it copies a tree it is given before
    pruning it, which costs as much as the parse. Never raises: an
    htmldate failure is reported as ``Dropped("html", ..., "error")``.
    """
    result: dict[str, Optional[str]] = {"published_date": None, "modified_date": None}
    try:
        one_call = not (modified_search or report_markup) and isinstance(html, str)
        tree = _safe_text(html) if one_call else _load_tree(html)
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
        modified = _htmldate(tree, url="", original=False,
                             extensive=extensive_search if modified_extensive is None else modified_extensive,
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


def warm_up() -> None:
    """Pay htmldate's one-time costs now (call from a DoFn's ``setup``).

    dateparser, htmldate's last-resort parser, compiles a locale's tables the
    first time a string is tried against it; a string no locale accepts tries
    all of them (measured: ~1.5 s once, then milliseconds; the first such page in
    the CC 2020 sample took 3.5 s). Optional; only moves the cost: 12 of the 20k bench pages reach
    dateparser, so a run pays it either way. Only
    htmldate's extensive search (``--html-dates htmldate``, and ``auto`` where the markup has no date)
    calls dateparser.
    """
    try:
        from htmldate.extractors import external_date_parser

        external_date_parser("qwxz 12 zzqv 2019", "%Y-%m-%d")  # matches no locale
        month_words()  # auto mode's guard: the month names of every dateparser locale
    except Exception:  # noqa: BLE001 - an optimisation only
        LOGGER.debug("htmldate warm-up failed", exc_info=True)
