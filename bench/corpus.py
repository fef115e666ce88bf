"""End-to-end benchmark corpus: N real-looking web pages as WARC.gz (and the same documents as JSONL.gz).

    python bench/corpus.py --docs 100000 [--seed 0] [--out bench/_work/e2e_100000_s0]

Text comes from ``../shared/data`` (human and AI texts of ``ai-text/`` and the
Common Crawl pages of ``crawl/``): every page is a shuffle of 6-14 sentences of
one label's sentence pool, so pages are distinct even at 1M documents, and
keep their label's style. On top:

- 8 % of the pages are near-duplicate variants of an earlier page (word edits
  at 0-10 %, a header or footer line) and 2 % exact copies: the truth is in
  ``truth.jsonl`` (``url``, ``label``, ``cluster``, ``role``);
- capture dates spread over 2019-01 .. 2025-06 (both sides of the 2022-11-30
  cutoff); half of the pages carry ``article:published_time`` and a fifth a
  date in the URL; 25 % of the pages are AI text;
- pages are wrapped in a realistic article template (nav, header, article,
  related links, footer) and written 10,000 records per ``.warc.gz`` file, one
  gzip member per record, plus ``docs-*.jsonl.gz`` holding the same texts.

Deterministic for a seed and data folder; files are written by two processes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from near_dup_corpus import DATA, edit_text, load_texts  # noqa: E402
from warc_fixtures import encode_records, html_page, http_response_record  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"
PER_FILE = 10_000
NEAR_DUP_SHARE, EXACT_DUP_SHARE, AI_SHARE = 0.08, 0.02, 0.25
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentence_pools(data: Path = DATA) -> dict[str, list[str]]:
    """Sentences (8-60 words) of the human and of the AI texts."""
    pools: dict[str, list[str]] = {"human": [], "ai": []}
    for path in sorted((data / "ai-text").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                pools[rec["label"]].extend(s for s in _SENTENCE.split(rec["text"]) if 8 <= len(s.split()) <= 60)
    crawl_human = [text for rid, text in load_texts(data) if ".jsonl" in rid]
    pools["human"].extend(s for t in crawl_human for s in _SENTENCE.split(t) if 8 <= len(s.split()) <= 60)
    return pools


def _date(rng: random.Random) -> str:
    year = rng.choice([2019, 2020, 2021, 2022, 2022, 2023, 2024, 2025])
    month = rng.randrange(1, 7) if year == 2025 else rng.randrange(1, 13)
    return f"{year}-{month:02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"


def plan(n_docs: int, seed: int, pools: dict[str, list[str]]) -> list[dict]:
    """Every page of the corpus, in crawl order: text, label, url, dates, truth."""
    rng = random.Random(seed)
    vocab = sorted({w for s in pools["human"][:5000] for w in s.split() if w.isalpha()})
    pages: list[dict] = []
    for i in range(n_docs):
        capture = _date(rng)
        roll = rng.random()
        if pages and roll < NEAR_DUP_SHARE + EXACT_DUP_SHARE:
            parent = pages[rng.randrange(len(pages))]
            exact = roll < EXACT_DUP_SHARE
            paragraphs = parent["paragraphs"] if exact else edit_text("\n\n".join(parent["paragraphs"]), rng,
                                                                      vocab)[0].split("\n\n")
            page = dict(parent, paragraphs=paragraphs, role="exact_copy" if exact else "near_copy",
                        capture=max(capture, parent["capture"]))
        else:
            label = "ai" if rng.random() < AI_SHARE else "human"
            sentences = rng.sample(pools[label], rng.randint(6, 14))
            cut = sorted(rng.sample(range(1, len(sentences)), 2))
            paragraphs = [" ".join(sentences[a:b]) for a, b in zip([0] + cut, cut + [len(sentences)])]
            page = {"label": label, "paragraphs": paragraphs, "role": "original", "cluster": f"c{i:07d}",
                    "capture": capture, "title": " ".join(sentences[0].split()[:6])}
        published = page["capture"][:10] if rng.random() < 0.5 else None
        dated_url = rng.random() < 0.2
        slug = re.sub(r"[^a-z0-9]+", "-", page["title"].lower()).strip("-")[:60]
        path = f"{page['capture'][:10].replace('-', '/')}/{slug}" if dated_url else f"articles/{slug}-{i}"
        page = dict(page, url=f"https://www.site{rng.randrange(5000)}.example/{path}", published=published)
        pages.append(page)
    return pages


def _write_file(args: tuple[Path, int, list[dict]]) -> None:
    out, number, pages = args
    records = [http_response_record(p["url"], html_page(p["title"], p["paragraphs"], published=p["published"]),
                                    warc_date=p["capture"]) for p in pages]
    data, _ = encode_records(records, "gzip")
    (out / f"crawl-{number:05d}.warc.gz").write_bytes(data)
    lines = "".join(json.dumps({"id": p["url"], "text": "\n\n".join(p["paragraphs"]), "url": p["url"],
                                "metadata": {"warc_date": p["capture"]}}) + "\n" for p in pages)
    (out / f"docs-{number:05d}.jsonl.gz").write_bytes(gzip.compress(lines.encode(), mtime=0))


def build(n_docs: int, seed: int = 0, out: Path | None = None) -> Path:
    """Write the corpus (if not there yet) and return its directory."""
    out = out or WORK / f"e2e_{n_docs}_s{seed}"
    if (out / "truth.jsonl").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    pages = plan(n_docs, seed, sentence_pools())
    chunks = [(out, k, pages[start:start + PER_FILE]) for k, start in enumerate(range(0, n_docs, PER_FILE))]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_write_file, chunks))
    with open(out / "truth.jsonl", "w") as f:
        for p in pages:
            f.write(json.dumps({k: p[k] for k in ("url", "label", "cluster", "role", "capture")}) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = build(args.docs, args.seed, args.out)
    size = sum(f.stat().st_size for f in out.glob("*.warc.gz"))
    print(f"{out}: {args.docs} pages, {len(list(out.glob('*.warc.gz')))} WARC files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
