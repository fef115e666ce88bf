"""Side-by-side speed of provsieve's ARC reader and warcio's (arc2warc=True) on the same ARC file.

    python bench/arc_speed.py [FILE.arc[.gz] ...] [--repeat 5]

Without files, a well-formed ARC of 3,000 pages is generated (plain and gzip per
record) with the test fixtures, so that warcio reads it whole (it stops after
the first record of Common Crawl's 2008/2009 files). Records/s of iterating and
splitting each record into HTTP headers and payload.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from readers_speed import best_of  # noqa: E402 - bench/ is the script's folder


def generated() -> dict[str, bytes]:
    from archive_fixtures import arc_filedesc, arc_record, encode_arc, http_message
    from warc_fixtures import html_page

    pages = [http_message(html_page(f"P{i}", [f"Page number {i} of a long file, written by a person. " * 20])
                          .encode()) for i in range(3000)]
    records = [arc_filedesc("bench.arc", "20080101000000")]
    records += [arc_record(f"http://bench.example/{i}", "20080101000001", p) for i, p in enumerate(pages)]
    return {name: encode_arc(records, compression)[0]
            for name, compression in (("generated.arc", None), ("generated.arc.gz", "gzip"))}


def provsieve_records(data: bytes) -> int:
    from provsieve.transforms import read_arc

    n = 0
    for item in read_arc.iter_arc(io.BytesIO(data)):
        if isinstance(item, read_arc.ArcRecord) and read_arc.record_kind(item.header) is None:
            read_arc.http_parts(item.block, item.header.content_type)
            n += 1
    return n


WARCIO_ERRORS: dict[int, str] = {}


def warcio_records(data: bytes) -> int:
    """Response records warcio reads before the end or its first error (noted in WARCIO_ERRORS)."""
    import contextlib
    import os

    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # warcio warns on stderr per record
        try:
            for record in ArchiveIterator(io.BytesIO(data), arc2warc=True):
                if record.rec_type == "response":
                    record.content_stream().read()
                    n += 1
        except Exception as err:  # noqa: BLE001 - what a user of warcio would meet
            WARCIO_ERRORS[id(data)] = f"{type(err).__name__}: {str(err)[:60]}"
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    blobs = {f: Path(f).read_bytes() for f in args.files} or generated()
    for name, data in blobs.items():
        t_ps, n_ps = best_of(provsieve_records, data, args.repeat)
        t_wi, n_wi = best_of(warcio_records, data, args.repeat)
        error = WARCIO_ERRORS.get(id(data))
        print(f"{name}: provsieve {n_ps} records, {n_ps / t_ps:8.0f} records/s; warcio {n_wi} records, "
              f"{n_wi / t_wi:8.0f} records/s" + (f" (then {error})" if error else
                                                  f"; provsieve/warcio = {t_wi / t_ps * n_ps / max(n_wi, 1):.1f}x"))


if __name__ == "__main__":
    main()
