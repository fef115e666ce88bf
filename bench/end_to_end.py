"""End-to-end throughput of ``provsieve run`` on the benchmark corpus.

    python bench/end_to_end.py --docs 10000 100000 --workers 1 2 [--format warc|jsonl] [-- extra run flags]

Builds the corpus with ``bench/corpus.py`` if needed, runs ``provsieve run``
on it in a subprocess (so the memory of every worker process is counted), and
prints one row per run: documents/s per core, MB/s of input, peak RSS of the
whole process tree, the CPU seconds of the whole tree and documents per CPU
second (on a shared machine the wall time also counts waiting for a core;
the CPU figure does not), and the busy time of each stage from the run's manifest.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import WORK, build  # noqa: E402
from process_tree import measure  # noqa: E402

from provsieve.pipeline.manifest import read_manifest  # noqa: E402

PROVSIEVE = [sys.executable, "-m", "provsieve.pipeline.cli"]


def flags_slug(extra: list[str]) -> str:
    """The run's extra flags as a file-name part: ``--ai-detector cascade`` -> ``ai-detector-cascade``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", " ".join(extra)).strip("-") or "default"


def routing(manifest: dict[str, Any]) -> dict[str, Optional[float]]:
    """Routed count and share (of the documents tagged) from the manifest's ``ai_stage2``, and ms per routed
    document (``ai_stage2`` busy seconds / routed); all None for a run without the cascade."""
    stage2 = manifest.get("ai_stage2")
    if not stage2:
        return {"routed": None, "routed_share": None, "ms_per_routed_doc": None}
    busy = manifest.get("stage_seconds", {}).get("ai_stage2")
    routed = stage2["routed"]
    return {"routed": routed, "routed_share": stage2["routed_share"],
            "ms_per_routed_doc": 1000 * busy / routed if routed and busy is not None else None}


def run_once(docs: int, workers: int, fmt: str, extra: list[str]) -> dict:
    corpus = build(docs)
    pattern = "*.warc.gz" if fmt == "warc" else "docs-*.jsonl.gz"
    out = WORK / f"out_{docs}_{fmt}_w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    command = PROVSIEVE + ["-q", "run", "--input", str(corpus / pattern), "--output", str(out),
                           "--workers", str(workers), "--no-report"] + extra
    measured = measure(command)
    if measured.returncode != 0:
        raise SystemExit(f"provsieve run failed:\n{measured.output[-3000:]}")
    manifest = read_manifest(str(out))
    kept_as = WORK / f"manifest_{docs}_{fmt}_w{workers}_{flags_slug(extra)}.json"
    shutil.copyfile(out / "manifest.json", kept_as)
    input_mb = sum(f.stat().st_size for f in corpus.glob(pattern)) / 1e6
    n = manifest["counters"]["input_records"]
    return {
        "docs": n, "format": fmt, "workers": workers, "wall_s": measured.wall_seconds,
        "docs_per_s_per_core": n / measured.wall_seconds / workers, "mb_per_s": input_mb / measured.wall_seconds,
        "peak_rss_mb": measured.peak_rss_mb, "cpu_s": measured.cpu_seconds,
        "docs_per_cpu_s": n / measured.cpu_seconds if measured.cpu_seconds else None, "kept": manifest["counters"]["kept"],
        "stages": manifest.get("stage_seconds", {}), "flags": " ".join(extra), **routing(manifest),
        "manifest": str(kept_as),
    }


def _cell(value: Optional[float], spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[10_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1])
    ap.add_argument("--format", choices=("warc", "jsonl"), default="warc")
    ap.add_argument("--json", type=Path, help="also append the rows to this JSON-lines file")
    ap.add_argument("extra", nargs="*", help="extra `provsieve run` flags, after --")
    args = ap.parse_args()
    print(f"{'docs':>8} {'fmt':>5} {'w':>2} {'wall s':>8} {'docs/s/core':>11} {'MB/s':>6} {'peak RSS MB':>11} "
          f"{'cpu s':>7} {'docs/cpu s':>10} {'routed':>7} {'share':>6} {'ms/routed':>9}  busy s by stage")
    for docs in args.docs:
        for workers in args.workers:
            row = run_once(docs, workers, args.format, args.extra)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in row["stages"].items())
            print(f"{row['docs']:>8} {row['format']:>5} {workers:>2} {row['wall_s']:>8.1f} "
                  f"{row['docs_per_s_per_core']:>11.0f} {row['mb_per_s']:>6.2f} {row['peak_rss_mb']:>11.0f} "
                  f"{row['cpu_s']:>7.1f} {row['docs_per_cpu_s'] or 0:>10.0f} {_cell(row['routed'], 'd', 7)} "
                  f"{_cell(row['routed_share'], '.1%', 6)} {_cell(row['ms_per_routed_doc'], '.1f', 9)}  {stages}",
                  flush=True)
            print(f"  manifest kept as {row['manifest']}", flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
