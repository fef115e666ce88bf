"""The ``provsieve`` command line."""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import sys
from typing import Optional, Sequence

# Beam warns at import time that Google Cloud's optional clients are missing; that is expected for
# local runs and would be the first line every user sees.
logging.getLogger().addFilter(lambda record: "apitools not found" not in record.getMessage())

from provsieve.pipeline import cascade_cli, detector_cli, index_cli, report, unigram_cli, verify  # noqa: E402
from provsieve.pipeline.options import add_run_arguments, config_from_args, unknown_option_error  # noqa: E402
from provsieve.pipeline.summary import format_summary  # noqa: E402

# At exit the interpreter's last garbage collection walks every object still alive (modules, models,
# caches): about 0.9 s of CPU after a 10k-document run (``bench/sampling_profile.py`` and os.times() at
# atexit). Frozen objects are skipped by it: those freed by reference counting during shutdown still
# are, but reference cycles among them are never collected, so their finalizers (``__del__``, weakref
# callbacks) never run (Python does not promise they do at exit) and the OS reclaims their memory.
# Registered at import, it runs after every other exit handler registered later.
atexit.register(gc.freeze)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provsieve",
        description="Provenance and filtering of crawl dumps: keep human-written, de-duplicated documents "
                    "with the evidence attached.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print the summary and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the pipeline",
        description="Run the pipeline. Flags not listed here are passed to Apache Beam unchanged "
                    "(e.g. --runner=DataflowRunner --project=... --temp_location=gs://...); a flag that "
                    "neither provsieve nor Beam defines is an error.")
    add_run_arguments(run)
    run.set_defaults(func=_run, run_parser=run)
    detector_cli.register(sub)
    cascade_cli.register(sub)
    unigram_cli.register(sub)
    verify.register(sub)
    report.register(sub)
    index_cli.register(sub)
    return parser


def _run(args: argparse.Namespace, beam_args: list[str]) -> int:
    from provsieve.pipeline.releases import ReleaseError
    from provsieve.pipeline.run import run

    problem = unknown_option_error(beam_args, args.run_parser)
    if problem:
        print(f"provsieve run: error: {problem}", file=sys.stderr)
        return 2
    config = config_from_args(args)
    try:
        manifest = run(config, beam_args)
    except (FileNotFoundError, FileExistsError, ReleaseError) as err:
        print(f"provsieve: error: {err}", file=sys.stderr)
        return 2
    print(format_summary(manifest))
    return 0 if manifest["counters"]["balanced"] else 1


def _configure_logging(quiet: bool) -> None:
    """provsieve's own progress lines on stderr; Beam's chatter only from warnings up."""
    logging.getLogger().setLevel(logging.WARNING)
    log = logging.getLogger("provsieve")
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s provsieve: %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.propagate = False


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    _configure_logging(args.quiet)
    if args.command == "run":
        return args.func(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
