"""The checks of ``provsieve verify`` about releases: this run's dedup index, and the chain it was built on.

* **index**: every index file listed under ``dedup_index`` exists with its
  size, sha256 and row count, carries the recorded parameters, and there is
  one row per kept document (plus the near duplicates', which name theirs);
* **lineage** (runs ``--after`` earlier releases): each earlier release's
  ``manifest.json`` still has the sha256 this run recorded, and its index files
  match that manifest, so the chain of releases is intact;
* **released copies**: a deterministic sample of kept rows (``--lineage-sample``,
  ``--seed``) is fingerprinted again and compared with every document of the
  chain's indexes, exact key and LSH bands with the Jaccard verified, as the
  run compared them: none may be a copy.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.releases import Release, ReleaseError, load_release
from provsieve.pipeline.verify import Check, _read_rows, check_parquet_files, sample_positions
from provsieve.transforms.dedup_index import (
    INDEX_KIND,
    index_row_groups,
    index_rows,
    read_params,
    released_names,
    signature_matrix,
)
from provsieve.transforms.near_dedup import band_hashes


def check_index(output_dir: str, manifest: dict[str, Any]) -> Check:
    check = Check("index")
    index = manifest["dedup_index"]
    files = index.get("files") or []
    check_parquet_files(output_dir, files, (INDEX_KIND,), check)
    for entry in files:
        path = FileSystems.join(output_dir, entry["name"])
        if FileSystems.exists(path):
            try:
                params = read_params(path)
            except Exception as err:  # noqa: BLE001 - reported by check_parquet_files already
                params = {"unreadable": str(err)}
            if params != index.get("params"):
                check.fail(f"{entry['name']}: parameters {params} != the manifest's {index.get('params')}")
    documents = sum(f["rows"] for f in files)
    if documents != index.get("documents"):
        check.fail(f"index files hold {documents} rows, the manifest says {index.get('documents')}")
    paths = [FileSystems.join(output_dir, e["name"]) for e in files]
    kept_rows = sum(t.column("kept_doc_id").null_count for p in paths if FileSystems.exists(p)
                    for t in index_row_groups(p))
    filter_mode = (manifest.get("config") or {}).get("mode", "filter") == "filter"
    if filter_mode and kept_rows != manifest["counters"]["kept"]:
        check.fail(f"index holds {kept_rows} kept documents, {manifest['counters']['kept']} were kept")
    per_doc = f", {index['bytes_per_document']:.0f} bytes per document" if index.get("bytes_per_document") else ""
    check.summary = (f"{len(files)} files, {kept_rows:,} kept documents + {documents - kept_rows:,} near "
                     f"duplicates{per_doc}: size, sha256, rows and parameters against the manifest")
    return check


def check_chain(manifest: dict[str, Any]) -> tuple[Check, list[Release]]:
    check = Check("lineage")
    links = (manifest.get("lineage") or {}).get("releases") or []
    releases = []
    for link in links:
        try:
            release = load_release(link["path"], link.get("direct", True))
        except ReleaseError as err:
            check.fail(str(err))
            continue
        if release.manifest_sha256 != link["manifest_sha256"]:
            check.fail(f"{link['path']}: manifest sha256 {release.manifest_sha256}, recorded "
                       f"{link['manifest_sha256']}")
            continue
        files = Check("index of " + link["path"])
        check_parquet_files(release.path, (release.index or {}).get("files") or [], (INDEX_KIND,), files)
        for problem in files.problems:
            check.fail(f"{link['path']}: {problem}")
        releases.append(release)
    check.summary = (f"{len(releases)}/{len(links)} earlier releases: manifest sha256 as recorded, index files "
                     f"as their manifests say")
    return check, releases


def released_copies(sample: pa.Table, index_tables: Iterable[tuple[str, pa.Table]], params: dict[str, Any]
                    ) -> Iterator[tuple[str, str, str, str]]:
    """``(sample doc_id, release, released doc_id, exact|near)`` for every copy of a sampled row in the indexes.

    Near copies as the run finds them: a shared LSH band and an estimated
    Jaccard at or above the threshold.
    """
    bands, rows, threshold = params["bands"], params["rows"], params["threshold"]
    ids = sample.column("doc_id").to_pylist()
    by_key: dict[bytes, list[int]] = {}
    for i, key in enumerate(sample.column("text_key").to_pylist()):
        by_key.setdefault(key, []).append(i)
    sigs = signature_matrix(sample)
    sample_bands = band_hashes(sigs, bands, rows)
    need = threshold * sigs.shape[1] - 1e-9
    for release, table in index_tables:
        released_ids = released_names(table)
        for r, key in enumerate(table.column("text_key").to_pylist()):
            for i in by_key.get(key, ()):
                yield ids[i], release, released_ids[r], "exact"
        theirs = signature_matrix(table)
        their_bands = band_hashes(theirs, bands, rows)
        pairs: set[tuple[int, int]] = set()
        for band in range(bands):
            for r in np.flatnonzero(np.isin(their_bands[:, band], sample_bands[:, band])).tolist():
                pairs.update((i, r) for i in np.flatnonzero(sample_bands[:, band] == their_bands[r, band]).tolist())
        for i, r in sorted(pairs):
            if np.count_nonzero(sigs[i] == theirs[r]) >= need:
                yield ids[i], release, released_ids[r], "near"


def check_released_copies(output_dir: str, manifest: dict[str, Any], releases: list[Release], n: int,
                          seed: int) -> Check:
    check = Check("released copies")
    human = [s for s in manifest.get("shards") or [] if s["kind"] == "human"]
    rows: list[dict[str, Any]] = []
    by_shard: dict[int, list[int]] = {}
    for shard_index, row in sample_positions([s["rows"] for s in human], n, seed):
        by_shard.setdefault(shard_index, []).append(row)
    for shard_index, indices in sorted(by_shard.items()):
        rows += [r for r in _read_rows(FileSystems.join(output_dir, human[shard_index]["name"]), indices)
                 if r.get("reject_reason") is None]
    params = manifest["dedup_index"]["params"]
    sample = index_rows([r["doc_id"] for r in rows], [r["text"] for r in rows], [None] * len(rows), params)
    tables = ((r.path, t) for r in releases for path in r.index_files for t in index_row_groups(path))
    found = 0
    for doc_id, release, released_id, kind in released_copies(sample, tables, params):
        found += 1
        check.fail(f"kept {doc_id} is an {kind} copy of {released_id} of release {release}")
    documents = sum((r.index or {}).get("documents") or 0 for r in releases)
    check.summary = (f"{len(rows)} kept rows (seed {seed}) against {documents:,} documents of {len(releases)} "
                     f"earlier releases: {found} copies")
    return check


def lineage_checks(output_dir: str, manifest: dict[str, Any], sample: int, seed: int) -> list[Check]:
    """The release checks that apply to ``manifest`` (none for an output of an older provsieve)."""
    checks = []
    if manifest.get("dedup_index") is not None:
        checks.append(check_index(output_dir, manifest))
    if manifest.get("lineage"):
        chain, releases = check_chain(manifest)
        checks.append(chain)
        if sample > 0 and manifest.get("dedup_index") is not None:
            checks.append(check_released_copies(output_dir, manifest, releases, sample, seed))
    return checks
