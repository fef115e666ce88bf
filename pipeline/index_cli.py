"""``provsieve index OUT``: write the de-duplication index of a release that has none.

Outputs of an older provsieve (or of a run with ``--no-dedup``) have no
``OUT/index/``, so no run can be ``--after`` them. This command reads the kept
documents of ``OUT/human/`` and the near duplicates of ``OUT/rejected/`` (those
whose kept copy is kept), one shard at a time, fingerprints them with the
parameters of the release's own config (or those given), writes the index
files as the run would have and adds ``dedup_index`` to ``OUT/manifest.json``,
recording the sha256 the manifest had before. Nothing else of the release
changes. The index rows (~450 bytes each) are held in memory until written.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import sys
from typing import Any, Optional

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.manifest import MANIFEST_NAME, read_manifest, write_manifest
from provsieve.transforms.dates import to_iso
from provsieve.transforms.dedup_index import INDEX_KIND, INDEX_ROWS_PER_SHARD, index_params, index_rows
from provsieve.transforms.keep_rule import oldest_evidence
from provsieve.transforms.minhash import DEFAULT_NGRAM, DEFAULT_NUM_PERM, DEFAULT_SEED, DEFAULT_THRESHOLD
from provsieve.transforms.near_dedup import REJECT_REASON as NEAR_DUPLICATE
from provsieve.transforms.near_dedup import lsh_bands_rows
from provsieve.transforms.write import shard_count, split_by_shard, write_shard_file

COLUMNS = ["doc_id", "text", "crawl_date", "created", "pre_cutoff_evidence", "reject_reason", "duplicate_of"]


def _iso(value: Optional[datetime.datetime]) -> Optional[str]:
    return to_iso(value) if value else None


def evidence_dates(table: pa.Table) -> list[Optional[str]]:
    """The keep rule's oldest evidence per row (:func:`~provsieve.transforms.keep_rule.oldest_evidence`),
    from stored columns."""
    return [oldest_evidence(_iso(crawl), _iso(created), tier)
            for crawl, created, tier in zip(table.column("crawl_date").to_pylist(), table.column("created").to_pylist(),
                                            table.column("pre_cutoff_evidence").to_pylist())]


def release_params(config: dict[str, Any], num_perm: Optional[int] = None, ngram: Optional[int] = None,
                   threshold: Optional[float] = None) -> dict[str, Any]:
    """Index parameters of a release: as given, else as its config ran."""
    num_perm = num_perm or config.get("num_perm", DEFAULT_NUM_PERM)
    threshold = threshold if threshold is not None else config.get("dedup_threshold", DEFAULT_THRESHOLD)
    bands, rows = lsh_bands_rows(threshold, num_perm)
    return index_params(num_perm, ngram or config.get("ngram", DEFAULT_NGRAM), DEFAULT_SEED, bands, rows, threshold)


KEPT, NEAR = "kept", "near"


def index_rows_of(output_dir: str, name: str, params: dict[str, Any], which: str) -> pa.Table:
    """Index rows of one shard's kept documents (``which="kept"``) or near duplicates (``"near"``)."""
    with FileSystems.open(FileSystems.join(output_dir, name)) as f:
        pf = pq.ParquetFile(f)
        columns = [c for c in COLUMNS if c in pf.schema_arrow.names]
        has_reasons = "reject_reason" in columns
        if which == NEAR and not has_reasons:  # human/ of --mode filter: no near duplicates, nothing to read
            return index_rows([], [], [], params)
        pieces = []
        for group in range(pf.num_row_groups):
            table = pf.read_row_group(group, columns=columns)
            if which == KEPT and has_reasons:  # --mode tag: human/ holds every verdict
                table = table.filter(pc.is_null(table.column("reject_reason")))
            elif which == NEAR:
                table = table.filter(pc.equal(table.column("reject_reason"), NEAR_DUPLICATE))
            pieces.append(index_rows(table.column("doc_id").to_pylist(), table.column("text").to_pylist(),
                                     evidence_dates(table), params,
                                     table.column("duplicate_of").to_pylist() if which == NEAR else None))
    return pa.concat_tables(pieces) if pieces else index_rows([], [], [], params)


def rebuild_index(output_dir: str, params: Optional[dict[str, Any]] = None, force: bool = False) -> dict[str, Any]:
    """Write ``output_dir/index/`` from its kept documents and record it in the manifest; return the manifest."""
    manifest_path = FileSystems.join(output_dir, MANIFEST_NAME)
    with FileSystems.open(manifest_path) as f:
        before = hashlib.sha256(f.read()).hexdigest()
    manifest = read_manifest(output_dir)
    if manifest.get("dedup_index") is not None and not force:
        raise FileExistsError(f"{output_dir} has a de-duplication index already (--force rebuilds it; the manifest "
                              f"sha256 changes, which breaks the lineage of releases built on it)")
    params = params or release_params(manifest.get("config") or {})
    shards = sorted(manifest.get("shards") or [], key=lambda s: s["name"])
    kept = [index_rows_of(output_dir, s["name"], params, KEPT) for s in shards if s["kind"] == "human"]
    kept_ids = pa.array(sorted({d for t in kept for d in t.column("doc_id").to_pylist()}), pa.string())
    near = [t.filter(pc.is_in(t.column("kept_doc_id"), value_set=kept_ids))
            for s in shards for t in [index_rows_of(output_dir, s["name"], params, NEAR)]]
    rows = pa.concat_tables(kept + near) if kept or near else None
    files = []
    if rows is not None and rows.num_rows:
        num_shards = shard_count(rows.num_rows, INDEX_ROWS_PER_SHARD)
        for shard, table in split_by_shard(rows, num_shards):
            info = write_shard_file((shard, [table]), output_dir, INDEX_KIND, num_shards)
            files.append(info._asdict())
    documents, size = sum(f["rows"] for f in files), sum(f["bytes"] for f in files)
    manifest["dedup_index"] = {
        "params": params, "documents": documents, "bytes": size,
        "bytes_per_document": round(size / documents, 1) if documents else None, "files": files,
        "rebuilt": {"by": "provsieve index",
                    "at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "manifest_sha256_before": before},
    }
    write_manifest(output_dir, manifest)
    return manifest


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add the ``index`` subcommand."""
    ip = subparsers.add_parser(
        "index", help="write the de-duplication index of a release that has none (so runs can be --after it)",
        description="Fingerprint the kept documents of a finished output (human/), write OUT/index/ and record it in "
                    "OUT/manifest.json. Parameters default to the release's own config.")
    ip.add_argument("output_dir", metavar="OUT", help="output directory of a finished provsieve run")
    ip.add_argument("--num-perm", type=int, default=None, help="MinHash permutations (default: the release's)")
    ip.add_argument("--ngram", type=int, default=None, help="word n-gram size (default: the release's)")
    ip.add_argument("--dedup-threshold", type=float, default=None, help="threshold (default: the release's)")
    ip.add_argument("--force", action="store_true", help="rebuild an index that exists already")
    ip.set_defaults(func=index_command)


def index_command(args: argparse.Namespace) -> int:
    output_dir = args.output_dir.rstrip("/") or "/"
    try:
        manifest = read_manifest(output_dir)
        params = release_params(manifest.get("config") or {}, args.num_perm, args.ngram, args.dedup_threshold)
        manifest = rebuild_index(output_dir, params, args.force)
    except (FileNotFoundError, FileExistsError, OSError, ValueError) as err:
        print(f"provsieve index: error: {err}", file=sys.stderr)
        return 2
    index = manifest["dedup_index"]
    print(f"{output_dir}: index of {index['documents']:,} documents in {len(index['files'])} files, "
          f"{index['bytes']:,} bytes")
    return 0
