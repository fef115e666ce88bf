"""``provsieve verify OUT``: check a finished output against its manifest and its sources.

Checks, each reported as ``ok`` or ``FAIL`` with the mismatches listed:

1. **shards**: every shard in the manifest exists with the recorded size,
   sha256 and row count, and no Parquet file under ``human/`` or
   ``rejected/`` is missing from the manifest;
2. **other files**: ``croissant.json`` has the sha256 the manifest records;
3. **counters**: input = kept + rejected, in total and for every input file,
   the per-file counters sum to the totals, and the stage funnel chains;
4. **shard rows**: the ``human/`` rows equal ``kept`` and the ``rejected/``
   rows equal the rejected total;
5. **inputs**: every input file still has the size and sha256 recorded when
   the run started (``--no-input-hashes`` skips this for very large inputs);
6. **index**, **lineage**, **released copies** (:mod:`~provsieve.pipeline.verify_lineage`):
   the dedup index files against the manifest; for a run ``--after`` earlier
   releases, that their manifests still have the recorded sha256 and their
   indexes are intact, and that a sample of kept rows copies none of their documents;
7. **sampled records**: for ``--sample N`` rows drawn deterministically
   (``--seed``) from all shards, the row's own ``doc_id`` and ``content_sha1``
   are consistent with it, and re-opening ``source_uri`` at
   ``source_offset``/``source_index`` and re-extracting the record gives the
   same ``content_sha1``.

Exit code 0 only if every check holds; 1 if any fails; 2 if the manifest
cannot be read.
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.manifest import MANIFEST_NAME, file_sha256, read_manifest
from provsieve.transforms.document import make_doc_id, text_sha1
from provsieve.transforms.read import ReaderOptions, read_record

DEFAULT_SAMPLE = 20
DEFAULT_LINEAGE_SAMPLE = 200
MAX_LISTED = 20
SAMPLE_COLUMNS = ["doc_id", "source_uri", "source_format", "source_offset", "source_index", "content_sha1", "text"]


class Check:
    """One named check: its summary line and the mismatches found."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []
        self.summary = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def format(self) -> str:
        lines = [f"  [{'ok' if self.ok else 'FAIL'}] {self.name}: {self.summary}"]
        for problem in self.problems[:MAX_LISTED]:
            lines.append(f"         - {problem}")
        if len(self.problems) > MAX_LISTED:
            lines.append(f"         ... and {len(self.problems) - MAX_LISTED} more")
        return "\n".join(lines)


def _join(output_dir: str, name: str) -> str:
    return FileSystems.join(output_dir, name)


def _parquet_rows(path: str) -> int:
    with FileSystems.open(path) as f:
        return pq.ParquetFile(f).metadata.num_rows


def check_shards(output_dir: str, manifest: dict[str, Any]) -> Check:
    check = Check("shards")
    shards = manifest.get("shards") or []
    check_parquet_files(output_dir, shards, ("human", "rejected"), check)
    total_rows = sum(s["rows"] for s in shards)
    check.summary = f"{len(shards)} files, {total_rows:,} rows: size, sha256 and row count against the manifest"
    return check


def check_parquet_files(output_dir: str, files: list[dict[str, Any]], kinds: tuple[str, ...], check: Check) -> None:
    """Every listed Parquet file exists with its size, sha256 and row count; no unlisted one under ``kinds``."""
    listed = set()
    for shard in files:
        path = _join(output_dir, shard["name"])
        listed.add(shard["name"])
        if not FileSystems.exists(path):
            check.fail(f"{shard['name']}: missing")
            continue
        size, digest = file_sha256(path)
        if size != shard["bytes"]:
            check.fail(f"{shard['name']}: {size} bytes, manifest says {shard['bytes']}")
        if digest != shard["sha256"]:
            check.fail(f"{shard['name']}: sha256 {digest}, manifest says {shard['sha256']}")
        try:
            rows = _parquet_rows(path)
        except Exception as err:  # noqa: BLE001 - a damaged shard is a finding, not a crash
            check.fail(f"{shard['name']}: not readable as Parquet ({type(err).__name__}: {err})")
            continue
        if rows != shard["rows"]:
            check.fail(f"{shard['name']}: {rows} rows, manifest says {shard['rows']}")
    for kind in kinds:
        pattern = _join(output_dir, f"{kind}/*.parquet")
        for result in FileSystems.match([pattern]):
            for meta in result.metadata_list:
                name = f"{kind}/{meta.path.rsplit('/', 1)[-1]}"
                if name not in listed:
                    check.fail(f"{name}: present but not in the manifest")


def check_other_files(output_dir: str, manifest: dict[str, Any]) -> Check:
    check = Check("other files")
    others = manifest.get("other_files") or []
    for entry in others:
        path = _join(output_dir, entry["name"])
        if not FileSystems.exists(path):
            check.fail(f"{entry['name']}: missing")
            continue
        size, digest = file_sha256(path)
        if digest != entry["sha256"] or size != entry["bytes"]:
            check.fail(f"{entry['name']}: sha256 {digest} ({size} bytes), manifest says {entry['sha256']} "
                       f"({entry['bytes']} bytes)")
    check.summary = (", ".join(e["name"] for e in others) + ": sha256 against the manifest") if others \
        else "none recorded"
    return check


def check_counters(manifest: dict[str, Any]) -> Check:
    check = Check("counters")
    c = manifest["counters"]
    rejected_total = sum(c["rejected"].values())
    if rejected_total != c["rejected_total"]:
        check.fail(f"rejected reasons sum to {rejected_total}, rejected_total says {c['rejected_total']}")
    if c["input_records"] != c["kept"] + rejected_total:
        check.fail(f"total: {c['input_records']} input records != {c['kept']} kept + {rejected_total} rejected")
    files = manifest.get("files") or {}
    sums = {"input_records": 0, "kept": 0}
    reasons: dict[str, int] = {}
    unbalanced = 0
    for uri, entry in files.items():
        rej = sum(entry["rejected"].values())
        if entry["input_records"] != entry["kept"] + rej:
            unbalanced += 1
            check.fail(f"{uri}: {entry['input_records']} input records != {entry['kept']} kept + {rej} rejected")
        sums["input_records"] += entry["input_records"]
        sums["kept"] += entry["kept"]
        for reason, n in entry["rejected"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    if files:
        if sums["input_records"] != c["input_records"] or sums["kept"] != c["kept"]:
            check.fail(f"per-file counters sum to {sums['input_records']} in / {sums['kept']} kept, "
                       f"totals say {c['input_records']} / {c['kept']}")
        if reasons != c["rejected"]:
            check.fail(f"per-file rejections {dict(sorted(reasons.items()))} != totals {c['rejected']}")
    stages = manifest.get("stages") or []
    live = c["input_records"]
    for stage in stages:
        if stage["in"] != live or stage["out"] != stage["in"] - sum(stage["rejected"].values()):
            check.fail(f"stage {stage['stage']}: {stage['in']} in, {stage['out']} out, "
                       f"{sum(stage['rejected'].values())} rejected do not chain (expected {live} in)")
        live = stage["out"]
    if stages and live != c["kept"]:
        check.fail(f"the last stage lets {live} documents out, but {c['kept']} were kept")
    if by_language := manifest.get("documents_by_language"):
        per_language = sum(e["documents"] for e in by_language.values())
        if per_language != c["input_records"]:
            check.fail(f"documents by language sum to {per_language}, not {c['input_records']} input records")
    if input_files := manifest.get("input_files"):
        paths = {f["path"] for f in input_files}
        for uri in files:
            if uri not in paths:
                check.fail(f"{uri}: counted but not among the input files")
    check.summary = (f"{c['input_records']:,} in = {c['kept']:,} kept + {rejected_total:,} rejected; "
                     f"{len(files) - unbalanced}/{len(files)} files add up")
    return check


def check_shard_rows(manifest: dict[str, Any]) -> Check:
    check = Check("shard rows")
    c = manifest["counters"]
    human = sum(s["rows"] for s in manifest.get("shards", []) if s["kind"] == "human")
    rejected = sum(s["rows"] for s in manifest.get("shards", []) if s["kind"] == "rejected")
    if human != c["kept"]:
        check.fail(f"human/ shards hold {human} rows, counters say {c['kept']} kept")
    if rejected != c["rejected_total"]:
        check.fail(f"rejected/ shards hold {rejected} rows, counters say {c['rejected_total']} rejected")
    check.summary = f"human/ {human:,} rows vs {c['kept']:,} kept, rejected/ {rejected:,} rows vs " \
                    f"{c['rejected_total']:,} rejected"
    return check


def check_inputs(manifest: dict[str, Any]) -> Check:
    check = Check("inputs")
    inputs = manifest.get("input_files")
    if inputs is None:
        check.fail("the manifest records no input files (written by an older provsieve?)")
        check.summary = "not recorded"
        return check
    unreadable = 0
    for entry in inputs:
        path = entry["path"]
        if entry.get("error"):  # could not be opened when the run started: its unreadable_file row says so
            unreadable += 1
            continue
        try:
            size, digest = file_sha256(path)
        except Exception as err:  # noqa: BLE001
            check.fail(f"{path}: cannot be read ({type(err).__name__}: {err})")
            continue
        if size != entry["bytes"]:
            check.fail(f"{path}: {size} bytes, {entry['bytes']} when the run started")
        if entry["sha256"] is not None and digest != entry["sha256"]:
            check.fail(f"{path}: sha256 {digest}, {entry['sha256']} when the run started")
    check.summary = f"{len(inputs)} files: size and sha256 against the start of the run" + (
        f" ({unreadable} could not be opened then, as their unreadable_file rows say)" if unreadable else "")
    return check


def sample_positions(shard_rows: list[int], n: int, seed: int) -> list[tuple[int, int]]:
    """``n`` distinct (shard index, row index) positions over all rows, the same for the same seed."""
    total = sum(shard_rows)
    starts = []
    acc = 0
    for rows in shard_rows:
        starts.append(acc)
        acc += rows
    picks = sorted(random.Random(seed).sample(range(total), min(n, total)))
    out = []
    for p in picks:
        i = bisect.bisect_right(starts, p) - 1
        out.append((i, p - starts[i]))
    return out


def _read_rows(path: str, indices: list[int]) -> list[dict[str, Any]]:
    """The rows at ``indices`` of a Parquet file, reading only the row groups that hold them."""
    with FileSystems.open(path) as f:
        pf = pq.ParquetFile(f)
        columns = [c for c in SAMPLE_COLUMNS if c in pf.schema_arrow.names] + \
            (["reject_reason"] if "reject_reason" in pf.schema_arrow.names else [])
        bounds = []
        acc = 0
        for g in range(pf.num_row_groups):
            bounds.append(acc)
            acc += pf.metadata.row_group(g).num_rows
        by_group: dict[int, list[int]] = {}
        for idx in indices:
            g = bisect.bisect_right(bounds, idx) - 1
            by_group.setdefault(g, []).append(idx - bounds[g])
        rows = []
        for g, local in sorted(by_group.items()):
            table = pf.read_row_group(g, columns=columns)
            rows.extend(table.take(local).to_pylist())
        return rows


def check_samples(output_dir: str, manifest: dict[str, Any], n: int, seed: int) -> Check:
    check = Check("sampled records")
    shards = manifest.get("shards") or []
    config = manifest.get("config") or {}
    options = ReaderOptions(text_field=config.get("text_field", "text"),
                            max_doc_bytes=config.get("max_doc_bytes", ReaderOptions().max_doc_bytes))
    positions = sample_positions([s["rows"] for s in shards], n, seed)
    by_shard: dict[int, list[int]] = {}
    for shard_index, row in positions:
        by_shard.setdefault(shard_index, []).append(row)
    matched = 0
    for shard_index, rows in sorted(by_shard.items()):
        name = shards[shard_index]["name"]
        try:
            records = _read_rows(_join(output_dir, name), rows)
        except Exception as err:  # noqa: BLE001
            check.fail(f"{name}: cannot read sampled rows ({type(err).__name__}: {err})")
            continue
        for row in records:
            where = (f"{name} doc {row['doc_id']} ({row['source_uri']} offset {row['source_offset']}, "
                     f"record {row['source_index']})")
            if make_doc_id(row["source_uri"], row["source_index"]) != row["doc_id"]:
                check.fail(f"{where}: doc_id does not match source_uri and source_index")
                continue
            if text_sha1(row["text"]) != row["content_sha1"]:
                check.fail(f"{where}: the stored text does not hash to its content_sha1")
                continue
            try:
                again = read_record(row["source_uri"], row["source_format"], row["source_offset"],
                                    row["source_index"], options)
            except Exception as err:  # noqa: BLE001
                check.fail(f"{where}: source cannot be re-read ({type(err).__name__}: {err})")
                continue
            if again is None:
                check.fail(f"{where}: no record at that position in the source")
            elif again.content_sha1 != row["content_sha1"]:
                check.fail(f"{where}: re-extracted content_sha1 {again.content_sha1} != {row['content_sha1']}")
            else:
                matched += 1
    check.summary = (f"{matched}/{len(positions)} rows (seed {seed}) re-read from their source "
                     f"with the same content_sha1")
    return check


def verify(output_dir: str, sample: int = DEFAULT_SAMPLE, seed: int = 0,
           input_hashes: bool = True, lineage_sample: int = DEFAULT_LINEAGE_SAMPLE) -> tuple[bool, list[Check]]:
    """Run every check on ``output_dir``; (all ok, the checks)."""
    manifest = read_manifest(output_dir)
    checks = [check_shards(output_dir, manifest), check_other_files(output_dir, manifest),
              check_counters(manifest), check_shard_rows(manifest)]
    if input_hashes:
        checks.append(check_inputs(manifest))
    if sample > 0:
        checks.append(check_samples(output_dir, manifest, sample, seed))
    from provsieve.pipeline.verify_lineage import lineage_checks

    checks += lineage_checks(output_dir, manifest, lineage_sample, seed)
    return all(c.ok for c in checks), checks


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add the ``verify`` subcommand."""
    vp = subparsers.add_parser(
        "verify", help="check a finished output against its manifest and its source files",
        description="Recompute every shard's sha256 and row count against manifest.json, check that the counters "
                    "add up, that the input files are unchanged, and re-read a sample of rows from their source "
                    "files to compare content_sha1. Exit code 0 only if everything holds.")
    vp.add_argument("output_dir", metavar="OUT", help="output directory of a finished provsieve run")
    vp.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N",
                    help=f"rows to re-read from their sources (default {DEFAULT_SAMPLE}; 0: none)")
    vp.add_argument("--seed", type=int, default=0, help="seed of the row sample (default 0)")
    vp.add_argument("--lineage-sample", type=int, default=DEFAULT_LINEAGE_SAMPLE, metavar="N",
                    help=f"kept rows checked against the earlier releases' indexes for copies (--after runs; "
                         f"default {DEFAULT_LINEAGE_SAMPLE}; 0: none)")
    vp.add_argument("--no-input-hashes", dest="input_hashes", action="store_false",
                    help="do not re-hash the input files (for very large inputs)")
    vp.set_defaults(func=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    output_dir = args.output_dir.rstrip("/") or "/"
    manifest_path = _join(output_dir, MANIFEST_NAME)
    try:
        ok, checks = verify(output_dir, args.sample, args.seed, args.input_hashes, args.lineage_sample)
    except (FileNotFoundError, OSError, ValueError, KeyError) as err:
        print(f"provsieve verify: cannot read {manifest_path}: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print(f"provsieve verify {output_dir}")
    for check in checks:
        print(check.format())
    failed = [c.name for c in checks if not c.ok]
    print("verify: OK" if ok else f"verify: FAILED ({', '.join(failed)})")
    return 0 if ok else 1

