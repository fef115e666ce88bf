"""Published-date accuracy by ``--html-dates`` mode on real pages whose date is known, blinded.

    python bench/date_accuracy.py [--cutoff 2022-11-30] [--show] [files...]
        # default: ../shared/data/crawl/*.warc.gz and pipeline/sample/sample.warc.gz

Known dates come from the pages themselves, and the source is hidden from the extractor:

- ``url``: the URL path states the day (``/2019/07/16/``). The extractor gets the site's root URL instead,
  and every copy of that date path in the HTML (canonical link, ``og:url``, share links) is blanked.
- ``markup``: no URL date, but the machine-readable markup states the published day (``article:published_time``,
  JSON-LD ``datePublished``, ``<time pubdate>``), all its published values the same day. Every copy of those
  raw values in the HTML is blanked.

For each mode: the share of pages where the published date is the known day, a wrong day, or none;
the time per page; and false pre-cutoff claims (pages dated on or after the cutoff that
:func:`assign_created` nevertheless puts in the ``claimed`` tier, from the blinded evidence).
"""

from __future__ import annotations

import argparse
import collections
import glob
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from date_evidence_profile import answer_kind  # noqa: E402
from timestamp_evidence import html_pages  # noqa: E402

from provsieve.transforms.date_evidence import HTML_DATE_MODES, html_date_evidence  # noqa: E402
from provsieve.transforms.date_evidence_html import may_hold_day_date, structured_html_dates  # noqa: E402
from provsieve.transforms.date_evidence_htmldate import htmldate_evidence  # noqa: E402
from provsieve.transforms.date_evidence_htmldate import warm_up  # noqa: E402
from provsieve.transforms.date_evidence_http import http_date_evidence  # noqa: E402
from provsieve.transforms.date_evidence_url import _URL_DATE, url_date_evidence  # noqa: E402
from provsieve.transforms.date_tiers import assign_created, normalize_cutoff  # noqa: E402
from provsieve.transforms.dates import capture_date, parse_date, written_day  # noqa: E402
from provsieve.transforms.document import new_document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = sorted(glob.glob(str(ROOT / "../shared/data/crawl/*.warc.gz"))) + [
    str(ROOT / "pipeline/sample/sample.warc.gz")]
_ROOT_URL = re.compile(r"^([a-z][a-z0-9+.-]*://[^/?#]*)", re.I)


def blind(html: str, url: str, crawl: Optional[str]) -> Optional[tuple[str, str, str, str]]:
    """``(truth_source, truth_day, html, url)`` with the page's own day hidden, or None if it states none.

    ``url``: the URL path's day; the site's root URL is given instead and the date path blanked in the HTML.
    ``markup``: the machine-readable published day as written (:func:`written_day`), if every published value
    in the markup gives that one day; every copy of those raw values blanked.
    """
    truth = url_date_evidence(url, capture=crawl) if url else None
    if truth is not None:
        m = _URL_DATE.search(url.split("://", 1)[-1].split("/", 1)[-1])
        root = _ROOT_URL.match(url)
        return "url", truth, html.replace(m.group(0), "x") if m else html, (root[1] + "/" if root else "")
    raws = structured_html_dates(html)["published"]
    days = {written_day(raw, parse_date(raw, now=crawl)) for raw in raws} - {None}
    if len(days) != 1:
        return None  # none, or the markup disagrees with itself: not a known day
    for raw in raws:
        html = html.replace(raw, "")
    return "markup", days.pop(), html, url


def blinded_pages(files: list[str]):
    """``(truth_source, truth_day, html, url, record)`` for every page with a known day, its source hidden."""
    for _, _, rec, html, url in html_pages(files):
        blinded = blind(html, url, capture_date(rec.headers.get("WARC-Date")))
        if blinded is not None:
            yield (*blinded, rec)


def day_verdict(got: Optional[str], truth: str) -> str:
    """``exact`` (same day), ``wrong`` or ``none``."""
    return "none" if got is None else ("exact" if got[:10] == truth[:10] else "wrong")


def falsely_claimed(evidence: dict, url: Optional[str], crawl: Optional[str], http: dict, truth: str,
                    cutoff: str) -> bool:
    """A page dated on or after ``cutoff`` that :func:`assign_created` puts in the ``claimed`` tier."""
    doc = assign_created(new_document(source_uri="x", source_format="warc", source_index=0, text="",
                                      url=url, crawl_date=crawl, **http, **evidence), cutoff)
    return truth >= normalize_cutoff(cutoff) and doc.pre_cutoff_evidence == "claimed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--cutoff", default="2022-11-30")
    ap.add_argument("--show", action="store_true", help="one line per page where a mode misses")
    ap.add_argument("--guard", action="store_true",
                    help="also check may_hold_day_date on every HTML page: what htmldate finds on the pages it skips")
    args = ap.parse_args()
    warm_up()
    cutoff = normalize_cutoff(args.cutoff)
    modes = ("htmldate",) + tuple(m for m in HTML_DATE_MODES if m != "htmldate")
    outcome = {m: collections.Counter() for m in modes}
    times = {m: [] for m in modes}
    false_claims = collections.Counter()
    late = collections.Counter()
    for source, truth, html, url, rec in blinded_pages(args.files or DEFAULT_FILES):
        crawl = capture_date(rec.headers.get("WARC-Date"))
        http = http_date_evidence(rec.http_headers, crawl)
        late[source] += truth >= cutoff
        for mode in modes:
            t0 = time.perf_counter()
            ev = html_date_evidence(html, url, crawl, mode=mode)
            times[mode].append(time.perf_counter() - t0)
            got = ev["published_date"]
            verdict = day_verdict(got, truth)
            outcome[mode][(source, verdict)] += 1
            outcome[mode][("all", verdict)] += 1
            false_claims[mode] += falsely_claimed(ev, url, crawl, http, truth, args.cutoff)
            if args.show and verdict != "exact":
                print(f"  {mode:10} {source:6} truth {truth[:10]} got {str(got)[:10]:10} {url[:80]}")
    n = {s: sum(v for (src, _), v in outcome[modes[0]].items() if src == s) for s in ("url", "markup", "all")}
    print(f"pages with a known day: {n['all']} (url {n['url']}, markup {n['markup']}); "
          f"dated on or after {args.cutoff}: {sum(late.values())}")
    print(f"{'mode':10} {'ms/page':>8} {'exact all':>10} {'exact url':>10} {'exact markup':>13} "
          f"{'wrong':>6} {'none':>5} {'false claims':>13}")
    for mode in modes:
        o = outcome[mode]
        pct = {s: 100 * o[(s, 'exact')] / n[s] if n[s] else 0.0 for s in n}
        print(f"{mode:10} {1000 * statistics.mean(times[mode]):8.2f} "
              f"{o[('all', 'exact')]:4} {pct['all']:4.1f}% {o[('url', 'exact')]:4} {pct['url']:4.1f}% "
              f"{o[('markup', 'exact')]:6} {pct['markup']:4.1f}% {o[('all', 'wrong')]:6} {o[('all', 'none')]:5} "
              f"{false_claims[mode]:13}")
    if args.guard:
        check_guard(args.files or DEFAULT_FILES)


def check_guard(files: list[str]) -> None:
    """How many pages ``auto`` skips (no year with a day or month number near it) and what htmldate finds there.

    The guard is sound if htmldate returns no day on them: only a bare year (``YYYY-01-01``), a month
    (``YYYY-MM-01``) or nothing. ``day`` counts the other answers: each would be a page where skipping lost
    a day htmldate gives.
    """
    pages = skipped = 0
    found: collections.Counter = collections.Counter()
    for _, _, rec, html, url in html_pages(files):
        pages += 1
        if may_hold_day_date(html):
            continue
        skipped += 1
        crawl = capture_date(rec.headers.get("WARC-Date"))
        got = htmldate_evidence(html, url, crawl)["published_date"]
        kind = answer_kind(got)
        found[kind] += 1
        if kind == "day":
            print(f"  skipped, htmldate finds {got[:10]}: {url[:100]}")
    print(f"may_hold_day_date: {skipped} of {pages} HTML pages hold no year with a number near it; htmldate "
          f"finds there: {found['day']} days, {found['month']} months (YYYY-MM-01), {found['year']} bare years "
          f"(YYYY-01-01), {found['none']} nothing")


if __name__ == "__main__":
    main()
