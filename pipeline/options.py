"""Configuration of a provsieve run: the ``provsieve run`` flags and the Beam options behind them."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
from importlib import resources
from typing import Optional

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, _BeamArgumentParser

from provsieve.transforms.match_inputs import absolute_input
from provsieve.transforms.score_sample import DEFAULT_EXEMPT_SCORE_RATE

DEFAULT_CUTOFF = "2022-11-30"
"""ChatGPT's public release: text provably older than this was not written by an LLM."""
TRUST_LEVELS = ("captured", "claimed", "none")
AI_DETECTORS = ("fasttext", "cascade")
AI_DEVICES = ("CPU", "GPU")


def bundled_sample() -> str:
    """Path of the small sample crawl shipped inside the package."""
    return str(resources.files("provsieve.pipeline") / "sample" / "sample.warc.gz")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    inputs: tuple[str, ...]
    output: str
    overwrite: bool = False
    mode: str = "filter"
    workers: int = 1
    text_field: str = "text"
    max_doc_bytes: int = 10 * 1024 * 1024
    rows_per_shard: int = 100_000
    key_shards: Optional[int] = None
    """``--key-shards``: shards of the de-duplication shuffles' keys (None: from the input's size, ``key_shards_for``)."""
    hash_inputs_limit_bytes: int = 20 * 1024**3
    dedup: bool = True
    dedup_threshold: float = 0.69
    num_perm: int = 112
    ngram: int = 5
    cutoff: str = DEFAULT_CUTOFF
    html_dates: str = "auto"
    trust: str = "captured"
    languages: Optional[tuple[str, ...]] = None
    """``--languages``: keep only documents in these languages (None: all)."""
    ai: bool = True
    ai_threshold: Optional[float] = None
    calibrate_fpr: Optional[float] = None
    exempt_score_rate: float = DEFAULT_EXEMPT_SCORE_RATE
    """``--exempt-score-rate``: share of trusted (exempt) documents scored anyway (see ``score_sample``)."""
    report: bool = True
    after: tuple[str, ...] = ()
    """Earlier releases (output folders or globs of them) this run builds on (``--after``)."""
    reprocess: bool = False
    ai_detector: str = "fasttext"
    ai_device: str = "CPU"

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return number


def _fraction(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return number


def _date(value: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a YYYY-MM-DD date") from err


def _languages(value: str) -> tuple[str, ...]:
    from provsieve.transforms.language import parse_languages

    try:
        return parse_languages(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    io = parser.add_argument_group("input and output")
    io.add_argument("--input", action="append", dest="inputs", metavar="GLOB",
                    help="input files (WARC, ARC, WET, JSONL, Parquet; plain, gzip or zstd) on any Beam filesystem; "
                         "repeatable. Default: the bundled sample crawl")
    io.add_argument("--output", required=True, metavar="DIR", help="output directory (local or gs://, s3://, ...)")
    io.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")
    io.add_argument("--mode", choices=("filter", "tag"), default="filter",
                    help="filter: keep human, de-duplicated documents (default); "
                         "tag: keep every readable document with all tags and its would-be reject_reason")
    io.add_argument("--workers", type=int, default=1, help="worker processes for the embedded runner (default 1)")
    io.add_argument("--text-field", default="text", help="JSONL key / Parquet column holding the text (default text)")
    io.add_argument("--max-doc-bytes", type=int, default=RunConfig.max_doc_bytes,
                    help="reject larger payloads as too_large (default 10 MiB)")
    io.add_argument("--rows-per-shard", type=int, default=RunConfig.rows_per_shard,
                    help="target rows per output shard (default 100000)")
    io.add_argument("--key-shards", type=_positive_int, default=None, metavar="N",
                    help="shards of the de-duplication shuffles' keys (default: 64 up to 16 GiB of input, doubled each "
                         "time the input doubles beyond it, so that one key holds about 256 MiB of input's worth); "
                         "more shards spread the band, exact-copy and index merges over more workers; the output "
                         "is the same")
    io.add_argument("--no-report", dest="report", action="store_false", help="do not write report.html")
    io.add_argument("--hash-inputs-limit", type=int, default=RunConfig.hash_inputs_limit_bytes, metavar="BYTES",
                    dest="hash_inputs_limit_bytes",
                    help="record the sha256 of every input file in the manifest when they total at most this "
                         "many bytes (default 20 GiB; the launching machine reads them all); above it, sizes only")
    dedup = parser.add_argument_group("de-duplication")
    dedup.add_argument("--no-dedup", dest="dedup", action="store_false", help="skip exact and near de-duplication")
    dedup.add_argument("--dedup-threshold", type=_fraction, default=RunConfig.dedup_threshold,
                       help="estimated Jaccard similarity of word 5-grams at or above which documents are "
                            "near-duplicates; also sets LSH bands x rows as datasketch does with weights 0.1/0.9 on "
                            "false positives/negatives (default 0.69: 18 x 6 for 112 permutations, S-curve "
                            "midpoint 0.62; every candidate is verified)")
    dedup.add_argument("--num-perm", type=int, default=RunConfig.num_perm, help="MinHash permutations (default 112)")
    dedup.add_argument("--ngram", type=int, default=RunConfig.ngram, help="word n-gram shingle size (default 5)")
    dates = parser.add_argument_group("timestamps")
    dates.add_argument("--cutoff", type=_date, default=DEFAULT_CUTOFF,
                       help=f"documents provably older than this date are human (default {DEFAULT_CUTOFF})")
    dates.add_argument("--html-dates", choices=("auto", "htmldate", "structured"), default="auto",
                       help="auto (default): the URL and the page's machine-readable dates (meta, JSON-LD, <time>), "
                            "htmldate only where they give no publication date; htmldate: always htmldate "
                            "(slowest); structured: never htmldate (fastest)")
    dates.add_argument("--trust", choices=TRUST_LEVELS, default="captured",
                       help="which pre-cutoff evidence exempts a document from the AI filter: captured (default: "
                            "the crawl captured it before the cutoff), claimed (also the page's own dates), none")
    lang = parser.add_argument_group("language")
    lang.add_argument("--languages", type=_languages, default=None, metavar="CODES",
                      help="keep only documents in these languages, comma-separated ISO 639 codes of the language "
                           "model (e.g. en,de); und keeps those whose language is not confident (short texts). "
                           "Others are rejected as language_filtered. Default: keep every language")
    releases = parser.add_argument_group("scheduled releases")
    releases.add_argument("--after", action="append", default=None, metavar="RELEASE",
                          help="an earlier release (a finished output folder, on any Beam filesystem; a glob such as "
                               "'releases/*' allowed; repeatable): its input files are skipped and copies of the "
                               "documents it kept are rejected as released_duplicate")
    releases.add_argument("--reprocess", action="store_true",
                          help="with --after, read the input files that an earlier release processed already")
    ai = parser.add_argument_group("AI-text detection")
    ai.add_argument("--no-ai", dest="ai", action="store_false", help="skip AI-text tagging")
    threshold = ai.add_mutually_exclusive_group()
    threshold.add_argument("--ai-threshold", type=_fraction, default=None,
                           help="reject documents with ai_score >= this (default: the shipped model's threshold)")
    threshold.add_argument("--calibrate-fpr", type=_fraction, default=None, metavar="F",
                           help="set the threshold so that a fraction F of this run's provably human "
                                "(captured before the cutoff) documents would be rejected")
    ai.add_argument("--ai-detector", choices=AI_DETECTORS, default="fasttext",
                    help="fasttext (default): the shipped fastText classifier alone; cascade: documents that "
                         "could be rejected and whose fastText score is in the shipped band are also scored by a "
                         "small language model (SmolLM2-135M) and decided by the combined score "
                         "(needs pip install 'provsieve[cascade]'; slower, see the README)")
    ai.add_argument("--ai-device", type=str.upper, choices=AI_DEVICES, default="CPU",
                    help="where the cascade's language model runs: CPU (default) or GPU (CTranslate2 on CUDA, "
                         "float32 as on the CPU, which the combiner was fitted on; needs the CUDA 12 libraries)")
    ai.add_argument("--exempt-score-rate", type=_fraction, default=DEFAULT_EXEMPT_SCORE_RATE, metavar="R",
                    help="score only this share of the documents the --trust policy exempts (chosen by doc_id "
                         "hash; they are kept whatever their score, the sample feeds the report's per-tier "
                         "histogram). 1 scores all; --mode tag and --calibrate-fpr always do. "
                         f"Default {DEFAULT_EXEMPT_SCORE_RATE}")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        inputs=tuple(absolute_input(pattern) for pattern in args.inputs or [bundled_sample()]),
        output=args.output.rstrip("/") or "/",
        overwrite=args.overwrite,
        mode=args.mode,
        workers=args.workers,
        text_field=args.text_field,
        max_doc_bytes=args.max_doc_bytes,
        rows_per_shard=args.rows_per_shard,
        key_shards=args.key_shards,
        hash_inputs_limit_bytes=args.hash_inputs_limit_bytes,
        dedup=args.dedup,
        dedup_threshold=args.dedup_threshold,
        num_perm=args.num_perm,
        ngram=args.ngram,
        cutoff=args.cutoff,
        html_dates=args.html_dates,
        trust=args.trust,
        languages=args.languages,
        ai=args.ai,
        ai_threshold=args.ai_threshold,
        calibrate_fpr=args.calibrate_fpr,
        exempt_score_rate=args.exempt_score_rate,
        report=args.report,
        after=tuple(a.rstrip("/") or "/" for a in args.after or ()),
        reprocess=args.reprocess,
        ai_detector=args.ai_detector,
        ai_device=args.ai_device,
    )


def uses_embedded_runner(beam_args: list[str]) -> bool:
    return not any(a == "--runner" or a.startswith("--runner=") for a in beam_args)


def pipeline_options(beam_args: list[str], workers: int) -> PipelineOptions:
    """Beam options: the user's, passed through unchanged; for the embedded runner, its worker settings."""
    options = PipelineOptions(beam_args)
    if uses_embedded_runner(beam_args):
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers = workers
        direct.direct_running_mode = "multi_processing" if workers > 1 else "in_memory"
    options.view_as(StandardOptions)  # validate early
    return options


class _CollectingParser(_BeamArgumentParser):
    """Beam's own option parser, raising instead of exiting on a bad value."""

    def error(self, message: str):
        raise ValueError(message)


def _beam_parser() -> _CollectingParser:
    """A parser of every option Beam's ``PipelineOptions`` classes define (what Beam itself would accept)."""
    parser = _CollectingParser(allow_abbrev=False, add_help=False)
    classes = {str(cls): cls for cls in PipelineOptions.__subclasses__()}  # as PipelineOptions.get_all_options
    for cls in classes.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - the only way to learn Beam's flags
    return parser


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]  # noqa: SLF001


def unknown_option_error(beam_args: list[str], own: argparse.ArgumentParser) -> Optional[str]:
    """Why ``beam_args`` (what provsieve's parser left over) cannot run, or None.

    Beam drops options it does not define, so a misspelt provsieve flag would
    run with its default: an option neither defines is an error naming it and
    the closest known flag of either.
    """
    if not beam_args:
        return None
    parser = _beam_parser()
    try:
        _, unknown = parser.parse_known_args(beam_args)
    except ValueError as err:
        return f"bad Apache Beam option: {err}"
    if not unknown:
        return None
    first = next((a for a in unknown if a.startswith("-")), unknown[0])
    if not first.startswith("-"):
        return f"unexpected argument {first!r} (flags take the form --name value)"
    name = first.split("=", 1)[0]
    known = sorted(set(_flags(own)) | set(_flags(parser)))
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown option {name}{hint}: neither provsieve nor Apache Beam defines it"
