"""Side-by-side speed of the WARC libraries and HTML-to-text extractors on real crawl files.

    python bench/readers_speed.py [--data ../shared/data/crawl] [--repeat 5]

Prints, for the same response records, records/s of fastwarc vs warcio (iterate
+ read payload) and pages/s of resiliparse vs trafilatura (HTML -> main text).
"""

from __future__ import annotations

import argparse
import glob
import io
import os
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crawl"


def fastwarc_payloads(blobs):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    out = []
    for blob in blobs:
        for rec in ArchiveIterator(io.BytesIO(blob), record_types=WarcRecordType.response, parse_http=True):
            out.append(rec.reader.read())
    return out


def warcio_payloads(blobs):
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for blob in blobs:
        for rec in ArchiveIterator(io.BytesIO(blob)):
            if rec.rec_type == "response":
                out.append(rec.content_stream().read())
    return out


def resiliparse_text(pages):
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return [extract_plain_text(bytes_to_str(p, detect_encoding(p)), main_content=True) for p in pages]


def trafilatura_text(pages):
    import trafilatura

    return [trafilatura.extract(p) or "" for p in pages]


def best_of(fn, arg, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.data, "*.warc.gz")))
    blobs = [Path(f).read_bytes() for f in files]
    t_fw, pages = best_of(fastwarc_payloads, blobs, args.repeat)
    t_wi, pages_wi = best_of(warcio_payloads, blobs, args.repeat)
    print(f"{len(files)} WARC files, {len(pages)} response records (warcio saw {len(pages_wi)})")
    print(f"  fastwarc  {len(pages) / t_fw:10.0f} records/s")
    print(f"  warcio    {len(pages_wi) / t_wi:10.0f} records/s   fastwarc/warcio = {t_wi / t_fw:.1f}x")
    t_rp, texts_rp = best_of(resiliparse_text, pages, args.repeat)
    t_tf, texts_tf = best_of(trafilatura_text, pages, max(1, args.repeat // 2))
    print(f"  resiliparse {len(pages) / t_rp:8.0f} pages/s  ({sum(map(len, texts_rp)) / len(pages):.0f} chars/page)")
    print(f"  trafilatura {len(pages) / t_tf:8.0f} pages/s  ({sum(map(len, texts_tf)) / len(pages):.0f} chars/page)"
          f"   resiliparse/trafilatura = {t_tf / t_rp:.1f}x")


if __name__ == "__main__":
    main()
