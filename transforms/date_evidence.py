"""All date evidence of one record at read time: which source, in which ``--html-dates`` mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from resiliparse.parse.html import HTMLTree

from provsieve.transforms import capture_time
from provsieve.transforms.date_evidence_html import latest_page_date, may_hold_day_date, structured_html_dates
from provsieve.transforms.date_evidence_htmldate import htmldate_evidence
from provsieve.transforms.date_evidence_http import http_date_evidence
from provsieve.transforms.date_evidence_json import capture_date_from_json, json_date_evidence
from provsieve.transforms.date_evidence_url import url_date_evidence
from provsieve.transforms.dates import Dropped, _check, _day, publisher_day

HTML_DATE_MODES = ("auto", "htmldate", "structured")
_NOT_GIVEN = object()


def html_date_evidence(html: Any, url: Optional[str], capture: Optional[str], *,
                       mode: str = "auto", extensive_search: bool = True, modified_search: bool = True,
                       dropped: Optional[list[Dropped]] = None, tree: Optional[HTMLTree] = None,
                       url_date: object = _NOT_GIVEN) -> dict[str, Optional[str]]:
    """``{"published_date", "modified_date"}`` from the page.

    ``mode``:

    - ``htmldate``: always htmldate (:func:`htmldate_evidence`), its accuracy and its cost (~20 ms a page);
    - ``structured``: only the URL date and the machine-readable markup (:func:`structured_html_dates`);
    - ``auto`` (default): the structured path, and htmldate's full search (free-text scan included) for the
      published date only on pages where the structured path finds none and the page spells a date with a
      day at all (:func:`may_hold_day_date`): elsewhere htmldate can only guess a bare year or month, so
      most pages never reach lxml. htmldate itself trusts a URL date, then this markup, before searching the
      page, so where the structured path answers it reads the meta htmldate would read first (parsed by
      provsieve's parser: the answers can differ, :func:`structured_html_dates` lists how); where htmldate
      runs, auto's published date is htmldate's, except a 1st of the month whose year the page never spells
      with a day and a month near it: that is htmldate's bare-year (``© 2019`` -> ``2019-01-01``) or month
      guess, and ``created`` falls back to the capture instead. ``extensive_search`` applies to the
      ``htmldate`` mode.

    ``tree``: the page's Resiliparse tree if the caller has it (the reader: extraction built it), so the
    page is parsed once; otherwise the structured path parses ``html`` itself. ``url_date``: the page's
    :func:`url_date_evidence` at ``capture`` if the caller has it (:func:`gather_evidence`), so it is
    read once.

    The published day is the chosen value's written day, or the publisher's where the page writes that
    instant again in another zone (:func:`publisher_day`).

    ``modified_date`` is the page's latest date: the structured modified values, the UTC day of the
    published value chosen (``published_date`` is the publisher's day, which can be the day before or
    after it: the instant still contradicts a claim) and :func:`latest_page_date` (any ISO date in the
    markup), or htmldate's answer as well when htmldate runs. ``modified_search=False`` skips that
    second htmldate pass in ``auto`` mode (see :func:`gather_evidence`).
    """
    if mode not in HTML_DATE_MODES:
        raise ValueError(f"html date mode must be one of {HTML_DATE_MODES}, got {mode!r}")
    if mode == "htmldate":
        return htmldate_evidence(html, url, capture, extensive_search=extensive_search, dropped=dropped)
    text = html.decode("utf-8", "replace") if isinstance(html, (bytes, bytearray)) else html
    if not isinstance(text, str):
        return htmldate_evidence(html, url, capture, extensive_search=extensive_search, dropped=dropped)
    found = structured_html_dates(tree if tree is not None else text)
    if url_date is _NOT_GIVEN:
        url_date = url_date_evidence(url, capture=capture) if url else None
    published = url_date
    published_utc_day = None  # the chosen value's UTC day: a contradiction of a claim, as the instant it is
    values = found["published"]
    if published is None:
        for i, raw in enumerate(values):
            iso = _check("published_date", raw, capture, dropped)
            published, published_utc_day = publisher_day(raw, iso, values[i + 1:], capture), _day(iso)
            if published is not None:
                break
    modified = [_day(_check("modified_date", raw, capture, dropped)) for raw in found["modified"]]
    modified.append(published_utc_day)
    if published is None and mode == "auto" and may_hold_day_date(text):
        # the markup's refused values are reported above, once
        found_by_htmldate = htmldate_evidence(text, url, capture, extensive_search=True, modified_extensive=False,
                                              modified_search=modified_search, dropped=dropped,
                                              report_markup=False)
        day = found_by_htmldate["published_date"]
        if day is not None and day[8:10] == "01" and not may_hold_day_date(text, year=day[:4]):
            found_by_htmldate["published_date"] = None  # htmldate's bare-year or month guess, not a day
        return found_by_htmldate
    modified.append(latest_page_date(text, capture))
    modified = [d for d in modified if d is not None]
    return {"published_date": published, "modified_date": max(modified) if modified else None}


def gather_evidence(*, warc_date: object = None, json_record: Optional[Mapping[str, Any]] = None,
                    http_headers: Any = None, html: Any = None, html_tree: Optional[HTMLTree] = None,
                    url: Optional[str] = None,
                    html_mode: str = "auto", extensive_search: bool = True,
                    dropped: Optional[list[Dropped]] = None, memento_datetime: object = None,
                    capture_uri: Optional[str] = None, arc_date: Optional[str] = None) -> dict[str, Optional[str]]:
    """Everything the reader needs, as keyword arguments for ``new_document``.

    ``crawl_date`` (and ``capture_source``) from the archive's capture evidence
    (:func:`capture_time.capture_evidence`: ``warc_date``, ``memento_datetime``,
    a replay ``capture_uri``, ``arc_date``) or ``json_record``
    (JSONL/Parquet), then HTTP, HTML, URL and input-field evidence, each bounded
    by the capture. ``html_tree``: the Resiliparse tree of ``html`` when extraction built one. Only keys
    with a value are returned.
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
    url_date = url_date_evidence(url, capture=crawl, dropped=dropped) if url else None
    if url:
        out["url_date"] = url_date
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
                                      modified_search=modified_search, dropped=dropped, tree=html_tree,
                                      url_date=url_date))
    return {k: v for k, v in out.items() if v is not None}
