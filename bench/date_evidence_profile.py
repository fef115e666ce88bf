"""Where the date evidence's time goes, page by page: which path each page takes and what each part costs.

    python bench/date_evidence_profile.py [--docs 3000] [--real] [--guard] [--cprofile] [--dump FILE]
        # default: the first --docs pages of the bench corpus (bench/corpus.py, built if missing);
        # --real: the HTML pages of ../shared/data/crawl/*.warc.gz and pipeline/sample/sample.warc.gz

For every HTML page, as the reader sees it (decoded, Resiliparse already parsed it for extraction):

- the path ``auto`` takes: ``url`` (a URL date answers), ``markup`` (machine-readable markup answers),
  ``no_day`` (no date with a day in the page, ``may_hold_day_date``: htmldate is skipped), ``htmldate``
  (htmldate's full search);
- the time of each part: Resiliparse's parse (paid by extraction, for comparison), the whole
  ``gather_evidence`` call, and on the pages that reach htmldate: lxml's parse (htmldate's ``load_html``)
  and ``find_date`` on the parsed tree.

``--guard`` runs htmldate on the pages ``auto`` skips and counts what it finds there (days, months,
bare years, nothing): a day there would be a day lost. ``--dump FILE`` writes each page's URL and
``gather_evidence`` as a JSON line, to compare two versions of the code (run one with ``PYTHONPATH`` at a
copy of the other's ``provsieve`` package: it comes before the editable install) with ``diff``. ``--cprofile`` adds the top functions by cumulative time over all ``gather_evidence`` calls
(dateparser, lxml's cleaner, htmldate's extractors).
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import glob
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build  # noqa: E402

from provsieve.transforms import date_evidence  # noqa: E402
from provsieve.transforms.date_evidence_htmldate import _htmldate, htmldate_evidence, warm_up  # noqa: E402
from provsieve.transforms.date_evidence_url import url_date_evidence  # noqa: E402
from provsieve.transforms.date_evidence_html import may_hold_day_date, parse_html, structured_html_dates  # noqa: E402
from provsieve.transforms.dates import MIN_DATE, capture_date, parse_date  # noqa: E402
from provsieve.transforms.extract import extract_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL = sorted(glob.glob(str(ROOT / "../shared/data/crawl/*.warc.gz"))) + [str(ROOT / "pipeline/sample/sample.warc.gz")]


def pages(files: list[str], limit: int):
    """``(url, capture, http_headers, payload)`` of the HTML responses, at most ``limit``."""
    n = 0
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, parse_http=True, record_types=WarcRecordType.response):
                headers = rec.http_headers
                ctype = headers.get("Content-Type") if headers is not None else None
                if ctype is not None and "html" not in ctype.lower():
                    continue
                yield ((rec.headers.get("WARC-Target-URI") or "").strip("<>"), rec.headers.get("WARC-Date"),
                       dict(headers.astuples()) if headers is not None else {}, rec.reader.read())
                n += 1
                if n >= limit:
                    return


def answer_kind(published) -> str:
    """``day``, ``month`` (``YYYY-MM-01``), ``year`` (``YYYY-01-01``) or ``none``: what an htmldate answer can be."""
    if published is None:
        return "none"
    return "year" if published[5:10] == "01-01" else "month" if published[8:10] == "01" else "day"


def path_of(html: str, tree, url: str, crawl) -> str:
    """Which way ``auto`` answers this page (the same tests, in the same order, as ``html_date_evidence``)."""
    if url_date_evidence(url, capture=crawl):
        return "url"
    if any(parse_date(raw, now=crawl) for raw in structured_html_dates(tree)["published"]):
        return "markup"
    return "htmldate" if may_hold_day_date(html) else "no_day"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--guard", action="store_true",
                    help="run htmldate on the pages auto skips (no_day) and count what it finds there")
    ap.add_argument("--dump", help="write each page's URL and gather_evidence as a JSON line to this file")
    args = ap.parse_args()
    dumped: list[str] = []  # written at the end: no file left open if the loop raises
    files = REAL if args.real else sorted(glob.glob(str(build(20_000) / "*.warc.gz")))
    warm_up()
    times: dict[str, list[float]] = collections.defaultdict(list)
    paths: collections.Counter = collections.Counter()
    cost_by_path: dict[str, list[float]] = collections.defaultdict(list)
    prof = cProfile.Profile() if args.cprofile else None
    skipped_found: collections.Counter = collections.Counter()
    from htmldate.utils import load_html

    for url, warc_date, headers, payload in pages(files, args.docs):
        crawl = capture_date(warc_date)
        t0 = time.perf_counter()
        extracted = extract_text(payload, headers.get("Content-Type") or headers.get("content-type"))
        times["extract (Resiliparse parse + text)"].append(time.perf_counter() - t0)
        if extracted.html is None:
            continue
        t0 = time.perf_counter()
        parse_html(extracted.html)
        times["Resiliparse parse alone"].append(time.perf_counter() - t0)
        if prof:
            prof.enable()
        t0 = time.perf_counter()
        found = date_evidence.gather_evidence(warc_date=warc_date, http_headers=headers, url=url,
                                              html=extracted.html, html_tree=extracted.tree)
        spent = time.perf_counter() - t0
        if args.dump:
            dumped.append(json.dumps([url, found], sort_keys=True) + "\n")
        if prof:
            prof.disable()
        times["gather_evidence (auto)"].append(spent)
        path = path_of(extracted.html, extracted.tree, url, crawl)
        paths[path] += 1
        cost_by_path[path].append(spent)
        if path == "no_day" and args.guard:
            got = htmldate_evidence(extracted.html, url, crawl)["published_date"]
            skipped_found[answer_kind(got)] += 1
            if answer_kind(got) == "day":
                print(f"  skipped, htmldate finds {got[:10]}: {url[:100]}")
        if path == "htmldate":
            t0 = time.perf_counter()
            tree = load_html(extracted.html)
            times["htmldate pages: lxml parse (load_html)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _htmldate(tree, url=url, original=True, extensive=True, max_date=MIN_DATE.replace(year=2030, tzinfo=None))
            times["htmldate pages: find_date on the tree"].append(time.perf_counter() - t0)
    if args.dump:
        with open(args.dump, "w") as dump:
            dump.writelines(dumped)
    n = sum(paths.values())
    print(f"{n} HTML pages ({'real' if args.real else 'bench corpus'})")
    print(f"{'auto path':10} {'pages':>6} {'share':>6} {'ms/page':>8} {'total s':>8}")
    for path in ("url", "markup", "no_day", "htmldate"):
        c = cost_by_path.get(path, [])
        print(f"{path:10} {paths[path]:6} {100 * paths[path] / max(1, n):5.1f}% "
              f"{1000 * statistics.mean(c) if c else 0:8.3f} {sum(c):8.2f}")
    print(f"{'part':42} {'pages':>6} {'ms/page':>8} {'total s':>8}")
    for part, ts in times.items():
        print(f"{part:42} {len(ts):6} {1000 * statistics.mean(ts):8.3f} {sum(ts):8.2f}")
    if args.guard:
        print(f"htmldate on the {paths['no_day']} no_day pages: {skipped_found['day']} days, "
              f"{skipped_found['month']} months (YYYY-MM-01), {skipped_found['year']} bare years (YYYY-01-01), "
              f"{skipped_found['none']} nothing")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
