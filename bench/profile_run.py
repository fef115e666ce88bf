"""Profile one ``provsieve run`` with cProfile and say where the time goes.

    python bench/profile_run.py --docs 10000 [--top 25] [-- extra run flags]

Runs the full job on the benchmark corpus (``bench/corpus.py``) in this
process with one worker (the embedded runner executes every stage here, so
cProfile sees all of it), then prints the CPU time by component (provsieve's
own modules, Beam, htmldate, lxml, the C extensions...) and the top functions
by own time. cProfile slows Python-heavy code more than C code: compare runs
made with this script, not its totals with ``bench/end_to_end.py``.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import WORK, build  # noqa: E402


def component(filename: str) -> str:
    """A profile entry's file, named by what it belongs to."""
    if filename.startswith("~") or filename.startswith("<"):
        return "C extensions and builtins (regex, fastText, resiliparse, coders...)"
    if "site-packages/" in filename:
        package = filename.split("site-packages/")[1].split("/")[0]
        return "beam" if package == "apache_beam" else package
    for ours in ("/transforms/", "/pipeline/"):
        if ours in filename:
            return "provsieve" + ours + filename.rsplit("/", 1)[1]
    return "python stdlib"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--save", type=Path, help="also write the raw profile here (for pstats / snakeviz)")
    ap.add_argument("extra", nargs="*", help="extra `provsieve run` flags, after --")
    args = ap.parse_args()
    from provsieve.pipeline.cli import main as provsieve

    corpus = build(args.docs)
    out = WORK / f"profile_{args.docs}"
    shutil.rmtree(out, ignore_errors=True)
    argv = ["-q", "run", "--input", str(corpus / "*.warc.gz"), "--output", str(out), "--no-report", *args.extra]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        provsieve(argv)
    except SystemExit as done:
        if done.code not in (0, None):
            raise
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler)
    if args.save:
        stats.dump_stats(args.save)
    by_component: collections.Counter = collections.Counter()
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_component[component(filename)] += own
    total = sum(by_component.values())
    print(f"\nCPU seconds by component (own time, {total:.1f} s profiled):")
    for name, seconds in by_component.most_common(20):
        print(f"{seconds:8.2f}  {100 * seconds / total:5.1f} %  {name}")
    print(f"\nTop {args.top} functions by own time:")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
