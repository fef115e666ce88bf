"""Where a ``provsieve run`` spends its CPU, from py-spy's samples: by component, inside and outside the steps.

    python bench/sampling_profile.py --docs 20000                # record with py-spy, then fold
    python bench/sampling_profile.py --fold /tmp/samples.txt     # fold samples recorded before

py-spy (``pip install -r bench/requirements.txt``) samples the run's threads
from outside at ``--rate`` Hz without slowing its Python code the way
cProfile does; only threads on the CPU are sampled (no ``--idle``), so a
sample is about 1/rate seconds of CPU. Each sample is assigned to one
component by its stack:

* ``start``: everything before the runner starts (imports, options, building the pipeline);
* ``step <name>``: under one of provsieve's steps (the outermost provsieve
  ``transforms`` frame under the runner names it; counting and batching
  plumbing is charged to the step they wrap where they wrap one);
* ``setup``: a stage's operations built (Beam unpickling DoFns) and their ``setup`` (models, warm-up);
* ``runner: <part>``: the runner's own code with no provsieve frame below it,
  by the innermost Beam module (coders, data plane, operations, ...);
* ``end``: after the runner (the manifest, the summary).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build  # noqa: E402

STEP_OF_MODULE = {
    "read": "read", "read_warc": "read", "read_arc": "read", "read_jsonl": "read", "read_parquet": "read",
    "extract": "read", "match_inputs": "read", "capture_time": "read",
    "timestamps": "timestamps", "date_evidence_html": "timestamps", "date_evidence_url": "timestamps",
    "date_tiers": "timestamps", "dates": "timestamps", "date_evidence": "timestamps",
    "date_evidence_htmldate": "timestamps",
    "language": "language",
    "dedup": "dedup", "exact_dedup": "dedup", "near_dedup": "dedup", "minhash": "dedup",
    "connected_components": "dedup", "released": "dedup",
    "ai_detector": "ai", "decide": "ai decision", "score_sample": "ai",
    "write": "write", "dedup_index": "index",
}
PLUMBING = {"counting", "batching", "timing", "document"}
RUNNER_PARTS = (  # innermost matching Beam module names the runner's part
    ("apache_beam/coders/", "coders"),
    ("apache_beam/runners/worker/data_plane", "data plane"),
    ("apache_beam/runners/portability/fn_api_runner/", "fn_api_runner (shuffle, stages)"),
    ("apache_beam/metrics/", "metrics"),
    ("apache_beam/runners/worker/statesampler", "state sampler"),
    ("apache_beam/internal/", "pickling"),
    ("apache_beam/runners/worker/bundle_processor", "bundle processor"),
    ("apache_beam/runners/worker/operations", "operations"),
    ("apache_beam/runners/common", "DoFn invoker"),
    ("apache_beam/transforms/", "transforms"),
    ("apache_beam/", "other Beam"),
)
FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>[^:()]+):(?P<line>\d+)\)$")
RUNNER_ENTRY = "FnApiRunner.run_pipeline (apache_beam/runners/portability/fn_api_runner/fn_runner.py"
PROGRAM_ROOT = "_run_module_as_main ("


def _module(file: str) -> str | None:
    """The provsieve module name of a frame's file, or None."""
    m = re.match(r"^(?:.*/provsieve/)?(transforms|pipeline)/(\w+)\.py$", file)
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2)}"


def classify(frames: list[str]) -> tuple[str, str]:
    """(phase, component) of one sample's stack, root first (py-spy's ``raw`` order, thread name removed)."""
    if not frames:
        return "runner", "no Python frame (interpreter start and shutdown, C only)"
    entry = next((i for i, f in enumerate(frames) if f.startswith(RUNNER_ENTRY)), None)
    if entry is None:
        # a stack whose root is not the program's is a generator resumed from Beam's compiled (Cython)
        # operations, whose frames py-spy does not see: it runs inside the runner
        if frames[0].startswith(PROGRAM_ROOT):
            started = any("pipeline/run.py" in f and "run (" in f for f in frames)
            if any("importlib" in f for f in frames):
                return "outside", "start: imports"
            return "outside", "start/end: driver" if started else "start: cli"
        entry = -1
    below = frames[entry + 1:]
    step = None
    for f in below:
        m = FRAME.match(f)
        if not m:
            continue
        mod = _module(m.group("file"))
        if mod is None:
            continue
        kind, name = mod.split(".")
        if kind == "pipeline":
            step = step or "pipeline glue (run.py callbacks)"
            continue
        if name in PLUMBING:
            if name == "timing":  # the clock's own work (a step it times is named by a frame further in)
                step = "clock (StageClock)"
            elif step is None:
                step = f"plumbing: {name}"
            continue
        step = STEP_OF_MODULE.get(name, f"other provsieve: {name}")
        break
    leaf = below[-1] if below else ""
    if any(f.startswith("BundleProcessor.__init__ (") for f in below):  # a stage's operations built, DoFns set up
        if step is not None and not step.startswith(("plumbing", "clock", "pipeline")):
            return "setup", f"{step} (DoFn setup: models, warm-up)"
        return "setup", "Beam: building a stage's operations (unpickling, signatures)"
    if any("importlib" in f for f in below):
        return "runner", "imports inside the run"
    if step is not None and not step.startswith(("plumbing", "clock")):
        return "step", step
    if step is not None:
        # plumbing with Beam below it is the Beam call it makes (e.g. metrics under the clock)
        part = _runner_part(below)
        return "runner", f"{step} -> {part}" if part else step
    return "runner", f"runner: {_runner_part(below) or 'compiled Beam (Cython) under ' + _short(leaf)}"


def _short(frame: str) -> str:
    m = FRAME.match(frame)
    return f"{m.group('fn')} ({m.group('file').rsplit('/', 1)[-1]})" if m else frame


LEAF_PARTS = {  # Beam's compiled operations run under these Python frames (py-spy sees no Cython frame);
    # Beam 2.77's line numbers: on another version these samples fall under "compiled Beam (Cython) under ..."
    "DataInputOperation.process_encoded (apache_beam/runners/worker/bundle_processor.py:255)":
        "decoding a stage's input (coders)",
    "DataInputOperation.process_encoded (apache_beam/runners/worker/bundle_processor.py:263)":
        "compiled per-element operations (receivers, DoFn calls, counters)",
    "DataOutputOperation.process (apache_beam/runners/worker/bundle_processor.py:187)":
        "encoding a stage's output (coders)",
}


def _runner_part(frames: list[str]) -> str | None:
    if frames and frames[-1] in LEAF_PARTS:
        return LEAF_PARTS[frames[-1]]
    for f in reversed(frames):
        m = FRAME.match(f)
        if not m:
            continue
        if _module(m.group("file")):
            return None
        for prefix, part in RUNNER_PARTS:
            if prefix in m.group("file"):
                return part
        lib = m.group("file").split("/")[0]
        if lib and not lib.startswith("<"):
            return f"library {lib}"
    return None


def fold(path: Path, rate: int) -> dict[tuple[str, str], int]:
    samples: dict[tuple[str, str], int] = collections.Counter()
    threads: dict[str, int] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue  # a frame name with a newline in it (py-spy writes it as is): that one sample is lost
        frames = stack.split(";")
        thread = re.sub(r" \(\d+\)", "", frames[0])
        threads[thread] += int(count)
        samples[classify(frames[1:])] += int(count)
    print(f"samples by thread (s of CPU at {rate} Hz):")
    for thread, n in sorted(threads.items(), key=lambda kv: -kv[1]):
        print(f"  {n / rate:8.2f}  {thread}")
    return samples


def print_table(samples: dict[tuple[str, str], int], rate: int) -> None:
    total = sum(samples.values())
    by_phase: dict[str, int] = collections.Counter()
    for (phase, _), n in samples.items():
        by_phase[phase] += n
    print(f"\n{'phase':8} {'component':64} {'CPU s':>8} {'share':>6}")
    for phase in ("outside", "setup", "step", "runner"):
        rows = sorted(((c, n) for (p, c), n in samples.items() if p == phase), key=lambda kv: -kv[1])
        for component, n in rows:
            print(f"{phase:8} {component[:64]:64} {n / rate:8.2f} {n / total:6.1%}")
        print(f"{phase:8} {'(all)':64} {by_phase[phase] / rate:8.2f} {by_phase[phase] / total:6.1%}\n")
    print(f"{'total':73} {total / rate:8.2f}")


def record(docs: int, rate: int, out: Path, native: bool, extra: list[str]) -> None:
    corpus = build(docs)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        command = [spy, "record", "--rate", str(rate), "--format", "raw", "--threads", "--nonblocking",
                   "-o", str(out)] + (["--native"] if native else []) + [
            "--", sys.executable, "-m", "provsieve.pipeline.cli", "-q", "run",
            "--input", str(corpus / "*.warc.gz"), "--output", str(Path(tmp) / "out"),
            "--workers", "1", "--no-report"] + extra
        subprocess.run(command, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--rate", type=int, default=250, help="samples per second (py-spy --rate)")
    ap.add_argument("--native", action="store_true", help="py-spy --native: C frames too")
    ap.add_argument("--fold", type=Path, help="fold this raw sample file instead of recording")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "provsieve-samples.txt")
    ap.add_argument("extra", nargs="*", help="extra `provsieve run` flags, after --")
    args = ap.parse_args()
    path = args.fold
    if path is None:
        record(args.docs, args.rate, args.out, args.native, args.extra)
        path = args.out
    print_table(fold(path, args.rate), args.rate)


if __name__ == "__main__":
    main()
