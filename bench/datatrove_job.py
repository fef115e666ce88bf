"""The datatrove side of ``bench/vs_datatrove.py``: run inside datatrove's own virtualenv.

    dt-venv/bin/python bench/datatrove_job.py --input DIR --glob '*.warc.gz' --format warc --work DIR

Does what provsieve does, the way datatrove's users write it (its
``examples/minhash_deduplication.py``): WarcReader -> Trafilatura -> JSONL
(extracted once), then the 4-stage MinHash dedup with 5-grams and 14 x 8
buckets, the last stage writing kept documents with ParquetWriter and removed
ones (with their cluster ids) with an exclusion writer. JSONL input skips the
extraction stage. One task, one worker per stage: the per-core figure.
"""

from __future__ import annotations

import argparse
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--glob", required=True)
    ap.add_argument("--format", choices=("warc", "jsonl"), required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    work = args.work.rstrip("/")
    times = {}

    def stage(name: str, pipeline: list, tasks: int = 1) -> None:
        started = time.monotonic()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{name}").run()
        times[name] = time.monotonic() - started

    if args.format == "warc":
        stage("read_extract", [WarcReader(args.input, glob_pattern=args.glob), Trafilatura(favour_precision=True),
                               JsonlWriter(f"{work}/extracted")])

        def reader():
            return JsonlReader(f"{work}/extracted")
    else:
        def reader():
            return JsonlReader(args.input, glob_pattern=args.glob)

    stage("signatures", [reader(), MinhashDedupSignature(output_folder=f"{work}/sigs", config=config)])
    stage("buckets", [MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets",
                                          config=config)], tasks=config.num_buckets)  # one task per bucket, required
    stage("cluster", [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove",
                                          config=config, save_cluster_id=True)])
    stage("filter_write", [reader(),
                           MinhashDedupFilter(input_folder=f"{work}/remove", load_cluster_ids=True,
                                              exclusion_writer=JsonlWriter(f"{work}/removed")),
                           ParquetWriter(f"{work}/output")])
    print("DATATROVE_STAGES " + " ".join(f"{k}={v:.2f}" for k, v in times.items()))


if __name__ == "__main__":
    main()
