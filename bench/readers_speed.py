"""Side-by-side speed of the WARC libraries and HTML-to-text extractors on real crawl files.

    python bench/readers_speed.py [--data ../shared/data/crawl] [--repeat 5]

Prints, for the same response records, records/s of fastwarc vs warcio (iterate
+ read payload) and pages/s of resiliparse vs trafilatura (HTML -> main text),
then provsieve's own reader over the same files (``read_file``: every record
read, text extracted, timestamp evidence gathered), in documents/s. Run it with
``PYTHONPATH`` pointing at another checkout's ``provsieve`` package to compare
two versions of the reader side by side.
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


def provsieve_documents(files):
    from provsieve.transforms.read import read_file

    return [doc for path in files for doc in read_file(path)]


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
    print(f"  resiliparse {len(pages) / t_rp:8.0f} pages/s  ({sum(map(len, texts_rp)) / len(pages):.0f} chars/page)")
    try:
        t_tf, texts_tf = best_of(trafilatura_text, pages, max(1, args.repeat // 2))
        print(f"  trafilatura {len(pages) / t_tf:8.0f} pages/s  ({sum(map(len, texts_tf)) / len(pages):.0f} chars/page)"
              f"   resiliparse/trafilatura = {t_tf / t_rp:.1f}x")
    except ImportError:
        print("  trafilatura not installed (pip install -r bench/requirements.txt)")
    import provsieve.transforms.read as read_module

    t_ps, docs = best_of(provsieve_documents, files, args.repeat)
    print(f"  provsieve read_file {len(docs) / t_ps:8.0f} documents/s  ({len(docs)} documents, "
          f"{t_ps * 1000:.0f} ms; code from {Path(read_module.__file__).parent.parent})")


if __name__ == "__main__":
    main()
