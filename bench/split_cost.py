"""The runner's per-element cost of splitting a PCollection in two, by how the split is written.

    python bench/split_cost.py [--elements 200000] [--splits 6]

Runs ``--elements`` integers through ``--splits`` consecutive splits (one element in ten to the
second output) on the embedded runner with one worker, as ``provsieve run --workers 1`` does, and
prints the CPU seconds of each way less those of the same pipeline without splits, per element and
split: ``beam.Partition``, a ParDo with a tagged output (what ``split_rejected`` uses), and a pair
of ``beam.Filter``. Only the runner's work differs; the split function is the same trivial test.
"""

from __future__ import annotations

import argparse
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


class _TaggedSplit(beam.DoFn):
    def process(self, x):
        if x % 10 == 0:
            yield beam.pvalue.TaggedOutput("out", x)
        else:
            yield x


def _split(pc, k: int, way: str):
    if way == "partition":
        return pc | f"s{k}" >> beam.Partition(lambda x, _: 1 if x % 10 == 0 else 0, 2)
    if way == "tagged":
        result = pc | f"s{k}" >> beam.ParDo(_TaggedSplit()).with_outputs("out", main="main")
        return result.main, result.out
    return (pc | f"keep{k}" >> beam.Filter(lambda x: x % 10 != 0),
            pc | f"out{k}" >> beam.Filter(lambda x: x % 10 == 0))


def cpu_seconds(elements: int, splits: int, way: str) -> float:
    started = time.process_time()
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as p:
        per_seed = elements // 4
        pc = (p | beam.Create(range(4)) | beam.Reshuffle()
              | beam.FlatMap(lambda i: range(i * per_seed, (i + 1) * per_seed)))
        outs = []
        for k in range(splits):
            pc, out = _split(pc, k, way)
            outs.append(out)
        (outs + [pc]) | beam.Flatten() | beam.combiners.Count.Globally()
    return time.process_time() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elements", type=int, default=200_000)
    ap.add_argument("--splits", type=int, default=6)
    args = ap.parse_args()
    base = cpu_seconds(args.elements, 0, "tagged")
    print(f"no split: {base:.2f} CPU s for {args.elements:,} elements")
    for way in ("partition", "tagged", "filters"):
        cpu = cpu_seconds(args.elements, args.splits, way)
        per = (cpu - base) / args.elements / args.splits * 1e6
        print(f"{way:>9}: {cpu:.2f} CPU s, {per:.2f} us per element and split")


if __name__ == "__main__":
    main()
