"""Measure timestamp evidence on real crawl pages.

For every HTML response in the WARC files: the capture date, HTTP Date /
Last-Modified, URL date, htmldate's published/modified dates (extensive search
on and off, timed), and the tier :func:`assign_created` gives at a cutoff.

    /work/venv/bin/python bench/timestamp_evidence.py [--cutoff 2022-11-30] \
        [--show] [files...]      # default: /work/shared/data/crawl/*.warc.gz

``--show`` prints one line per page (for spot checks: grep the date in the page).

``--modes`` compares the ``--html-dates`` modes (htmldate, auto, structured)
page by page: time, published dates found, agreement with htmldate.

    /work/venv/bin/python bench/timestamp_evidence.py --modes \
        /work/shared/data/crawl/*.warc.gz pipeline/sample/sample.warc.gz

``--reader`` instead reads every input (JSONL too) through the project's reader
(``provsieve.transforms.read.read_file``, which calls ``gather_evidence``) and
tallies what ``TagTimestamps`` would put in the manifest: documents per tier and
per ``created_source``, and bad values, at each ``--cutoff``.

    /work/venv/bin/python bench/timestamp_evidence.py --reader \
        --cutoff 2022-11-30 --cutoff 2020-01-01 '/work/shared/data/crawl/*'
"""

from __future__ import annotations

import argparse
import collections
import glob
import statistics
import time

from fastwarc.warc import ArchiveIterator, WarcRecordType

from provsieve.transforms.document import new_document
from provsieve.transforms.date_evidence import html_date_evidence
from provsieve.transforms.date_evidence_htmldate import _load_tree, warm_up
from provsieve.transforms.date_evidence_http import http_date_evidence
from provsieve.transforms.date_evidence_url import url_date_evidence
from provsieve.transforms.date_tiers import assign_created
from provsieve.transforms.dates import Dropped, capture_date

DEFAULT_GLOB = "/work/shared/data/crawl/*.warc.gz"


def _decode(body: bytes, content_type: str | None) -> str:
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    for enc in filter(None, (charset, "utf-8")):
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    try:  # ClueWeb09-ja: EUC-JP / Shift_JIS without a usable header
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        return bytes_to_str(body, detect_encoding(body))
    except Exception:  # noqa: BLE001
        return body.decode("utf-8", "replace")


def html_pages(files: list[str]):
    """``(path, index, record, html, url)`` for every non-empty HTML response record of ``files``."""
    for path in files:
        with open(path, "rb") as fh:
            for i, rec in enumerate(ArchiveIterator(fh, parse_http=True,
                                                    record_types=WarcRecordType.response)):
                headers = rec.http_headers
                ctype = headers.get("Content-Type") if headers is not None else None
                if ctype is not None and "html" not in ctype.lower():
                    continue
                body = rec.reader.read()
                if not body.strip():
                    continue
                yield path, i, rec, _decode(body, ctype), (rec.headers.get("WARC-Target-URI") or "").strip("<>")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--cutoff", action="append")
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--reader", action="store_true")
    ap.add_argument("--modes", action="store_true")
    args = ap.parse_args()
    args.cutoff = args.cutoff or ["2022-11-30"]
    if args.reader:
        return via_reader(args)
    if args.modes:
        return compare_modes(args.files or sorted(glob.glob(DEFAULT_GLOB)))
    args.cutoff = args.cutoff[0]
    files = args.files or sorted(glob.glob(DEFAULT_GLOB))
    # dateparser (htmldate's fallback) compiles its locale tables on first use:
    # seconds, once per process. Warm it up so per-page times are steady state.
    warm_up()

    times = {True: [], False: []}
    found = collections.Counter()
    agree = collections.Counter()
    tiers = collections.Counter()
    sources = collections.Counter()
    bad = collections.Counter()
    pages = 0
    slowest: list[tuple[float, str]] = []
    for path, i, rec, html, url in html_pages(files):
        pages += 1
        headers = rec.http_headers
        dropped: list[Dropped] = []
        crawl = capture_date(rec.headers.get("WARC-Date"), dropped=dropped)
        ev = http_date_evidence(headers, crawl, dropped=dropped)
        ev["url_date"] = url_date_evidence(url, capture=crawl, dropped=dropped)
        tree = _load_tree(html)
        results = {}
        for ext in (False, True):
            t0 = time.perf_counter()
            # the first call in the loop also pays no parse: tree is shared
            results[ext] = html_date_evidence(
                tree, url, crawl, extensive_search=ext,
                dropped=dropped if ext else None)
            times[ext].append(time.perf_counter() - t0)
            if ext:  # noqa: SIM102
                slowest.append((times[ext][-1], url))
        ev.update(results[True])
        for ext in (False, True):
            for k in ("published_date", "modified_date"):
                if results[ext][k]:
                    found[(k, ext)] += 1
        agree["published same (fast vs extensive)"] += (
            results[True]["published_date"] == results[False]["published_date"])
        for d in dropped:
            bad[(d.field, d.reason)] += 1
        doc = new_document(source_uri=path, source_format="warc", source_index=i,
                           text="", url=url, crawl_date=crawl, **ev)
        doc = assign_created(doc, args.cutoff)
        tiers[doc.pre_cutoff_evidence] += 1
        sources[doc.created_source] += 1
        if args.show:
            print(f"{path.rsplit('/', 1)[-1][:22]:22} {url[:70]:70} "
                  f"crawl={crawl} pub={ev.get('published_date')} "
                  f"pub_fast={results[False]['published_date']} "
                  f"mod={ev.get('modified_date')} url={ev.get('url_date')} "
                  f"lm={ev.get('http_last_modified')} -> {doc.pre_cutoff_evidence} "
                  f"created={doc.created} ({doc.created_source})")

    print(f"\nHTML pages: {pages}  (files: {len(files)}, cutoff {args.cutoff})")
    for ext in (False, True):
        ts = times[ext]
        if ts:
            print(f"html_date_evidence extensive_search={ext!s:5}: "
                  f"mean {1000 * statistics.mean(ts):.1f} ms, median "
                  f"{1000 * statistics.median(ts):.1f} ms, p90 "
                  f"{1000 * sorted(ts)[int(0.9 * len(ts))]:.1f} ms, max {1000 * max(ts):.0f} ms "
                  f"per page (2 htmldate calls, tree shared); "
                  f"published found {found[('published_date', ext)]}, "
                  f"modified found {found[('modified_date', ext)]}")
    print("slowest (extensive):", [(f"{1000 * t:.0f} ms", u) for t, u in sorted(slowest)[-3:]])
    print(f"published_date identical fast vs extensive: {agree.most_common()}")
    print(f"tiers: {dict(tiers)}")
    print(f"created_source: {dict(sources)}")
    print(f"bad values: {dict(bad)}")


def compare_modes(files: list[str]) -> None:
    """``--html-dates`` modes side by side on every HTML page: time per page, published dates found,
    and agreement with htmldate's extensive search (the ``htmldate`` mode)."""
    warm_up()
    modes = ("htmldate", "auto", "structured")
    times: dict[str, list[float]] = {m: [] for m in modes}
    found, same = collections.Counter(), collections.Counter()
    differ: list[tuple[str, str, str]] = []
    for _, _, rec, html, url in html_pages(files):
        crawl = capture_date(rec.headers.get("WARC-Date"))
        published = {}
        for mode in modes:
            t0 = time.perf_counter()
            published[mode] = html_date_evidence(html, url, crawl, mode=mode)["published_date"]
            times[mode].append(time.perf_counter() - t0)
            found[mode] += published[mode] is not None
            same[mode] += published[mode] == published["htmldate"]
        if published["auto"] != published["htmldate"]:
            differ.append((url[:70], str(published["htmldate"])[:10], str(published["auto"])[:10]))
    pages = len(times["auto"])
    print(f"{pages} HTML pages in {len(files)} files")
    for mode in modes:
        print(f"--html-dates {mode:10}: {1000 * statistics.mean(times[mode]):6.2f} ms/page mean, "
              f"published date on {found[mode]} pages, same as htmldate on {same[mode]}")
    print("htmldate vs auto where they differ (url, htmldate, auto):")
    for row in differ:
        print("  ", *row)


def via_reader(args: argparse.Namespace) -> None:
    from provsieve.transforms.read import read_file

    patterns = args.files or ["/work/shared/data/crawl/*"]
    files = sorted(f for p in patterns for f in glob.glob(p))
    docs = []
    t0 = time.perf_counter()
    for path in files:
        docs.extend(read_file(path))
    elapsed = time.perf_counter() - t0
    print(f"read {len(docs)} records from {len(files)} files in {elapsed:.1f} s "
          f"(including HTML extraction and all date evidence)")
    readable = [d for d in docs if d.reject_reason is None]
    for cutoff in args.cutoff:
        per_file: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        sources = collections.Counter()
        bad = collections.Counter()
        for d in readable:
            dropped: list[Dropped] = []
            out = assign_created(d, cutoff, dropped=dropped)
            per_file[d.source_uri.rsplit("/", 1)[-1]][out.pre_cutoff_evidence] += 1
            sources[out.created_source or "none"] += 1
            for x in dropped:
                bad[(x.field, x.reason)] += 1
        total = collections.Counter()
        for c in per_file.values():
            total.update(c)
        print(f"\ncutoff {cutoff}: {len(readable)} readable documents")
        print(f"  tiers: {dict(total)}")
        for name, c in sorted(per_file.items()):
            print(f"    {name}: {dict(c)}")
        print(f"  created_source: {dict(sources)}")
        print(f"  bad values seen again at tag time: {dict(bad)}")
    fields = ("crawl_date", "http_date", "http_last_modified", "published_date",
              "modified_date", "url_date", "created")
    print("\nevidence present (readable documents): " + ", ".join(
        f"{f}={sum(getattr(d, f) is not None for d in readable)}" for f in fields))


if __name__ == "__main__":
    main()
