"""Near-duplicate corpus with ground truth, built from the real texts in ../shared/data.

    python bench/near_dup_corpus.py --docs 10000 [--seed 0] [--out bench/_work/near_dup_10000_s0.jsonl]

Distinct base texts (human texts first, then AI texts and crawl pages when more
are needed; texts under 20 words and any text sharing >= 20 % of its word
5-grams with an earlier one are dropped, so different clusters really differ).
About 45 % of the bases stay single; the others get copies, each made from the
base or (one in five) from an earlier copy, with a random mix of:
word substitutions / insertions / deletions at a rate drawn from
0-30 %, a reorder of two paragraphs (or sentences), and a boilerplate header
and/or footer. Every line: ``id``, ``text``, ``url``, ``crawl_date``,
``cluster`` (the base's id; the truth) and ``edit`` (what was done).
Deterministic for a given seed and data folder.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WORK = Path(__file__).resolve().parent / "_work"
EDIT_RATES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
HEADERS = ("Home | News | About us | Contact | Subscribe to {site} newsletter",
           "Skip to main content {site} Menu Search Log in Register",
           "You are here: Home > Articles > {site} archive")
FOOTERS = ("Copyright © 2023 {site}. All rights reserved. Privacy policy | Terms of use",
           "Share this: Facebook Twitter Email Print. Related posts on {site}",
           "Posted in Uncategorized. Leave a comment. Powered by WordPress. {site}")


def load_texts(data: Path = DATA, human_only: bool = False) -> list[tuple[str, str]]:
    """``(id, text)`` of the human texts of ai-text/, then (unless human_only) AI texts, crawl pages."""
    human, other = [], []
    for path in sorted((data / "ai-text").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                (human if rec["label"] == "human" else other).append((rec["id"], rec["text"]))
    for path in sorted((data / "crawl").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                rec = json.loads(line)
                other.append((f"{path.name}:{rec.get('id', i)}", rec["text"]))
    return human if human_only else human + other


def distinct_bases(texts: list[tuple[str, str]], max_jaccard: float = 0.2,
                   min_words: int = 20) -> list[tuple[str, str]]:
    """Texts of >= min_words words, none sharing >= max_jaccard (exact 5-gram Jaccard) with an earlier one.

    Candidates come from a permissive LSH (56 bands x 2 rows: a pair at Jaccard
    0.2 is a candidate with probability 0.9), then the exact Jaccard decides.
    """
    from provsieve.transforms.minhash import minhash_signatures, shingle_hashes

    texts = [t for t in texts if len(t[1].split()) >= min_words]
    bodies = [t for _, t in texts]
    hashes, offsets = shingle_hashes(bodies)
    sets = [np.unique(hashes[offsets[i]:offsets[i + 1]]) for i in range(len(texts))]
    sigs = np.vstack([minhash_signatures(bodies[i:i + 1000]) for i in range(0, len(bodies), 1000)])
    buckets: dict[tuple, list[int]] = {}
    pairs = set()
    for band in range(56):
        for i, key in enumerate(map(bytes, sigs[:, 2 * band:2 * band + 2])):
            members = buckets.setdefault((band, key), [])
            pairs.update((j, i) for j in members[:50])
            members.append(i)
    dropped = set()
    for j, i in sorted(pairs):
        if j in dropped or i in dropped:
            continue
        inter = len(np.intersect1d(sets[i], sets[j], assume_unique=True))
        if inter / (len(sets[i]) + len(sets[j]) - inter) >= max_jaccard:
            dropped.add(i)
    return [t for i, t in enumerate(texts) if i not in dropped]


def _split_blocks(text: str) -> tuple[list[str], str]:
    blocks = [b for b in text.split("\n\n") if b.strip()]
    if len(blocks) >= 2:
        return blocks, "\n\n"
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s], " "


def edit_text(text: str, rng: random.Random, vocab: list[str]) -> tuple[str, dict]:
    """One near-duplicate of ``text`` and a record of the edits made."""
    rate = rng.choice(EDIT_RATES)
    edits = {"rate": rate, "sub": 0, "ins": 0, "del": 0}
    blocks, sep = _split_blocks(text)
    if len(blocks) >= 2 and rng.random() < 0.25:
        i = rng.randrange(len(blocks) - 1)
        j = rng.randrange(len(blocks))
        blocks.insert(j, blocks.pop(i))
        edits["reorder"] = True
    out_blocks = []
    for block in blocks:
        words = []
        for word in block.split():
            if rng.random() >= rate:
                words.append(word)
                continue
            op = rng.choice(("sub", "ins", "del"))
            edits[op] += 1
            if op == "sub":
                words.append(rng.choice(vocab))
            elif op == "ins":
                words += [word, rng.choice(vocab)]
        out_blocks.append(" ".join(words))
    out = sep.join(out_blocks)
    site = f"site{rng.randrange(1000)}.example"
    if rng.random() < 0.3:
        out = rng.choice(HEADERS).format(site=site) + "\n\n" + out
        edits["header"] = True
    if rng.random() < 0.3:
        out = out + "\n\n" + rng.choice(FOOTERS).format(site=site)
        edits["footer"] = True
    return out, edits


def cluster_sizes(n_docs: int, n_bases: int, rng: random.Random,
                  single_share: float = 0.45) -> list[int]:
    """Copies per base (>= 1 each), summing to n_docs: ~single_share singletons, skewed sizes."""
    sizes = [1] * n_bases
    dup = [i for i in range(n_bases) if rng.random() >= single_share] or [0]
    weights = [min(rng.paretovariate(1.5), 10.0) for _ in dup]  # skewed, capped
    extra = n_docs - n_bases
    for i in rng.choices(dup, weights=weights, k=extra):
        sizes[i] += 1
    return sizes


def generate(n_docs: int, seed: int = 0, data: Path = DATA) -> list[dict]:
    rng = random.Random(seed)
    human = {i for i, _ in load_texts(data, human_only=True)}
    pool = distinct_bases(load_texts(data))
    n_bases = min(len(pool), max(1, round(n_docs / 2.2)))
    human_pool = [t for t in pool if t[0] in human]
    if n_bases <= len(human_pool):
        bases = rng.sample(human_pool, n_bases)
    else:
        others = [t for t in pool if t[0] not in human]
        bases = human_pool + rng.sample(others, n_bases - len(human_pool))
    vocab = sorted({w for _, t in bases[:2000] for w in t.split() if w.isalpha()})
    records = []
    for (base_id, base), size in zip(bases, cluster_sizes(n_docs, n_bases, rng)):
        year = rng.randrange(2013, 2023)
        versions = [base]
        for k in range(size):
            if k == 0:
                text, edits = base, {"rate": 0.0, "original": True}
            else:
                parent = versions[0] if rng.random() >= 0.2 else rng.choice(versions)
                text, edits = edit_text(parent, rng, vocab)
                versions.append(text)
            records.append({
                "text": text,
                "url": f"https://{rng.choice(['news', 'blog', 'www'])}{rng.randrange(500)}.example/"
                       f"{base_id.replace(':', '/')}/{k}",
                "crawl_date": f"{year + k // 3}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T00:00:00Z",
                "cluster": base_id,
                "edit": edits,
            })
    rng.shuffle(records)
    for i, rec in enumerate(records):
        rec["id"] = f"d{i:07d}"
    return records


def corpus_path(n_docs: int, seed: int) -> Path:
    return WORK / f"near_dup_{n_docs}_s{seed}.jsonl"


def ensure_corpus(n_docs: int, seed: int = 0, out: Path | None = None) -> Path:
    out = out or corpus_path(n_docs, seed)
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in generate(n_docs, seed):
                f.write(json.dumps({k: rec[k] for k in ("id", "text", "url", "crawl_date", "cluster", "edit")},
                                   ensure_ascii=False) + "\n")
        tmp.rename(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    path = ensure_corpus(args.docs, args.seed, args.out)
    n_clusters = len({json.loads(line)["cluster"] for line in open(path, encoding="utf-8")})
    print(f"{path}: {args.docs} docs, {n_clusters} truth clusters")


if __name__ == "__main__":
    main()
