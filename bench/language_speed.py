"""Cost of the language step next to the AI step's, on the same real texts, in one process.

    python bench/language_speed.py [--docs 3000] [--repeat 3] [--batch 256]

Texts: the 697 Common Crawl pages of ``../shared/data/crawl`` (multilingual
web text) and the ``ai-text`` dev files (English news, essays, stories), taken
in turn until ``--docs``. Each step works as it does in the pipeline:
``LanguageIdentifier.identify`` (one line of at most ``MAX_CHARS`` characters
per text, 500, and for comparison 1,000 and 2,000; ``predict`` on the list) and ``AIDetector.score_texts`` (preprocessing,
160-token chunks, ``predict`` on the list), on batches of ``--batch`` texts.
Models are loaded before timing; the steps take turns, and the best of
``--repeat`` rounds is reported (one process: documents/s is per core).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from near_dup_corpus import DATA  # noqa: E402

from provsieve.transforms.ai_detector import AIDetector  # noqa: E402
from provsieve.transforms.ai_detector_training import load_records  # noqa: E402
from provsieve.transforms.language import MAX_CHARS, LanguageIdentifier  # noqa: E402


def load_texts(n: int) -> list[str]:
    web = [r["text"] for p in sorted(glob.glob(str(DATA / "crawl" / "*.jsonl.gz"))) for r in load_records(p, "human")]
    dev = [r["text"] for p in sorted(glob.glob(str(DATA / "ai-text" / "*-dev.jsonl"))) for r in load_records(p)]
    mixed = [t for pair in itertools.zip_longest(web, dev) for t in pair if t]
    return [t for t in mixed if t.strip()][:n]


def best_seconds(steps: dict, texts: list[str], batch: int, repeat: int) -> dict[str, float]:
    """Best time of each step over ``repeat`` rounds; the steps take turns in every round (a shared machine's
    load then weighs on all of them alike)."""
    best = {name: float("inf") for name in steps}
    for _ in range(repeat):
        for name, fn in steps.items():
            started = time.perf_counter()
            for i in range(0, len(texts), batch):
                fn(texts[i:i + batch])
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    texts = load_texts(args.docs)
    chars = sum(len(t) for t in texts) / len(texts)
    language, detector = LanguageIdentifier(), AIDetector()
    steps = {"AI detector": detector.score_texts}
    for max_chars in sorted({MAX_CHARS, 1000, 2000}):
        label = f"language, {max_chars:,} chars" + (" (shipped)" if max_chars == MAX_CHARS else "")
        steps[label] = lambda b, m=max_chars: language.identify(b, m)
    rows = list(best_seconds(steps, texts, args.batch, args.repeat).items())
    print(f"{len(texts):,} texts, {chars:,.0f} characters on average, batches of {args.batch}, best of {args.repeat}")
    print(f"{'step':<32} {'docs/s per core':>15} {'us per doc':>11} {'share of AI step':>17}")
    ai_seconds = rows[0][1]
    for name, seconds in rows:
        print(f"{name:<32} {len(texts) / seconds:>15,.0f} {1e6 * seconds / len(texts):>11,.0f} "
              f"{seconds / ai_seconds:>16.1%}")


if __name__ == "__main__":
    main()
