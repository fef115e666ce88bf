"""Earlier releases (``--after``): found, checked and summarised on the launching machine, before the run.

A release is a finished provsieve output folder (its ``manifest.json``
vouches for everything in it). ``--after`` names some; the releases they were
themselves built on (their manifests' ``lineage``) are followed too, so a run
``--after`` last week's release also rejects copies of what the weeks before
released. Before the pipeline starts:

* every release must have a de-duplication index whose parameters
  (:data:`~provsieve.transforms.dedup_index.COMPARED`) equal this run's, and
  every link of the chain must still have the manifest sha256 recorded by the
  release that built on it: otherwise :class:`ReleaseError` (exit 2);
* input files an earlier release processed already (same path and size, and
  the same sha256, or the same mtime where either run skipped hashing) are
  left out, unless ``--reprocess``.

The manifest records the lineage (:func:`lineage_facts`): each release's path,
manifest sha256 and index, and the cross-release policy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Iterable, Optional, Sequence

from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.manifest import MANIFEST_NAME
from provsieve.pipeline.options import RunConfig
from provsieve.transforms.dedup_index import index_params, param_mismatches
from provsieve.transforms.match_inputs import glob_escape
from provsieve.transforms.minhash import DEFAULT_SEED
from provsieve.transforms.near_dedup import lsh_bands_rows

POLICY = ("across releases the earlier release wins: a document that is an exact or near copy of a document kept "
          "by an earlier release is rejected as released_duplicate (duplicate_of = that document, duplicate_release "
          "= its release) and nothing of the earlier release is rewritten; within this run the copy with the oldest "
          "evidence of existence is kept, then the smallest doc_id")


class ReleaseError(ValueError):
    """An earlier release that cannot be built on (missing, broken chain, no index, other parameters)."""


@dataclasses.dataclass(frozen=True)
class Release:
    path: str
    manifest: dict[str, Any]
    manifest_sha256: str
    direct: bool
    """Named by ``--after`` (else reached through another release's lineage)."""

    @property
    def index(self) -> Optional[dict[str, Any]]:
        return self.manifest.get("dedup_index")

    @property
    def index_files(self) -> list[str]:
        return [FileSystems.join(self.path, f["name"]) for f in (self.index or {}).get("files", [])]


def config_index_params(config: RunConfig) -> dict[str, Any]:
    """The index parameters a run of ``config`` writes and compares."""
    bands, rows = lsh_bands_rows(config.dedup_threshold, config.num_perm)
    return index_params(config.num_perm, config.ngram, DEFAULT_SEED, bands, rows, config.dedup_threshold)


def _absolute(path: str) -> str:
    path = path.rstrip("/") or "/"
    return os.path.abspath(path) if FileSystems.get_scheme(path) is None else path


def match_releases(patterns: Iterable[str], output: Optional[str] = None) -> list[str]:
    """Folders with a ``manifest.json`` that the ``--after`` patterns match (each must match one at least).

    A glob never matches ``output`` (a rerun with ``--overwrite`` of this week's
    release ``--after 'releases/*'``); naming it exactly is an error later.
    """
    found: set[str] = set()
    own = _absolute(output) if output else None
    for pattern in patterns:
        manifests = [m.path for r in FileSystems.match([FileSystems.join(_absolute(pattern), MANIFEST_NAME)])
                     for m in r.metadata_list]
        folders = {m[: -len(MANIFEST_NAME)].rstrip("/") for m in manifests}
        if glob_escape(pattern) != pattern:
            folders.discard(own)
        if not folders:
            raise ReleaseError(f"--after {pattern}: no finished provsieve output (a folder with {MANIFEST_NAME}) "
                               f"matches")
        found.update(folders)
    return sorted(found)


def load_release(path: str, direct: bool) -> Release:
    try:
        with FileSystems.open(FileSystems.join(path, MANIFEST_NAME)) as f:
            raw = f.read()
        manifest = json.loads(raw)
    except Exception as err:  # noqa: BLE001 - any unreadable release is the same user error
        raise ReleaseError(f"release {path}: cannot read its {MANIFEST_NAME} ({type(err).__name__}: {err})") from err
    return Release(path, manifest, hashlib.sha256(raw).hexdigest(), direct)


def earlier_links(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The releases a manifest's run was built on, as it recorded them."""
    return list((manifest.get("lineage") or {}).get("releases") or [])


def load_releases(patterns: Sequence[str], output: Optional[str] = None) -> list[Release]:
    """The releases ``--after`` names and every release they were built on, oldest first.

    Raises :class:`ReleaseError` when a release cannot be read or a link of the
    chain no longer has the manifest sha256 recorded by the release after it.
    """
    releases: dict[str, Release] = {}
    linked: dict[str, Release] = {}  # read once to check a link, not again when its turn comes
    queue = [(path, True) for path in match_releases(patterns, output)]
    while queue:
        path, direct = queue.pop(0)
        if path in releases:
            continue
        release = linked.pop(path, None)
        release = releases[path] = (dataclasses.replace(release, direct=direct) if release is not None
                                    else load_release(path, direct))
        for link in earlier_links(release.manifest):
            earlier = releases.get(link["path"]) or linked.get(link["path"])
            if earlier is None:
                earlier = linked[link["path"]] = load_release(link["path"], False)
            if earlier.manifest_sha256 != link["manifest_sha256"]:
                raise ReleaseError(f"release {path} was built on {link['path']} whose {MANIFEST_NAME} had sha256 "
                                   f"{link['manifest_sha256']}; it now has {earlier.manifest_sha256}: the chain of "
                                   f"releases is broken")
            queue.append((link["path"], False))
    return sorted(releases.values(), key=lambda r: (r.manifest.get("finished_at") or "", r.path))


def check_releases(releases: Sequence[Release], params: dict[str, Any], output: str) -> None:
    """Raise :class:`ReleaseError` unless every release can be de-duplicated against with ``params``."""
    for release in releases:
        if release.path == _absolute(output):
            raise ReleaseError(f"--after {release.path} is this run's own output folder")
        if release.index is None:
            raise ReleaseError(f"release {release.path} has no de-duplication index (written by an older provsieve "
                               f"or with --no-dedup): rebuild it with `provsieve index {release.path}`")
        mismatches = param_mismatches(release.index.get("params") or {}, params)
        if mismatches:
            raise ReleaseError(f"release {release.path} was indexed with other parameters than this run's, so its "
                               f"index cannot be compared: " + "; ".join(mismatches))
        for entry, path in zip(release.index.get("files") or [], release.index_files):
            found = [m.size_in_bytes for r in FileSystems.match([glob_escape(path)]) for m in r.metadata_list]
            if found != [entry["bytes"]]:
                raise ReleaseError(f"release {release.path}: index file {entry['name']} is "
                                   + (f"{found[0]} bytes, its manifest says {entry['bytes']}" if found else "missing")
                                   + f" (`provsieve verify {release.path}` checks the whole release)")


def same_file(now: dict[str, Any], then: dict[str, Any]) -> bool:
    """Is an input file (``describe_inputs`` entry) the one an earlier release processed?"""
    if now["path"] != then.get("path") or now["bytes"] != then.get("bytes"):
        return False
    if now.get("sha256") and then.get("sha256"):
        return now["sha256"] == then["sha256"]
    return now.get("mtime") is not None and now.get("mtime") == then.get("mtime")


def split_processed(input_files: Sequence[dict[str, Any]], releases: Sequence[Release]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(files to read, files skipped with the release that processed them)."""
    processed: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for release in releases:
        for entry in release.manifest.get("input_files") or []:
            processed.setdefault(entry["path"], []).append((entry, release.path))
    keep, skipped = [], []
    for entry in input_files:
        by = next((path for then, path in processed.get(entry["path"], []) if same_file(entry, then)), None)
        if by is None:
            keep.append(entry)
        else:
            skipped.append({**entry, "release": by})
    return keep, skipped


def lineage_facts(releases: Sequence[Release], reprocess: bool) -> dict[str, Any]:
    """The manifest's ``lineage``: the policy, and each earlier release with its manifest sha256 and index."""
    return {
        "policy": POLICY,
        "reprocess": reprocess,
        "releases": [{
            "path": r.path,
            "manifest_sha256": r.manifest_sha256,
            "direct": r.direct,
            "finished_at": r.manifest.get("finished_at"),
            "config_sha256": r.manifest.get("config_sha256"),
            "kept": (r.manifest.get("counters") or {}).get("kept"),
            "index_documents": (r.index or {}).get("documents"),
            "index_bytes": (r.index or {}).get("bytes"),
        } for r in releases],
    }


def load_releases_checked(config: RunConfig) -> list[Release]:
    """``config.after``'s releases and those they were built on, checked against this run (else ReleaseError)."""
    releases = load_releases(config.after, config.output)
    check_releases(releases, config_index_params(config), config.output)
    return releases


def plan_releases(config: RunConfig, driver: dict[str, Any]) -> list[Release]:
    """Load and check ``config.after``, and record in ``driver`` (the driver facts) what the run needs.

    Adds ``lineage``, ``skipped_inputs``, ``read_inputs`` (the files left to
    read, as globs) and ``released_index_files`` (``(index file, release)``),
    and narrows ``input_files`` to the files read.
    """
    releases = load_releases_checked(config)
    driver["lineage"] = lineage_facts(releases, config.reprocess)
    driver["released_index_files"] = [(f, r.path) for r in releases for f in r.index_files]
    if not config.reprocess:
        keep, skipped = split_processed(driver["input_files"], releases)
        driver["input_files"], driver["skipped_inputs"] = keep, skipped
        if skipped:
            driver["read_inputs"] = [glob_escape(f["path"]) for f in keep]
    return releases
