"""MinHash signatures per second per core: provsieve vs datasketch (and rensa, datatrove-style).

    python bench/minhash_speed.py [--docs 4000] [--repeat 3] [--num-perm 112]

Same process, same real texts (the human texts of ../shared/data/ai-text and
the crawl JSONL pages), same shingles (``shingles()``: normalize_text, word
5-grams), one thread; the methods are run interleaved, ``--repeat`` times,
and the best time of each is kept. Rows:

* provsieve ``minhash_signatures`` (batches of 256 texts), text -> signature;
* datasketch ``MinHash.update_batch`` with its default SHA-1 hash, text ->
  shingles -> signature (the issue's baseline) and the same with the shingles
  built beforehand (update_batch alone);
* datasketch ``MinHash.bulk``; datasketch with ``hashfunc=H`` (the bit-identical
  configuration, checked on every text);
* rensa ``RMinHash.update`` on the same shingles; datatrove-style: xxhash64 per
  shingle, then datatrove's ``(a*h+b) mod (2^61-1)`` permutations (its
  ``MinhashDedupSignature.get_signature``, inlined: the package's dedup module
  needs tokenizers/NLTK data to import).

Also prints the time of ``normalize_text`` alone: every method pays it.
Extras: ``pip install -r bench/requirements.txt``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from near_dup_corpus import load_texts  # noqa: E402

from provsieve.transforms.document import normalize_text  # noqa: E402
from provsieve.transforms.minhash import H, minhash_signatures, shingles  # noqa: E402


def real_texts(n: int) -> list[str]:
    texts = [t for _, t in load_texts(human_only=True)]
    texts += [t for i, t in load_texts() if ".jsonl" in i]  # crawl pages
    step = max(1, len(texts) // n)
    return texts[::step][:n]


def provsieve(texts, num_perm):
    return [minhash_signatures(texts[i:i + 256], num_perm) for i in range(0, len(texts), 256)]


def ds_update_batch(texts, num_perm):
    from datasketch import MinHash

    out = []
    for t in texts:
        m = MinHash(num_perm, seed=1)
        m.update_batch(shingles(t))
        out.append(m.hashvalues)
    return out


def ds_update_batch_preshingled(shingled, num_perm):
    from datasketch import MinHash

    out = []
    for sh in shingled:
        m = MinHash(num_perm, seed=1)
        m.update_batch(sh)
        out.append(m.hashvalues)
    return out


def ds_bulk(texts, num_perm):
    from datasketch import MinHash

    return [m.hashvalues for m in MinHash.bulk([shingles(t) for t in texts], num_perm=num_perm, seed=1)]


def ds_with_h(texts, num_perm):
    from datasketch import MinHash

    out = []
    for t in texts:
        m = MinHash(num_perm, seed=1, hashfunc=H)
        m.update_batch(shingles(t))
        out.append(m.hashvalues)
    return out


def rensa_rminhash(texts, num_perm):
    from rensa import RMinHash

    out = []
    for t in texts:
        m = RMinHash(num_perm, 1)
        m.update([s.decode("utf-8", "surrogatepass") for s in shingles(t)])
        out.append(m.digest())
    return out


_MERSENNE = np.uint64((1 << 61) - 1)


def datatrove_style(texts, num_perm):
    import xxhash

    gen = np.random.RandomState(1)
    a = gen.randint(1, _MERSENNE, dtype=np.uint64, size=(1, num_perm))
    b = gen.randint(0, _MERSENNE, dtype=np.uint64, size=(1, num_perm))
    out = []
    for t in texts:
        hv = np.fromiter((xxhash.xxh64_intdigest(s) for s in shingles(t)), dtype=np.uint64).reshape(-1, 1)
        out.append(np.min((hv * a + b) % _MERSENNE, axis=0))
    return out


def normalize_only(texts, num_perm):
    return [normalize_text(t) for t in texts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--num-perm", type=int, default=112)
    args = ap.parse_args()
    texts = real_texts(args.docs)
    shingled = [shingles(t) for t in texts]
    n_sh = sum(map(len, shingled))
    print(f"{len(texts)} real texts, {sum(map(len, texts)) / len(texts):.0f} chars and "
          f"{n_sh / len(texts):.0f} shingles per text on average, {args.num_perm} permutations")

    ours = np.vstack(provsieve(texts, args.num_perm))
    check = ds_with_h(texts, args.num_perm)
    assert all(np.array_equal(o, c) for o, c in zip(ours, check)), "not bit-identical"
    print("bit-identical to datasketch MinHash(hashfunc=H) on all texts: yes")

    methods = {
        "provsieve minhash_signatures": lambda: provsieve(texts, args.num_perm),
        "datasketch update_batch (sha1)": lambda: ds_update_batch(texts, args.num_perm),
        "datasketch update_batch, pre-shingled": lambda: ds_update_batch_preshingled(shingled, args.num_perm),
        "datasketch bulk (sha1)": lambda: ds_bulk(texts, args.num_perm),
        "datasketch update_batch, hashfunc=H": lambda: ds_with_h(texts, args.num_perm),
        "rensa RMinHash": lambda: rensa_rminhash(texts, args.num_perm),
        "datatrove-style (xxhash64, mod 2^61-1)": lambda: datatrove_style(texts, args.num_perm),
        "(normalize_text alone)": lambda: normalize_only(texts, args.num_perm),
    }
    best = {name: float("inf") for name in methods}
    for _ in range(args.repeat):
        for name, fn in methods.items():
            try:
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
            except ImportError as err:
                best[name] = float("nan")
                print(f"skipped {name}: {err}")
    ref = best["provsieve minhash_signatures"]
    print(f"{'method':42} {'docs/s':>9} {'us/doc':>8} {'provsieve speed-up':>19}")
    for name, secs in best.items():
        print(f"{name:42} {len(texts) / secs:9.0f} {secs / len(texts) * 1e6:8.1f} {secs / ref:18.2f}x")
    norm = best["(normalize_text alone)"]
    base = best["datasketch update_batch (sha1)"]
    print(f"speed-up over datasketch update_batch: {base / ref:.2f}x end to end; "
          f"{(base - norm) / (ref - norm):.2f}x excluding the normalize_text both pay")


if __name__ == "__main__":
    main()
