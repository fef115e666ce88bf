"""A small crawl salted with every kind of hostile input provsieve must survive.

``build_salted_corpus(directory, seed)`` writes the files and returns, per
file, the reasons the reader must give (``None`` for a good document). Used by
``tests/test_reliability.py``; fast (< 1 s) and deterministic for a seed.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Optional

import pyarrow as pa
import pyarrow.parquet as pq

from warc_fixtures import encode_records, html_page, http_response_record, tiny_png, zstd_frame

LARGE_DOC_BYTES = 50 * 1024 * 1024
WORDS = ("river mill ledger harvest winter lantern orchard letter station bridge market chapel meadow "
         "engine harbour cottage garden journey evening morning village field").split()


def _paragraphs(rng: random.Random, n: int = 3) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))).capitalize() + "."
            for _ in range(n)]


def _page(rng: random.Random, i: int, date: str = "2021-05-05T05:05:05Z", **kwargs) -> bytes:
    return http_response_record(f"https://salted.example/{i}", html_page(f"Page {i}", _paragraphs(rng)),
                                warc_date=date, **kwargs)


def build_salted_corpus(directory: Path, seed: int = 0) -> dict[str, list[Optional[str]]]:
    """Write the salted corpus into ``directory``; return ``{file name: expected reasons}``."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[Optional[str]]] = {}

    # 1. A healthy WARC with hostile records inside.
    wrong_length = _page(rng, 100).replace(b"Content-Length: ", b"Content-Length: 9", 1)  # WARC length x10+
    records = [
        _page(rng, 1),
        http_response_record("https://salted.example/image.png", tiny_png(), warc_date="2021-05-05T05:05:05Z",
                             content_type="image/png"),
        http_response_record("https://salted.example/doc.pdf", b"%PDF-1.7\n" + bytes(rng.randbytes(300)),
                             warc_date="2021-05-05T05:05:05Z", content_type="application/pdf"),
        http_response_record("https://salted.example/lying.html", b"PK\x03\x04" + bytes(rng.randbytes(300)),
                             warc_date="2021-05-05T05:05:05Z", content_type="text/html"),  # a zip claiming HTML
        http_response_record("https://salted.example/empty", "<html><body></body></html>",
                             warc_date="2021-05-05T05:05:05Z"),
        http_response_record("https://salted.example/blank", "<html><body>  \n\t  </body></html>",
                             warc_date="2021-05-05T05:05:05Z"),
        http_response_record("https://salted.example/latin1",
                             html_page("Café", ["Un café crème à côté de l'église, s'il vous plaît."]).encode("latin-1"),
                             warc_date="2021-05-05T05:05:05Z", content_type="text/html"),  # charset undeclared
        http_response_record("https://salted.example/bad-utf8", bytes(range(0x80, 0x100)) * 30,
                             warc_date="2021-05-05T05:05:05Z", content_type="text/plain; charset=utf-8"),
        http_response_record("https://salted.example/large", b"<html><body><p>" + b"a " * (LARGE_DOC_BYTES // 2)
                             + b"</p></body></html>", warc_date="2021-05-05T05:05:05Z"),
        _page(rng, 2).replace(b"WARC-Date:", b"\x00\xff\xfeGARBAGE", 1),
        _page(rng, 3),
    ]
    data, _ = encode_records(records, "gzip")
    (directory / "hostile-records.warc.gz").write_bytes(data)
    expected["hostile-records.warc.gz"] = [None, "binary_content", "binary_content", "binary_content",
                                           "empty_text", "empty_text", None, "bad_encoding", "too_large",
                                           "malformed_header", None]

    # 2. A gzip WARC truncated at a random offset inside its 4th record: the break is reported once, on the
    #    record it cut (if fastwarc saw its header) or as the file's last row.
    records = [_page(rng, 10 + i) for i in range(6)]
    data, offsets = encode_records(records, "gzip")
    cut = rng.randint(offsets[3] + 20, offsets[4] - 10)
    (directory / "truncated.warc.gz").write_bytes(data[:cut])
    expected["truncated.warc.gz"] = [None, None, None, "truncated_file"]

    # 3. A zstd WARC whose last frame is cut short.
    frames = [zstd_frame(_page(rng, 20 + i)) for i in range(3)]
    (directory / "cut.warc.zst").write_bytes(b"".join(frames)[:-25])
    expected["cut.warc.zst"] = [None, None, "truncated_file"]

    # 4. A WARC record whose Content-Length is wrong (too long): the rest of the file is unreadable.
    (directory / "wrong-length.warc").write_bytes(_page(rng, 30) + wrong_length)
    expected["wrong-length.warc"] = [None, "truncated_record"]

    # 5. JSONL with a broken line, a record without text, and an empty text.
    lines = [json.dumps({"text": " ".join(_paragraphs(rng, 1)), "url": "https://j.example/1"}),
             "{this is not json",
             json.dumps({"title": "no text field"}),
             json.dumps({"text": "   "}),
             json.dumps({"text": " ".join(_paragraphs(rng, 1)), "url": "https://j.example/2"})]
    (directory / "mixed.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    expected["mixed.jsonl.gz"] = [None, "unreadable_record", "missing_text_field", "empty_text", None]

    # 6. Parquet without the text column.
    pq.write_table(pa.table({"body": ["x", "y"], "url": ["u1", "u2"]}), directory / "no-text-column.parquet")
    expected["no-text-column.parquet"] = ["missing_text_field", "missing_text_field"]

    # 7. A file that cannot be opened (not WARC, not JSONL, not Parquet).
    (directory / "garbage.warc.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(rng.randbytes(200)))
    expected["garbage.warc.gz"] = ["truncated_file"]
    return expected
