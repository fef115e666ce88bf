"""Timestamp provenance: evidence sources, hostile values, tiers, policy, Beam."""

from __future__ import annotations

import re

import pytest

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from provsieve.transforms.document import new_document
from provsieve.transforms.date_evidence import gather_evidence, html_date_evidence
from provsieve.transforms.date_evidence_html import latest_page_date
from provsieve.transforms.date_evidence_http import http_date_evidence
from provsieve.transforms.date_evidence_json import capture_date_from_json, json_date_evidence
from provsieve.transforms.date_evidence_url import url_date_evidence
from provsieve.transforms.date_tiers import assign_created, is_trusted_human, normalize_cutoff
from provsieve.transforms.dates import Dropped, capture_date, parse_date, parse_date_reason
from provsieve.transforms.timestamps import TagTimestamps

CUTOFF = "2022-11-30"
CAPTURE_2024 = "2024-04-25T16:24:44Z"


def doc(**kw):
    base = dict(source_uri="s3://x/a.warc.gz", source_format="warc", source_index=0, text="t")
    base.update(kw)
    return new_document(**base)


# ---------------------------------------------------------------------------
# parse_date: formats and hostile values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("2019-07-17T13:39:42.000Z", "2019-07-17T13:39:42Z"),            # Dolma
    ("2019-07-17T12:15:59Z", "2019-07-17T12:15:59Z"),                # WARC-Date
    ("2019-07-16T12:00:00-0700", "2019-07-16T19:00:00Z"),             # offset, no colon
    ("2019-07-16T23:30:00+02:00", "2019-07-16T21:30:00Z"),
    ("2019-7-16", "2019-07-16T00:00:00Z"),                            # loose ISO
    ("2019-07-16 12:00", "2019-07-16T12:00:00Z"),                     # naive -> UTC
    ("Thu, 25 Apr 2024 16:24:44 GMT", "2024-04-25T16:24:44Z"),        # RFC 1123
    ("Thursday, 25-Apr-24 16:24:44 GMT", "2024-04-25T16:24:44Z"),     # RFC 850, 2-digit year
    ("Thu Apr 25 16:24:44 2024", "2024-04-25T16:24:44Z"),             # asctime
    ("March 03, 2018", "2018-03-03T00:00:00Z"),                       # text date
    ("06-Nov-08", "2008-11-06T00:00:00Z"),                            # 2-digit year
    ("20190717121559", "2019-07-17T12:15:59Z"),                       # ARC / Wayback
    (1563367182, "2019-07-17T12:39:42Z"),                             # epoch seconds
    (1563367182000, "2019-07-17T12:39:42Z"),                          # epoch ms
])
def test_parse_date_formats(value, expected):
    assert parse_date(value, now=CAPTURE_2024) == expected


@pytest.mark.parametrize("value,reason", [
    ("2008-10-294T05:21:46-0700", "malformed"),   # ClueWeb09 WARC-Date
    ("null", "null"),                             # Wayback export
    (None, "null"),
    ("", "null"),
    ("0000-00-00 00:00:00", "null"),
    ("garbage", "malformed"),
    ("10", "malformed"),                          # dateutil would invent month/year
    ("2019", "malformed"),                        # year only: not a date
    ("2019-02-30", "malformed"),                  # impossible day
    ("2019-13-01T00:00:00Z", "malformed"),
    ("2019-07-16T10:00:00+25:00", "malformed"),   # impossible offset
    ("1994-12-31T23:59:59Z", "before_1995"),
    ("Sunday, 06-Nov-94 08:49:37 GMT", "before_1995"),
    ("Thu, 01 Jan 1970 00:00:00 GMT", "before_1995"),
    ("2099-01-01", "future"),
    ("Thu, 31-Dec-37 23:55:55 GMT", "before_1995"),  # '37 seen in 2024 is 1937
    (True, "malformed"),
    (float("nan"), "malformed"),
    ({"a": 1}, "malformed"),
    ("x" * 500, "malformed"),
])
def test_parse_date_hostile(value, reason):
    assert parse_date_reason(value, now=CAPTURE_2024) == (None, reason)


@pytest.mark.parametrize("value", [
    "Thu, 25 Apr 2024 16:24:44 GMT", "Fri, 01 Jan 1999 00:00:00 GMT", "Sun, 29 Feb 2004 23:59:59 GMT",
    "Sun, 31 Feb 2019 08:49:37 GMT", "Sat, 31 Dec 2016 23:59:60 GMT", "Thu, 25 Apr 2099 16:24:44 GMT",
    "Wed, 25 Apr 1990 16:24:44 GMT", "thu, 25 Apr 2024 16:24:44 GMT", "Thu, 25 Apr 2024 16:24:44 +0200",
])
def test_http_fixdate_fast_path_matches_email_utils(value, monkeypatch):
    """The IMF-fixdate shortcut gives what the general path (email.utils) gives, refusals included."""
    from provsieve.transforms import dates

    fast = parse_date_reason(value, now=CAPTURE_2024)
    monkeypatch.setattr(dates, "_IMF_FIXDATE", re.compile(r"(?!)"))  # never matches: the general path
    assert fast == parse_date_reason(value, now=CAPTURE_2024)


def test_parse_date_future_is_relative_to_now():
    assert parse_date("2020-01-01", now="2019-06-01T00:00:00Z") is None
    assert parse_date("2019-06-01T20:00:00Z", now="2019-06-01T00:00:00Z") is not None  # 1-day slack


def test_two_digit_year_pivots_on_reference():
    assert parse_date("06-Nov-98", now="2009-01-01T00:00:00Z") == "1998-11-06T00:00:00Z"
    assert parse_date("06-Nov-08", now="2009-01-01T00:00:00Z") == "2008-11-06T00:00:00Z"


def test_normalize_cutoff():
    assert normalize_cutoff("2022-11-30") == "2022-11-30T00:00:00Z"
    with pytest.raises(ValueError):
        normalize_cutoff("30/11/2022")


# ---------------------------------------------------------------------------
# capture time
# ---------------------------------------------------------------------------

def test_capture_date_clueweb_and_null_are_dropped_and_reported():
    dropped: list[Dropped] = []
    assert capture_date("2008-10-294T05:21:46-0700", dropped=dropped) is None
    assert capture_date("null", dropped=dropped) is None
    assert [(d.field, d.reason) for d in dropped] == [("crawl_date", "malformed"),
                                                     ("crawl_date", "null")]
    assert capture_date("2009-01-13T18:05:00Z") == "2009-01-13T18:05:00Z"
    assert capture_date("20090113180500") == "2009-01-13T18:05:00Z"  # ARC


def test_capture_from_json_variants():
    dolma = {"created": "2019-07-17T13:39:42.000Z", "added": "2024-06-02T04:08:58.883Z",
             "metadata": {"warc_date": "2019-07-17T12:15:59.000Z",
                          "warc_url": "http://16thfleet.wikidot.com/chatter:anewhome"}}
    assert capture_date_from_json(dolma) == "2019-07-17T12:15:59Z"
    c4 = {"text": "x", "timestamp": "2019-04-25T12:57:54Z", "url": "https://a.b/c"}
    assert capture_date_from_json(c4) == "2019-04-25T12:57:54Z"
    wayback = {"WARC-Date": "null", "Memento-Datetime": "Tue, 05 Mar 2013 10:00:00 GMT"}
    dropped: list[Dropped] = []
    assert capture_date_from_json(wayback, dropped=dropped) == "2013-03-05T10:00:00Z"
    assert dropped == [Dropped("crawl_date", "null", "null")]
    assert capture_date_from_json({"added": "2021-01-01T00:00:00Z"}) == "2021-01-01T00:00:00Z"
    assert capture_date_from_json({"created": "2019-01-01"}) is None  # a claim, not a capture
    assert capture_date_from_json({}) is None


def test_json_created_field_is_input_claim():
    rec = {"created": "2018-05-01T00:00:00Z", "url": "https://x.org/2018/05/01/post"}
    ev = json_date_evidence(rec, "2019-07-17T12:15:59Z")
    assert ev == {"created": "2018-05-01T00:00:00Z", "created_source": "input",
                  "url_date": "2018-05-01T00:00:00Z"}
    dropped: list[Dropped] = []
    assert json_date_evidence({"created": "2030-01-01"}, "2019-07-17T12:15:59Z",
                              dropped=dropped) == {}
    assert dropped[0].reason == "future"


# ---------------------------------------------------------------------------
# HTTP headers
# ---------------------------------------------------------------------------

def test_http_evidence():
    h = {"date": "Thu, 25 Apr 2024 16:24:44 GMT", "Last-Modified": "Tue, 05 Mar 2019 10:00:00 GMT"}
    assert http_date_evidence(h, CAPTURE_2024) == {
        "http_date": "2024-04-25T16:24:44Z", "http_last_modified": "2019-03-05T10:00:00Z"}
    # list of pairs, as some header maps iterate
    assert http_date_evidence([("Date", "Thu, 25 Apr 2024 16:24:44 GMT")], CAPTURE_2024)[
        "http_date"] == "2024-04-25T16:24:44Z"


def test_http_future_last_modified_dropped():
    dropped: list[Dropped] = []
    h = {"Date": "Thu, 25 Apr 2024 16:24:44 GMT", "Last-Modified": "Fri, 01 Jan 2100 00:00:00 GMT"}
    assert http_date_evidence(h, CAPTURE_2024, dropped=dropped)["http_last_modified"] is None
    assert dropped == [Dropped("http_last_modified", "Fri, 01 Jan 2100 00:00:00 GMT", "future")]
    # after the server's own Date but within the capture slack: still future
    h = {"Date": "Thu, 25 Apr 2024 16:24:44 GMT", "Last-Modified": "Thu, 25 Apr 2024 20:00:00 GMT"}
    assert http_date_evidence(h, CAPTURE_2024)["http_last_modified"] is None


def test_http_clock_skew_drops_both():
    dropped: list[Dropped] = []
    h = {"Date": "Mon, 01 Jan 2001 00:00:00 GMT", "Last-Modified": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert http_date_evidence(h, CAPTURE_2024, dropped=dropped) == {
        "http_date": None, "http_last_modified": None}
    assert {d.reason for d in dropped} == {"clock_skew"}


def test_http_garbage_headers_never_raise():
    # ClueWeb09-ja: the HTTP "headers" are HTML fragments
    h = {"": "font-size: 12px", '<a href="http': "//x/"}
    assert http_date_evidence(h, None) == {"http_date": None, "http_last_modified": None}
    assert http_date_evidence(None, None) == {"http_date": None, "http_last_modified": None}
    assert http_date_evidence({"Date": "null", "Last-Modified": "0"}, None) == {
        "http_date": None, "http_last_modified": None}


def test_http_first_date_headers_win_in_one_pass():
    h = [(b"Last-Modified ", b"Tue, 05 Mar 2019 10:00:00 GMT"), ("DATE", "Thu, 25 Apr 2024 16:24:44 GMT"),
         ("date", "Fri, 26 Apr 2024 16:24:44 GMT"), ("last-modified", "Wed, 06 Mar 2019 10:00:00 GMT")]
    assert http_date_evidence(h, CAPTURE_2024) == {
        "http_date": "2024-04-25T16:24:44Z", "http_last_modified": "2019-03-05T10:00:00Z"}


def test_http_header_map_that_breaks_keeps_what_came_before():
    def broken():
        yield "Date", "Thu, 25 Apr 2024 16:24:44 GMT"
        raise RuntimeError("truncated header block")

    class Unprintable:
        def __str__(self):
            raise ValueError("no text")

    assert http_date_evidence(broken(), CAPTURE_2024) == {"http_date": "2024-04-25T16:24:44Z",
                                                          "http_last_modified": None}
    # a value that cannot be read is no evidence for its own header only
    h = [("Date", Unprintable()), ("Last-Modified", "Tue, 05 Mar 2019 10:00:00 GMT")]
    assert http_date_evidence(h, CAPTURE_2024) == {"http_date": None,
                                                   "http_last_modified": "2019-03-05T10:00:00Z"}


# ---------------------------------------------------------------------------
# URL
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("url,expected", [
    ("https://x.com/2019/07/16/slug.html", "2019-07-16T00:00:00Z"),
    ("https://x.com/news/2019-07-16-slug", "2019-07-16T00:00:00Z"),
    ("<https://x.com/2019_7_6_slug>", "2019-07-06T00:00:00Z"),       # wget's <...>
    ("https://x.com/2019/13/16/slug", None),                         # no month 13
    ("https://x.com/2019/02/30/slug", None),                         # impossible
    ("https://x.com/1994/07/16/slug", None),                         # pre-1995
    ("https://x.com/api?api-version=2019-07-01", None),              # query: not a date
    ("https://2019-07-16.example.com/", None),                       # host: not a date
    ("https://x.com/id/120190716123/", None),                        # digits run
    (None, None),
    ("", None),
])
def test_url_date(url, expected):
    assert url_date_evidence(url, capture=CAPTURE_2024) == expected


def test_url_date_after_capture_dropped():
    dropped: list[Dropped] = []
    assert url_date_evidence("https://x.com/2025/01/01/a", capture=CAPTURE_2024,
                             dropped=dropped) is None
    assert dropped[0] == Dropped("url_date", "2025-01-01", "future")


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

OG_PAGE = """<html><head><title>t</title>
<meta property="article:published_time" content="2019-03-04T10:00:00+01:00">
<meta property="article:modified_time" content="2020-05-06T10:00:00+01:00">
</head><body><article><p>Some text about things that happened.</p></article></body></html>"""

JSONLD_PAGE = """<html><head><title>t</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "x",
 "datePublished": "2018-02-03T08:00:00Z", "dateModified": "2018-02-05T09:00:00Z"}
</script></head><body><p>Body text of the article goes here.</p></body></html>"""

TIME_PAGE = """<html><head><title>t</title></head><body><article>
<time datetime="2017-09-10T12:00:00-05:00" pubdate>September 10, 2017</time>
<p>Body text of the post.</p></article></body></html>"""

MANY_DATES_PAGE = """<html><head><title>Archive</title>
<meta property="article:published_time" content="2019-03-04">
</head><body><p>Post from 2019.</p>
<ul class="recent"><li><time datetime="2015-01-02">Jan 2</time></li>
<li><time datetime="2023-06-07">Jun 7</time></li>
<li><time datetime="2021-08-09">Aug 9</time></li></ul>
<script>var state = {"updatedAt": "2023-09-01T10:00:00Z"};</script>
</body></html>"""

FUTURE_PAGE = """<html><head><title>t</title>
<meta property="article:published_time" content="2031-01-01T00:00:00Z">
<meta name="date" content="2019-05-06">
</head><body><p>Text.</p></body></html>"""

PRE1995_PAGE = """<html><head><title>t</title>
<meta property="article:published_time" content="1990-01-01T00:00:00Z">
</head><body><p>Text.</p></body></html>"""


def test_html_open_graph():
    ev = html_date_evidence(OG_PAGE, "https://x.com/a", CAPTURE_2024)
    assert ev == {"published_date": "2019-03-04T00:00:00Z", "modified_date": "2020-05-06T00:00:00Z"}


def test_html_jsonld():
    ev = html_date_evidence(JSONLD_PAGE, "https://x.com/a", CAPTURE_2024)
    assert ev == {"published_date": "2018-02-03T00:00:00Z", "modified_date": "2018-02-05T00:00:00Z"}


def test_html_time_element_keeps_local_day():
    ev = html_date_evidence(TIME_PAGE, None, CAPTURE_2024)
    assert ev["published_date"] == "2017-09-10T00:00:00Z"


def test_html_url_date_first_like_htmldate():
    ev = html_date_evidence(OG_PAGE, "https://x.com/2019/03/01/a", CAPTURE_2024)
    assert ev["published_date"] == "2019-03-01T00:00:00Z"
    assert ev["modified_date"] == "2020-05-06T00:00:00Z"  # URL withheld for modified


def test_html_many_dates_modified_is_latest():
    ev = html_date_evidence(MANY_DATES_PAGE, None, CAPTURE_2024)
    assert ev["published_date"] == "2019-03-04T00:00:00Z"
    assert ev["modified_date"] == "2023-09-01T00:00:00Z"
    assert latest_page_date(MANY_DATES_PAGE, "2023-07-01T00:00:00Z") == "2023-06-07T00:00:00Z"


def _latest_day_reference(html: str, limit: str):
    """latest_page_date's rule spelled out: every ISO-day match not glued to a digit, a real day, in range."""
    import datetime as dt

    best = None
    for m in re.finditer(r"(?:19|20)\d\d-[01]\d-[0-3]\d", html):
        s, e = m.span()
        if (s and html[s - 1].isdigit()) or (e < len(html) and html[e].isdigit()):
            continue
        try:
            dt.date(int(m[0][:4]), int(m[0][5:7]), int(m[0][8:10]))
        except ValueError:
            continue
        if "1995-01-01" <= m[0] <= limit and (best is None or m[0] > best):
            best = m[0]
    return None if best is None else best + "T00:00:00Z"


def test_latest_page_date_matches_its_rule_on_generated_pages():
    import random

    rng = random.Random(7)
    pieces = ["2019-05-06", "1995-01-01", "1994-12-31", "2023-07-03", "2023-07-02", "2023-07-01", "2019-02-30",
              "2020-13-01",
              "12019-05-07", "2021-01-015", "2019-05-2019-05-08", "2019-05-", "2020-", "-0", "-1", "19", "20",
              "\u0663", "20\u0661\u0669-05-06", " ", "x", "<time datetime=", "7", "-"]
    for _ in range(20_000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        # capture 2023-07-01: the day limit is 2023-07-02 (one day of slack)
        assert latest_page_date(html, "2023-07-01T00:00:00Z") == _latest_day_reference(html, "2023-07-02"), html
    assert latest_page_date("on 1995-01-01 only", "2023-07-01T00:00:00Z") == "1995-01-01T00:00:00Z"
    assert latest_page_date("2019-02-30 and 2019-02-28", "2023-07-01T00:00:00Z") == "2019-02-28T00:00:00Z"
    assert latest_page_date("no day here", "2023-07-01T00:00:00Z") is None
    assert latest_page_date("2023-07-03 is after the limit", "2023-07-01T00:00:00Z") is None


def test_latest_page_date_scans_the_first_four_million_characters():
    from provsieve.transforms.date_evidence_html import _SCAN_LIMIT

    for gap in range(-12, 3):  # a day that ends exactly at the limit counts; one that crosses it does not
        html = "x" * (_SCAN_LIMIT - 10 + gap) + "2019-05-06 tail"
        expected = "2019-05-06T00:00:00Z" if gap <= 0 else None
        assert latest_page_date(html, "2023-07-01T00:00:00Z") == expected, gap
        assert _latest_day_reference(html[:_SCAN_LIMIT], "2023-07-02") == expected, gap


def test_html_future_and_pre1995_dropped_and_reported():
    dropped: list[Dropped] = []
    ev = html_date_evidence(FUTURE_PAGE, None, CAPTURE_2024, dropped=dropped)
    assert ev["published_date"] == "2019-05-06T00:00:00Z"
    assert ("published_date", "future") in {(d.field, d.reason) for d in dropped}
    dropped = []
    ev = html_date_evidence(PRE1995_PAGE, None, CAPTURE_2024, dropped=dropped)
    assert ev["published_date"] is None
    assert ("published_date", "before_1995") in {(d.field, d.reason) for d in dropped}


def test_html_dates_after_capture_are_not_candidates():
    ev = html_date_evidence(OG_PAGE, None, "2019-12-31T00:00:00Z")
    assert ev["published_date"] == "2019-03-04T00:00:00Z"
    assert ev["modified_date"] != "2020-05-06T00:00:00Z"


@pytest.mark.parametrize("html", ["", "   ", "http://example.com/", b"\x00\xff\xfe",
                                  "<html", "no markup at all", None, 42])
def test_html_hostile_input_never_raises(html):
    ev = html_date_evidence(html, "https://x.com/", CAPTURE_2024)
    assert set(ev) == {"published_date", "modified_date"}


def test_html_fast_mode():
    ev = html_date_evidence(JSONLD_PAGE, None, CAPTURE_2024, extensive_search=False)
    assert ev["published_date"] == "2018-02-03T00:00:00Z"


def test_gather_evidence_warc_and_json():
    ev = gather_evidence(warc_date="2024-04-25T16:24:44Z",
                         http_headers={"Date": "Thu, 25 Apr 2024 16:24:44 GMT"},
                         html=OG_PAGE, url="https://x.com/2019/03/04/a")
    assert ev == {"crawl_date": CAPTURE_2024, "capture_source": "warc_date", "http_date": CAPTURE_2024,
                  "url_date": "2019-03-04T00:00:00Z", "published_date": "2019-03-04T00:00:00Z",
                  "modified_date": "2020-05-06T00:00:00Z"}
    dropped: list[Dropped] = []
    ev = gather_evidence(json_record={"created": "2018-01-01", "timestamp": "2019-04-25T12:57:54Z",
                                      "url": "https://x.com/2018/01/01/a"}, dropped=dropped)
    assert ev == {"crawl_date": "2019-04-25T12:57:54Z", "capture_source": "input", "created": "2018-01-01T00:00:00Z",
                  "created_source": "input", "url_date": "2018-01-01T00:00:00Z"}
    ev = gather_evidence(warc_date="2008-10-294T05:21:46-0700", url="http://x.jp/", dropped=dropped)
    assert "crawl_date" not in ev and dropped[-1].reason == "malformed"


def test_html_evidence_takes_the_url_date_it_is_given():
    # gather_evidence hands the URL date it read to the HTML step, which then does not read it again
    given = html_date_evidence(OG_PAGE, "https://x.com/2019/03/01/a", CAPTURE_2024, url_date=None)
    assert given["published_date"] == "2019-03-04T00:00:00Z"  # None given: the markup's day
    given = html_date_evidence(OG_PAGE, "https://x.com/a", CAPTURE_2024, url_date="2019-03-01T00:00:00Z")
    assert given["published_date"] == "2019-03-01T00:00:00Z"


def test_gather_evidence_reads_the_url_date_once_and_never_the_json_one_for_the_page(monkeypatch):
    import provsieve.transforms.date_evidence as date_evidence
    calls = []
    real = date_evidence.url_date_evidence
    monkeypatch.setattr(date_evidence, "url_date_evidence", lambda *a, **k: calls.append(a) or real(*a, **k))
    ev = gather_evidence(warc_date="2024-04-25T16:24:44Z", html=OG_PAGE, url="https://x.com/2019/03/01/a")
    assert (ev["url_date"], ev["published_date"]) == ("2019-03-01T00:00:00Z", "2019-03-01T00:00:00Z")
    assert len(calls) == 1
    # a JSON record's own URL date is URL evidence, not the page's published date (no url given to the page)
    ev = gather_evidence(json_record={"timestamp": "2024-04-25T12:57:54Z", "url": "https://x.com/2018/01/01/a"},
                         html="<html><head><title>t</title></head><body><p>Plain words.</p></body></html>")
    assert ev["url_date"] == "2018-01-01T00:00:00Z" and "published_date" not in ev


# ---------------------------------------------------------------------------
# tier rules
# ---------------------------------------------------------------------------

def test_captured_before_cutoff_is_proof_whatever_the_page_says():
    d = assign_created(doc(crawl_date="2020-08-08T17:27:41Z", published_date="2020-06-16T00:00:00Z",
                           modified_date="2020-08-01T00:00:00Z"), CUTOFF)
    assert (d.pre_cutoff, d.pre_cutoff_evidence) == (True, "captured")
    assert (d.created, d.created_source) == ("2020-06-16T00:00:00Z", "published")
    # page claims nothing at all: still captured, created = capture
    d = assign_created(doc(crawl_date="2020-08-08T17:27:41Z"), CUTOFF)
    assert (d.pre_cutoff_evidence, d.created_source, d.created) == (
        "captured", "capture", "2020-08-08T17:27:41Z")


def test_captured_depends_on_cutoff():
    d = doc(crawl_date="2020-08-08T17:27:41Z")
    assert assign_created(d, "2020-08-08").pre_cutoff_evidence == "none"
    assert assign_created(d, "2020-08-09").pre_cutoff_evidence == "captured"


def test_claimed_by_url_date():
    d = assign_created(doc(crawl_date=CAPTURE_2024, url_date="2020-03-25T00:00:00Z",
                           published_date="2020-03-25T00:00:00Z",
                           modified_date="2020-03-25T00:00:00Z",
                           http_last_modified="2024-04-01T00:00:00Z"), CUTOFF)
    assert (d.pre_cutoff, d.pre_cutoff_evidence) == (True, "claimed")
    assert d.created_source == "published"


def test_claimed_by_input_created_field():
    d = assign_created(doc(crawl_date=CAPTURE_2024, created="2019-01-01T00:00:00Z",
                           created_source="input"), CUTOFF)
    assert (d.pre_cutoff_evidence, d.created_source) == ("claimed", "input")


def test_published_alone_is_not_enough():
    d = assign_created(doc(crawl_date=CAPTURE_2024, published_date="2019-01-17T00:00:00Z",
                           modified_date="2019-01-17T00:00:00Z"), CUTOFF)
    assert (d.pre_cutoff, d.pre_cutoff_evidence) == (False, "none")
    assert d.created == "2019-01-17T00:00:00Z"


def test_published_with_stale_last_modified_is_claimed():
    d = assign_created(doc(crawl_date=CAPTURE_2024, http_date=CAPTURE_2024,
                           published_date="2019-01-17T00:00:00Z",
                           http_last_modified="2019-02-01T00:00:00Z"), CUTOFF)
    assert d.pre_cutoff_evidence == "claimed"
    # a fresh Last-Modified (dynamic page) corroborates nothing
    d = assign_created(doc(crawl_date=CAPTURE_2024, http_date=CAPTURE_2024,
                           published_date="2019-01-17T00:00:00Z",
                           http_last_modified="2024-04-25T10:00:00Z"), CUTOFF)
    assert d.pre_cutoff_evidence == "none"


def test_modified_after_cutoff_blocks_claim():
    d = assign_created(doc(crawl_date=CAPTURE_2024, url_date="2020-03-25T00:00:00Z",
                           modified_date="2023-01-05T00:00:00Z"), CUTOFF)
    assert d.pre_cutoff_evidence == "none"


def test_contradicting_page_date_blocks_claim():
    d = assign_created(doc(crawl_date=CAPTURE_2024, url_date="2020-03-25T00:00:00Z",
                           published_date="2023-02-01T00:00:00Z"), CUTOFF)
    assert d.pre_cutoff_evidence == "none"


def test_claim_margin():
    d = doc(crawl_date=CAPTURE_2024, url_date="2022-11-29T00:00:00Z")
    assert assign_created(d, CUTOFF).pre_cutoff_evidence == "none"  # within the 1-day margin
    assert assign_created(d, CUTOFF, claim_margin_days=0).pre_cutoff_evidence == "claimed"


def test_hostile_columns_are_revalidated_and_reported():
    dropped: list[Dropped] = []
    d = assign_created(doc(crawl_date="2008-10-294T05:21:46-0700",
                           published_date="1990-01-01T00:00:00Z",
                           url_date="2019-01-01T00:00:00Z",
                           created="2030-01-01T00:00:00Z", created_source="input"),
                       CUTOFF, dropped=dropped)
    assert d.crawl_date is None and d.published_date is None
    assert {(x.field, x.reason) for x in dropped} == {
        ("crawl_date", "malformed"), ("published_date", "before_1995"), ("created", "future")}
    # no capture: a URL date alone is still a claim, never "captured"
    assert d.pre_cutoff_evidence == "claimed" and d.created_source == "url"


def test_claims_after_capture_are_dropped():
    d = assign_created(doc(crawl_date="2019-01-01T00:00:00Z", published_date="2020-01-01T00:00:00Z"),
                       "2018-06-01")
    assert d.published_date is None
    assert d.pre_cutoff_evidence == "none" and d.created_source == "capture"


def test_no_evidence_at_all():
    d = assign_created(doc(), CUTOFF)
    assert (d.created, d.created_source, d.pre_cutoff, d.pre_cutoff_evidence) == (
        None, None, False, "none")


def test_created_never_after_capture():
    d = assign_created(doc(crawl_date="2019-01-01T00:00:00Z",
                           published_date="2019-01-01T12:00:00Z"), CUTOFF)
    assert d.created == "2019-01-01T00:00:00Z"


# ---------------------------------------------------------------------------
# policy
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("tier,trust,expected", [
    ("captured", "captured", True), ("claimed", "captured", False), ("none", "captured", False),
    ("captured", "claimed", True), ("claimed", "claimed", True), ("none", "claimed", False),
    ("captured", "none", False), ("claimed", "none", False), ("none", "none", False),
])
def test_is_trusted_human(tier, trust, expected):
    assert is_trusted_human(doc()._replace(pre_cutoff_evidence=tier), trust) is expected


def test_is_trusted_human_rejects_unknown_policy():
    with pytest.raises(ValueError):
        is_trusted_human(doc(), "everything")


# ---------------------------------------------------------------------------
# Beam
# ---------------------------------------------------------------------------

def test_tag_timestamps_pipeline_with_policy():
    docs = [
        doc(source_index=0, crawl_date="2020-08-08T17:27:41Z"),
        doc(source_index=1, crawl_date=CAPTURE_2024, url_date="2019-07-16T00:00:00Z"),
        doc(source_index=2, crawl_date=CAPTURE_2024, published_date="2019-07-16T00:00:00Z"),
        doc(source_index=3, crawl_date="2008-10-294T05:21:46-0700"),
    ]
    with TestPipeline(runner=FnApiRunner()) as p:
        tagged = p | beam.Create(docs) | TagTimestamps(CUTOFF)
        tiers = tagged | "tiers" >> beam.Map(lambda d: (d.source_index, d.pre_cutoff_evidence,
                                                        d.created_source))
        assert_that(tiers, equal_to([(0, "captured", "capture"), (1, "claimed", "url"),
                                     (2, "none", "published"), (3, "none", None)]),
                    label="tiers")
        for trust, expected in (("captured", [0]), ("claimed", [0, 1]), ("none", [])):
            kept = (tagged | f"trust_{trust}" >> beam.Filter(is_trusted_human, trust)
                    | f"idx_{trust}" >> beam.Map(lambda d: d.source_index))
            assert_that(kept, equal_to(expected), label=f"policy_{trust}")
    result = p.result
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "timestamps"}
    assert counters["tier.captured"] == 1 and counters["tier.claimed"] == 1
    assert counters["tier.none"] == 2
    assert counters["created_source.url"] == 1 and counters["created_source.none"] == 1
    assert counters["bad_value"] == 1 and counters["bad_value.crawl_date"] == 1


def test_tag_timestamps_rejects_bad_cutoff():
    with pytest.raises(ValueError):
        TagTimestamps("not a date")


# --- html date modes -----------------------------------------------------------

STRUCTURED_PAGE = """<html><head>
<meta property="article:published_time" content="2019-05-12T06:00:00-04:00">
<meta property='article:modified_time' content='2020-01-02T00:00:00Z'>
<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2019-05-11"}</script>
</head><body><p>Text written long ago. See also 2021-03-04.</p></body></html>"""


def test_structured_html_dates_reads_meta_jsonld_and_time():
    from provsieve.transforms.date_evidence_html import structured_html_dates

    found = structured_html_dates(STRUCTURED_PAGE + '<time class="entry-date published" datetime="2018-01-01">')
    assert found["published"] == ["2019-05-12T06:00:00-04:00", "2019-05-11", "2018-01-01"]
    assert found["modified"] == ["2020-01-02T00:00:00Z"]


def test_auto_mode_answers_from_markup_without_htmldate(monkeypatch):
    from provsieve.transforms import date_evidence

    def no_htmldate(*args, **kwargs):
        raise AssertionError("htmldate must not run when the markup answers")

    monkeypatch.setattr(date_evidence, "htmldate_evidence", no_htmldate)
    got = date_evidence.html_date_evidence(STRUCTURED_PAGE, "https://x.example/post", "2022-01-01T00:00:00Z")
    assert got == {"published_date": "2019-05-12T00:00:00Z", "modified_date": "2021-03-04T00:00:00Z"}


def test_auto_mode_falls_back_to_htmldate_and_structured_mode_does_not():
    from provsieve.transforms.date_evidence import html_date_evidence

    page = ('<html><body><article><h1>Post</h1><p class="byline">By Ann, <span class="date">March 4, 2019</span>'
            '</p><p>Text.</p></article></body></html>')
    auto = html_date_evidence(page, "https://x.example/post", "2022-01-01T00:00:00Z", mode="auto")
    assert auto["published_date"] == "2019-03-04T00:00:00Z"
    structured = html_date_evidence(page, "https://x.example/post", "2022-01-01T00:00:00Z", mode="structured")
    assert structured["published_date"] is None


def test_auto_mode_without_markup_dates_gives_htmldates_published_date():
    from provsieve.transforms.date_evidence import html_date_evidence

    page = ("<html><body><article><h1>Post</h1><p>Published on March 4, 2019 by Ann. The bridge opened in 1998."
            "</p></article></body></html>")
    capture = "2022-01-01T00:00:00Z"
    auto = html_date_evidence(page, "https://x.example/post", capture, mode="auto")
    extensive = html_date_evidence(page, "https://x.example/post", capture, mode="htmldate")
    assert auto["published_date"] == extensive["published_date"] == "2019-03-04T00:00:00Z"


def test_auto_mode_skips_htmldate_on_a_page_without_a_year(monkeypatch):
    from provsieve.transforms import date_evidence

    def no_htmldate(*args, **kwargs):
        raise AssertionError("htmldate must not run on a page that spells no year")

    page = "<html><body><article><h1>Post</h1><p>Posted on March 4 by Ann, 12 comments.</p></article></body></html>"
    assert date_evidence.html_date_evidence(page, "https://x.example/post", "2022-01-01T00:00:00Z",
                                            mode="htmldate")["published_date"] is None
    monkeypatch.setattr(date_evidence, "htmldate_evidence", no_htmldate)
    got = date_evidence.html_date_evidence(page, "https://x.example/post", "2022-01-01T00:00:00Z")
    assert got == {"published_date": None, "modified_date": None}


@pytest.mark.parametrize("fragment,holds", [
    ("no year here, 12 comments", False), ("since 1994", False), ("2019", False), ("id=20190304", True),
    ("04.03.19", True), ("4/3/19", True), ("width: 1280px; version 3.2", False), ("1989 and 2040", False),
    ("March 4, 2019", True), ("4 de septiembre de 2019", True), ("2019年3月4日", True), ("2019-03-04", True),
    ("&copy; 2019 Example Inc.", False), ("don&#x27;t, in 2008 &#8212; the", False),
    ("3&nbsp;de&nbsp;septiembre&nbsp;de&nbsp;2019", True), ("12 comments" + " " * 60 + "in 2019", False),
    ("in 2015, 30 people", False), ("2015, 30(1): 183-188", True), ("4 3 2019", True), ("il 4 settembre 2019", True),
    ("4 EKİM 2019", True), ("4.IX.2019", True), ("Mar. 4, 2019", True), ("4 de 2019", False), ("<h1>Title</h1> in 2019", False), ("col-6\">2019", True),
])
def test_may_hold_day_date(fragment, holds):
    from provsieve.transforms.date_evidence_html import may_hold_day_date

    assert may_hold_day_date(f"<p>{fragment}</p>") is holds


def test_year_starts_are_those_of_one_year_scan():
    import random

    from provsieve.transforms.date_evidence_html import _year_starts

    rng = random.Random(11)
    pieces = ["199", "20", "1", "2", "0", "3", "9", "19", "2020", "1992", "x", " ", "\u0663"]
    for _ in range(20_000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert _year_starts(html) == [m.start() for m in re.finditer(r"199\d|20[0-3]\d", html)], html


def test_auto_mode_skips_htmldate_where_it_could_only_guess_a_year(monkeypatch):
    from provsieve.transforms import date_evidence

    page = ("<html><body><article><h1>Post</h1><p>The bridge opened in 2008 and closed in 2015.</p></article>"
            "<footer>&copy; 2019 Example</footer></body></html>")
    capture = "2022-01-01T00:00:00Z"
    guessed = date_evidence.html_date_evidence(page, "https://x.example/post", capture, mode="htmldate")
    assert guessed["published_date"][5:10] == "01-01"  # htmldate's bare-year guess, never a day

    def no_htmldate(*args, **kwargs):
        raise AssertionError("htmldate must not run on a page with no date that has a day")

    monkeypatch.setattr(date_evidence, "htmldate_evidence", no_htmldate)
    assert date_evidence.html_date_evidence(page, "https://x.example/post", capture)["published_date"] is None


def test_structured_dates_from_the_extraction_tree_match_the_markup():
    from provsieve.transforms.date_evidence_html import structured_html_dates
    from provsieve.transforms.extract import extract_text

    page = STRUCTURED_PAGE.replace("<head>", '<head><!-- <meta name="date" content="2001-01-01"> -->'
                                   '<meta name="DC.date.issued" content="2019-05-12T06:00:00&#43;02:00">')
    extracted = extract_text(page.encode(), "text/html")
    assert extracted.tree is not None and extracted.text
    found = structured_html_dates(extracted.tree)
    assert found == structured_html_dates(page)  # the tree extraction left is the page as parsed
    assert found["published"][:2] == ["2019-05-12T06:00:00+02:00", "2019-05-12T06:00:00-04:00"]  # entity decoded
    assert "2001-01-01" not in found["published"]  # a commented-out tag is no markup


def test_url_date_comes_first_as_in_htmldate():
    from provsieve.transforms.date_evidence import html_date_evidence

    got = html_date_evidence(STRUCTURED_PAGE, "https://x.example/2019/05/10/post", "2022-01-01T00:00:00Z")
    assert got["published_date"] == "2019-05-10T00:00:00Z"


def test_auto_fallback_runs_htmldate_modified_pass_only_when_a_claim_is_possible(monkeypatch):
    from provsieve.transforms import date_evidence, date_evidence_htmldate

    calls = []
    real = date_evidence_htmldate._htmldate

    def counting(tree, **kwargs):
        calls.append(kwargs["original"])
        return real(tree, **kwargs)

    monkeypatch.setattr(date_evidence_htmldate, "_htmldate", counting)
    page = "<html><body><article><p>Published on March 4, 2019 by Ann.</p></article></body></html>"
    date_evidence.gather_evidence(warc_date="2024-01-01T00:00:00Z", html=page, url="https://x.example/post",
                                  http_headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert calls == [True]  # no Last-Modified: the page cannot be `claimed`, its modified date decides nothing
    calls.clear()
    date_evidence.gather_evidence(warc_date="2024-01-01T00:00:00Z", html=page, url="https://x.example/post",
                                  http_headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT",
                                                "Last-Modified": "Tue, 05 Mar 2019 00:00:00 GMT"})
    assert calls == [True, False]


def test_canonical_fast_path_agrees_with_the_general_parser():
    from provsieve.transforms.dates import parse_date_reason

    now = "2024-06-01T00:00:00Z"
    values = ["2019-05-12T10:20:30Z", "2024-06-01T23:59:59Z", "2024-06-02T00:00:01Z", "2024-06-03T00:00:00Z",
              "1994-12-31T23:59:59Z", "1995-01-01T00:00:00Z", "2019-02-30T00:00:00Z", "2019-13-01T00:00:00Z",
              "2019-01-01T24:00:00Z", "0999-01-01T00:00:00Z", "2020-02-29T12:00:00Z", "2021-02-29T12:00:00Z"]
    for value in values:
        # a trailing space is stripped by the general parser and keeps the fast path out
        assert parse_date_reason(value, now=now) == parse_date_reason(value + " ", now=now), value


def test_refused_markup_dates_are_reported_once_when_htmldate_takes_over():
    # auto mode: no usable published date in the markup, so htmldate runs; the refused values count once
    for mode in ("auto", "structured", "htmldate"):
        dropped: list[Dropped] = []
        html_date_evidence(PRE1995_PAGE, None, CAPTURE_2024, mode=mode, dropped=dropped)
        refused = [(d.field, d.value) for d in dropped if d.reason == "before_1995"]
        assert refused and len(refused) == len(set(refused)), (mode, dropped)


def test_reader_reads_markup_dates_from_the_extraction_tree(tmp_path, monkeypatch):
    """Each HTML page is parsed once: the reader hands the date evidence the tree extraction built."""
    from provsieve.transforms import date_evidence_html
    from provsieve.transforms.read import read_file
    from warc_fixtures import html_page, http_response_record, write_warc

    page = html_page("Gardens", ["Gardening is the practice of growing and cultivating plants."],
                     published="2019-05-12T06:00:00Z", modified="2020-01-02T00:00:00Z")
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, [http_response_record("https://a.example/garden", page, warc_date="2024-01-01T00:00:00Z")])

    def no_second_parse(html):
        raise AssertionError("the reader must not parse the page again for its dates")

    monkeypatch.setattr(date_evidence_html, "parse_html", no_second_parse)
    (doc,) = read_file(str(path))
    assert doc.published_date == "2019-05-12T00:00:00Z" and doc.modified_date == "2020-01-02T00:00:00Z"


def test_auto_mode_drops_htmldates_bare_year_guess_but_keeps_a_first_of_the_month_the_page_spells():
    from provsieve.transforms.date_evidence import html_date_evidence

    capture = "2022-01-01T00:00:00Z"
    guess = ("<html><body><article><h1>Post</h1><p>Posted on March 4 by Ann, 12 comments.</p></article>"
             "<footer>&copy; 2019 Example</footer></body></html>")  # a day without a year, a year without a day
    assert html_date_evidence(guess, "https://x.example/post", capture, mode="htmldate")["published_date"] \
        == "2019-01-01T00:00:00Z"
    assert html_date_evidence(guess, "https://x.example/post", capture)["published_date"] is None
    spelled = ("<html><body><article><h1>Post</h1><p>Published on January 1, 2019 by Ann.</p></article>"
               "</body></html>")
    assert html_date_evidence(spelled, "https://x.example/post", capture)["published_date"] \
        == html_date_evidence(spelled, "https://x.example/post", capture, mode="htmldate")["published_date"] \
        == "2019-01-01T00:00:00Z"
