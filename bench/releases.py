"""Scheduled releases: the cost of ``--after`` and the split check, on the benchmark corpus.

    python bench/releases.py --release-docs 20000 100000 [--segment-docs 10000] [--repeat 2] [-- run flags]

Builds ``bench/corpus.py``'s corpus of release + segment documents (10,000 per
WARC file; the segment is the files after the release's, so its near and exact
copies point back into the release as the web's do), then

1. **cost**: runs the release once (its wall time, peak RSS and index size on
   disk), then the new segment without and with ``--after`` the release, side by
   side, ``--repeat`` times alternating (wall, peak RSS of the process tree,
   busy seconds of the dedup and index stages);
2. **split check** (``--split``, on the largest release): run 1 on the first
   half of the release's files, run 2 on the second half ``--after`` run 1, and
   compares with the single run over all of them: the half-2 documents whose
   duplicate cluster (single run) holds a half-1 document, against those that
   run 2 rejects as ``released_duplicate``; and whether any two kept documents
   of the two runs are in one single-run cluster (kept twice).

Default flags: ``--no-ai --html-dates structured`` (read, extract, dedup,
write: the work ``--after`` adds to); pass others after ``--``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import PER_FILE, WORK, build  # noqa: E402
from process_tree import measure  # noqa: E402

PROVSIEVE = [sys.executable, "-m", "provsieve.pipeline.cli"]
DEFAULT_FLAGS = ["--no-ai", "--html-dates", "structured"]


def provsieve_run(files: list[Path], out: Path, flags: list[str], after: list[Path] = ()) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    command = PROVSIEVE + ["-q", "run", "--output", str(out), "--no-report"] + flags
    for f in files:
        command += ["--input", str(f)]
    for a in after:
        command += ["--after", str(a)]
    measured = measure(command)
    if measured.returncode != 0:
        raise SystemExit(f"provsieve run failed:\n{measured.output[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    index = manifest.get("dedup_index") or {}
    stages = manifest.get("stage_seconds", {})
    return {"docs": manifest["counters"]["input_records"], "kept": manifest["counters"]["kept"],
            "wall_s": round(measured.wall_seconds, 1), "peak_rss_mb": round(measured.peak_rss_mb),
            "released_duplicates": manifest["counters"]["rejected"].get("released_duplicate", 0),
            "index_bytes": index.get("bytes"), "index_documents": index.get("documents"),
            "index_bytes_per_doc": index.get("bytes_per_document"),
            "dedup_s": stages.get("dedup"), "index_s": stages.get("index"),
            "skipped_files": len(manifest.get("skipped_inputs") or [])}


def _rows(out: Path, kind: str, columns: list[str]) -> list[dict]:
    return [r for f in sorted(out.glob(f"{kind}/*.parquet")) for r in pq.read_table(f, columns=columns).to_pylist()]


def split_check(single: Path, run1: Path, run2: Path, half1: set[str]) -> dict:
    """Cross-release copies found by run 1 + run 2 --after run 1, against the single run over both halves."""
    cols = ["doc_id", "source_uri", "dup_cluster_id"]
    rows = _rows(single, "human", cols) + _rows(single, "rejected", cols)
    halves = defaultdict(set)
    for r in rows:
        halves[r["dup_cluster_id"]].add(r["source_uri"] in half1)
    cross_single = {r["doc_id"] for r in rows if r["source_uri"] not in half1 and halves[r["dup_cluster_id"]] == {True, False}}
    rejected2 = _rows(run2, "rejected", ["doc_id", "reject_reason"])
    cross_split = {r["doc_id"] for r in rejected2 if r["reject_reason"] == "released_duplicate"}
    cluster_of = {r["doc_id"]: r["dup_cluster_id"] for r in rows}
    kept = [r["doc_id"] for r in _rows(run1, "human", ["doc_id"]) + _rows(run2, "human", ["doc_id"])]
    clusters = defaultdict(int)
    for doc_id in kept:
        clusters[cluster_of[doc_id]] += 1
    return {"cross_single": len(cross_single), "cross_split": len(cross_split),
            "found_by_both": len(cross_single & cross_split), "only_single": len(cross_single - cross_split),
            "only_split": len(cross_split - cross_single),
            "kept_twice": sum(n - 1 for n in clusters.values() if n > 1), "kept_total": len(kept)}


def _shard_hashes(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {s["name"]: s["sha256"] for s in manifest["shards"] + manifest["dedup_index"]["files"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--release-docs", type=int, nargs="+", default=[100_000])
    ap.add_argument("--segment-docs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--split", action="store_true", help="also run the split check on the largest release")
    ap.add_argument("--json", type=Path, help="also append the rows to this JSON-lines file")
    ap.add_argument("extra", nargs="*", help="`provsieve run` flags, after -- (default: --no-ai --html-dates structured)")
    args = ap.parse_args()
    flags = args.extra or DEFAULT_FLAGS
    largest = max(args.release_docs)
    corpus = build(largest + args.segment_docs)
    files = sorted(corpus.glob("crawl-*.warc.gz"))
    segment = files[largest // PER_FILE:(largest + args.segment_docs) // PER_FILE]
    work = WORK / "releases"
    rows = []

    def report(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")

    for docs in sorted(args.release_docs):
        release = work / f"release_{docs}"
        report({"what": f"release of {docs}", **provsieve_run(files[:docs // PER_FILE], release, flags)})
        for attempt in range(args.repeat):
            for after in ([], [release]) if attempt % 2 == 0 else ([release], []):
                label = f"segment {args.segment_docs} " + (f"--after release of {docs}" if after else "alone")
                report({"what": label, "attempt": attempt,
                        **provsieve_run(segment, work / "segment", flags, after)})
    if args.split:
        release_files = files[:largest // PER_FILE]
        half = len(release_files) // 2
        run1, run2 = work / "split_run1", work / "split_run2"
        report({"what": f"split run 1 (first {half} files)", **provsieve_run(release_files[:half], run1, flags)})
        report({"what": f"split run 2 (last {len(release_files) - half} files) --after run 1",
                **provsieve_run(release_files[half:], run2, flags, [run1])})
        both = provsieve_run(release_files, work / "split_both", flags, [run1])
        report({"what": "run 2 pointed at both halves --after run 1", **both})
        same = _shard_hashes(work / "split_both") == _shard_hashes(run2)
        report({"what": "split check", "both_halves_shards_identical_to_run2": same,
                **split_check(work / f"release_{largest}", run1, run2, {str(f) for f in release_files[:half]})})


if __name__ == "__main__":
    main()
