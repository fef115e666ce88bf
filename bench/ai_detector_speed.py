"""Stage-1 scoring speed: ``AIDetector.score_texts`` docs/s of two fastText models, side by side.

The same fixed texts (every ``--step``-th record of the dev files) are scored
by model A and model B in turn, A B A B ..., ``--rounds`` times, one thread;
prints each model's median docs/s and the median of the pairwise ratios A/B
(pairing keeps the ratio meaningful on a shared, drifting machine).

    .venv/bin/python bench/ai_detector_speed.py --a NEW.ftz --b transforms/models/ai_detector.ftz
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time
from pathlib import Path

from provsieve.transforms.ai_detector import AIDetector
from provsieve.transforms.ai_detector_training import load_records

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="model A (.ftz)")
    ap.add_argument("--b", required=True, help="model B (.ftz), the baseline")
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA))
    ap.add_argument("--step", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    files = sorted(glob.glob(str(Path(args.data_dir) / "ai-text" / "*-dev.jsonl")))
    texts = [r["text"] for p in files for r in load_records(p)][:: args.step]
    detectors = {"A": AIDetector(args.a), "B": AIDetector(args.b)}
    rates: dict[str, list[float]] = {"A": [], "B": []}
    for d in detectors.values():
        d.score_texts(texts[:200])  # warm-up
    for _ in range(args.rounds):
        for name, d in detectors.items():
            t0 = time.perf_counter()
            d.score_texts(texts)
            rates[name].append(len(texts) / (time.perf_counter() - t0))
    ratios = [a / b for a, b in zip(rates["A"], rates["B"])]
    for name, path in (("A", args.a), ("B", args.b)):
        print(f"{name} {path}: median {statistics.median(rates[name]):,.0f} docs/s "
              f"(min {min(rates[name]):,.0f}, max {max(rates[name]):,.0f}) on {len(texts)} texts")
    print(f"A/B: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}), "
          f"{args.rounds} rounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
