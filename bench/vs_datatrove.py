"""provsieve vs datatrove on the same corpus, in the same run, on the same machine.

    python bench/vs_datatrove.py --docs 10000 --format warc [--datatrove-python bench/_work/dt-venv/bin/python]

datatrove runs from its own virtualenv (``bench/_work/dt-venv``: ``python -m
venv bench/_work/dt-venv && bench/_work/dt-venv/bin/pip install
'datatrove[processing,io]' tokenizers spacy lxml_html_clean``; lxml 6 moved
``lxml.html.clean`` out, and without it datatrove's Trafilatura step times out
on every record), never as a provsieve dependency; ``bench/datatrove_job.py`` is its side. Both run one worker. Printed: wall
time, CPU time (the process tree's), documents/s per core, peak RSS, the ratio, and the pairwise precision /
recall of each system's duplicate clusters against the corpus truth (recall
on pairs whose true word-5-gram Jaccard is >= 0.8).

provsieve is measured twice: its full job (timestamps, dedup, AI tagging)
and the same work as datatrove's (``--no-ai --html-dates structured``).
With ``--format jsonl`` no HTML is extracted by either side.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import WORK, build  # noqa: E402
from end_to_end import run_once  # noqa: E402
from near_dup_quality import pair_metrics, true_pair_jaccards  # noqa: E402
from process_tree import measure  # noqa: E402

DT_PYTHON = WORK / "dt-venv" / "bin" / "python"
HERE = Path(__file__).resolve().parent


def truth_of(corpus: Path) -> tuple[list[str], list[str], list[str]]:
    """URLs, truth clusters and texts, in crawl order."""
    urls, clusters, texts = [], [], []
    with open(corpus / "truth.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            urls.append(rec["url"])
            clusters.append(rec["cluster"])
    by_url = {}
    for path in sorted(corpus.glob("docs-*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                rec = json.loads(line)
                by_url[rec["url"]] = rec["text"]
    texts = [by_url[u] for u in urls]
    return urls, clusters, texts


def provsieve_clusters(out: Path) -> dict[str, str]:
    """url -> predicted cluster (the kept document's id) for every document provsieve read."""
    pred = {}
    for row in pq.read_table(out / "human", columns=["url", "doc_id", "dup_cluster_id"]).to_pylist():
        pred[row["url"]] = row["dup_cluster_id"] or row["doc_id"]
    for row in pq.read_table(out / "rejected", columns=["url", "doc_id", "dup_cluster_id"]).to_pylist():
        pred[row["url"]] = row["dup_cluster_id"] or row["doc_id"]
    return pred


def datatrove_clusters(work: Path) -> dict[str, str]:
    pred = {}
    tables = [pq.read_table(p) for p in sorted((work / "output").glob("*.parquet"))]
    rows = [r for t in tables for r in t.to_pylist()]
    for path in sorted((work / "removed").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as f:
            rows += [json.loads(line) for line in f]
    for row in rows:
        meta = row.get("metadata") or {}
        url = meta.get("url") or row.get("url") or meta.get("warc_target_uri")
        cluster = meta.get("minhash_cluster_id")
        pred[url] = f"c{cluster}" if cluster is not None and cluster != -1 else f"doc:{row['id']}"
    return pred


def quality(pred: dict[str, str], urls: list[str], truth: list[str], hi_pairs) -> dict:
    labels = [pred.get(u, f"missing:{u}") for u in urls]
    return pair_metrics(labels, truth, hi_pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--format", choices=("warc", "jsonl"), default="warc")
    ap.add_argument("--datatrove-python", type=Path, default=DT_PYTHON)
    args = ap.parse_args()
    corpus = build(args.docs)
    urls, truth, texts = truth_of(corpus)
    hi_pairs = [(i, j) for i, j, jac in true_pair_jaccards(texts, truth, 5) if jac >= 0.8]

    rows = []
    for label, flags in (("provsieve (full job)", []),
                         ("provsieve (same work)", ["--no-ai", "--html-dates", "structured"])):
        result = run_once(args.docs, 1, args.format, flags)
        out = WORK / f"out_{args.docs}_{args.format}_w1"
        rows.append((label, result["wall_s"], result["cpu_s"], result["docs"], result["peak_rss_mb"],
                     quality(provsieve_clusters(out), urls, truth, hi_pairs)))

    work = WORK / f"datatrove_{args.docs}_{args.format}"
    shutil.rmtree(work, ignore_errors=True)
    pattern = "*.warc.gz" if args.format == "warc" else "docs-*.jsonl.gz"
    measured = measure([str(args.datatrove_python), str(HERE / "datatrove_job.py"), "--input", str(corpus),
                        "--glob", pattern, "--format", args.format, "--work", str(work)])
    if measured.returncode != 0:
        raise SystemExit(f"datatrove failed:\n{measured.output[-3000:]}")
    stages = [line for line in measured.output.splitlines() if line.startswith("DATATROVE_STAGES")]
    rows.append(("datatrove", measured.wall_seconds, measured.cpu_seconds, args.docs, measured.peak_rss_mb,
                 quality(datatrove_clusters(work), urls, truth, hi_pairs)))

    datatrove_rate = args.docs / measured.wall_seconds
    print(f"\n{args.docs} documents, {args.format} input, 1 worker each; {len(hi_pairs)} true pairs with J >= 0.8")
    print(f"{'system':<24} {'wall s':>8} {'cpu s':>7} {'docs/s/core':>11} {'vs datatrove':>12} {'peak RSS MB':>11} "
          f"{'precision':>9} {'recall':>7} {'recall J>=.8':>12}")
    for label, wall, cpu, docs, rss, q in rows:
        rate = docs / wall
        print(f"{label:<24} {wall:>8.1f} {cpu:>7.1f} {rate:>11.0f} {rate / datatrove_rate:>11.2f}x {rss:>11.0f} "
              f"{q['precision']:>9.4f} {q['recall']:>7.4f} {q['recall_j80']:>12.4f}")
    if stages:
        print("datatrove stage seconds: " + stages[0].split(" ", 1)[1])


if __name__ == "__main__":
    main()
