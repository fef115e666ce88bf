"""``OUT/manifest.json``: what went in, what came out, and why.

Built on a worker at the very end of the run from the shard list and the
counters the pipeline itself computed (PCollection sums, exact on every runner,
unlike metrics), then written last.
"""

from __future__ import annotations

import collections
import datetime
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.options import RunConfig
from provsieve.transforms.write import ShardInfo, read_json

MANIFEST_NAME = "manifest.json"
TRACKED_PACKAGES = ("provsieve", "apache-beam", "datasketch", "fasttext", "pyarrow", "numpy", "fastwarc",
                    "resiliparse", "warcio", "htmldate", "zstandard")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = sys.version.split()[0]
    return versions


def git_commit() -> str | None:
    """The commit of a provsieve source checkout, when running from one."""
    try:
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def summarize_counts(facts: Iterable[tuple[tuple[str, str, str], Any]]) -> dict[str, Any]:
    """Turn the pipeline's ``((category, key, name), value)`` sums into the manifest's counters.

    ``input_records`` is counted right after reading; ``kept`` and ``rejected``
    from what was written. ``balanced`` says whether they add up, in total and
    for every input file.
    """
    per_file: dict[str, dict[str, Any]] = collections.defaultdict(
        lambda: {"input_records": 0, "kept": 0, "rejected": {}})
    tiers: dict[str, int] = {}
    created_sources: dict[str, int] = {}
    threshold = None
    for (category, key, name), value in facts:
        if category == "read":
            per_file[key]["input_records"] += value
        elif category == "final" and name == "kept":
            per_file[key]["kept"] += value
        elif category == "final":
            rejected = per_file[key]["rejected"]
            rejected[name] = rejected.get(name, 0) + value
        elif category == "tier":
            tiers[name] = value
        elif category == "created_source":
            created_sources[name] = value
        elif category == "ai_threshold":
            threshold = {"value": value, "chosen_by": key}
    totals_rejected: dict[str, int] = collections.Counter()
    for entry in per_file.values():
        entry["rejected_total"] = sum(entry["rejected"].values())
        entry["balanced"] = entry["input_records"] == entry["kept"] + entry["rejected_total"]
        totals_rejected.update(entry["rejected"])
    input_records = sum(e["input_records"] for e in per_file.values())
    kept = sum(e["kept"] for e in per_file.values())
    rejected_total = sum(totals_rejected.values())
    return {
        "counters": {
            "input_records": input_records,
            "kept": kept,
            "rejected": dict(sorted(totals_rejected.items())),
            "rejected_total": rejected_total,
            "balanced": input_records == kept + rejected_total and all(e["balanced"] for e in per_file.values()),
        },
        "files": dict(sorted(per_file.items())),
        "file_errors": sorted(uri for uri, e in per_file.items()
                              if e["rejected"].get("unreadable_file") or e["rejected"].get("truncated_file")),
        "documents_by_pre_cutoff_evidence": dict(sorted(tiers.items())),
        "documents_by_created_source": dict(sorted(created_sources.items())),
        "ai_threshold": threshold,
    }


def build_manifest(config: RunConfig, shards: list[ShardInfo], facts: list) -> dict[str, Any]:
    from provsieve.transforms import ai_detector

    summary = summarize_counts(facts)
    return {
        "provsieve_version": package_versions()["provsieve"],
        "git_commit": git_commit(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": sys.argv,
        "config": config.to_json(),
        "config_sha256": config.sha256(),
        "versions": package_versions(),
        "ai_model": {"version": ai_detector.MODEL_VERSION} if config.ai else None,
        "policy": {"cutoff": config.cutoff, "trust": config.trust, "mode": config.mode},
        **summary,
        "shards": [s._asdict() for s in sorted(shards, key=lambda s: s.name)],
    }


def read_manifest(output_dir: str) -> dict[str, Any]:
    return read_json(FileSystems.join(output_dir, MANIFEST_NAME))
