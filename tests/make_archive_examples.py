"""Write the README's real-archive example: python tests/make_archive_examples.py DIR

A Common Crawl 2008-style ARC (plain), a 2009-style ARC v2 (whole-file gzip), a Wayback export, a
WARC with resource/revisit records, a WARC/0.18 file and a dangling symlink,
built by the same fixtures as tests/test_read_archives.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_fixtures import arc_filedesc, arc_record, http_message, write_arc  # noqa: E402
from test_read_archives import PAGES, common_crawl_2008_records, wayback_records  # noqa: E402
from warc_fixtures import html_page, http_response_record, warc_record, warcinfo_record, write_warc  # noqa: E402


LETTERS = [
    "Dear Margaret, the orchard has come into blossom at last, a fortnight later than last spring, and the bees "
    "are so loud in the pear trees that I can hear them from the kitchen with the window shut.",
    "The parish council met on Tuesday to discuss the footbridge over the brook, which the winter floods carried "
    "half a mile downstream; the vote on a stone replacement was put off until the autumn.",
    "Our correspondent walked the old drovers' road from the market town to the coast in three days, sleeping in "
    "barns and noting every milestone, of which eleven survive in their original places.",
]


def crawl_2009_records() -> list[bytes]:
    """ARC v2 header lines (Result-code, Checksum, Location, Offset, Filename), whole-file gzip."""
    records = [arc_filedesc("crawl-002.arc", "20090917120000", version=2, cc_quirk=True)]
    for i, text in enumerate(LETTERS):
        page = html_page(f"Letter {i + 1}", [text]).encode()
        records.append(arc_record(f"http://letters.example/{2009 - i}/letter {i + 1}.html", f"2009091712000{i + 1}",
                                  http_message(page, (("Content-Type", "text/html"),
                                                      ("Last-Modified", "Mon, 01 Jun 2009 08:00:00 GMT")),
                                               colon=":"), version=2))
    return records


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_arc(out / "crawl-001-2008.arc", common_crawl_2008_records(), None)
    write_arc(out / "crawl-002-2009.arc.gz", crawl_2009_records(), whole_file=True)
    write_warc(out / "wayback-export.warc.gz", wayback_records())
    date = "2012-05-01T00:00:00Z"
    write_warc(out / "mixed-2012.warc.gz", [
        warcinfo_record(warc_date=date),
        warc_record("resource", PAGES["tale"].encode(), warc_date=date, target_uri="file:///site/tale.html",
                    content_type="text/html"),
        warc_record("revisit", b"HTTP/1.1 200 OK\r\n\r\n", warc_date=date, target_uri="http://e.example/",
                    content_type="application/http; msgtype=response")])
    write_warc(out / "heritrix1-2008.warc.gz", [r.replace(b"WARC/1.0", b"WARC/0.18", 1) for r in (
        warcinfo_record(warc_date="2008-04-30T20:48:25Z"),
        http_response_record("http://f.example/", PAGES["ahab"] + "<p>Heritrix 1.x</p>",
                             warc_date="2008-04-30T20:48:25Z"))])
    link = out / "moved-away.warc.gz"
    if not os.path.lexists(link):
        os.symlink(out / "no-such-file.warc.gz", link)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
