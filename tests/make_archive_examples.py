"""Write the README's real-archive example: python tests/make_archive_examples.py DIR

A Common Crawl 2008-style ARC (plain and gzip per record), a Wayback export, a
WARC with resource/revisit records, a WARC/0.18 file and a dangling symlink,
built by the same fixtures as tests/test_read_archives.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_fixtures import write_arc  # noqa: E402
from test_read_archives import PAGES, common_crawl_2008_records, wayback_records  # noqa: E402
from warc_fixtures import http_response_record, warc_record, warcinfo_record, write_warc  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_arc(out / "crawl-001-2008.arc", common_crawl_2008_records(), None)
    write_arc(out / "crawl-002-2009.arc.gz", common_crawl_2008_records())
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
