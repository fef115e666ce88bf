"""``OUT/manifest.json``: what went in, what came out, and why.

Built on a worker at the very end of the run from the shard list and the
counters the pipeline itself computed (PCollection sums, exact on every runner,
unlike metrics), then written last. Facts only the launching machine knows
(the command line, the git commit, the input files' sizes and sha256s, the AI
model's sha256) are collected on the driver before the pipeline starts
(:func:`driver_facts`) and handed to the publish step.

The publish step (:func:`finish_output`) writes ``croissant.json`` first, from
the same shard list, and records its sha256 in the manifest, so
``manifest.json`` stays the last file written and vouches for everything else.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.options import RunConfig
from provsieve.transforms.dedup_index import INDEX_KIND
from provsieve.transforms.write import ShardInfo, read_json, write_json

MANIFEST_NAME = "manifest.json"
HASH_CHUNK = 8 * 1024 * 1024

STAGES = ("read", "language", "released_dedup", "exact_dedup", "near_dedup", "ai")
"""The steps that reject documents, in pipeline order (``released_dedup``: copies of earlier releases)."""
STAGE_OF_REASON = {"language_filtered": "language", "released_duplicate": "released_dedup",
                   "exact_duplicate": "exact_dedup", "near_duplicate": "near_dedup", "ai_generated": "ai"}
"""The step behind each ``reject_reason``; every other reason comes from the reader."""
TRACKED_PACKAGES = ("provsieve", "apache-beam", "datasketch", "fasttext", "pyarrow", "numpy", "fastwarc",
                    "resiliparse", "warcio", "htmldate", "zstandard")


BANDED_DEFAULT = "shipped model default, by length"
"""How ``ai_threshold.chosen_by`` starts when the run used the model's length bands (their list follows)."""


def threshold_label(threshold: dict[str, Any]) -> str:
    """``ai_threshold`` for people: the bands when there are several (the one ``value`` is only the strictest)."""
    if str(threshold["chosen_by"]).startswith(BANDED_DEFAULT):
        return str(threshold["chosen_by"])
    return f"{threshold['value']:.3f} ({threshold['chosen_by']})"


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
    by_language: dict[str, dict[str, Any]] = collections.defaultdict(lambda: {"kept": 0, "rejected": {}})
    ai_unsupported: dict[str, int] = {}
    capture_sources: dict[str, int] = {}
    threshold = None
    released: dict[str, dict[str, int]] = {}
    stage2: dict[str, int] = {}
    for (category, key, name), value in facts:
        if category == "read":
            per_file[key]["input_records"] += value
        elif category == "skipped":
            _add_skipped(per_file[key], name, value)
        elif category == "final" and name == "kept":
            per_file[key]["kept"] += value
        elif category == "final":
            rejected = per_file[key]["rejected"]
            rejected[name] = rejected.get(name, 0) + value
        elif category == "tier":
            tiers[name] = value
        elif category == "created_source":
            created_sources[name] = value
        elif category == "capture_source":
            capture_sources[name] = value
        elif category == "ai_threshold":
            threshold = {"value": value, "chosen_by": key}
        elif category == "language" and name == "kept":
            by_language[key]["kept"] += value
        elif category == "language":
            by_language[key]["rejected"][name] = by_language[key]["rejected"].get(name, 0) + value
        elif category == "ai_unsupported_language":
            ai_unsupported[name] = ai_unsupported.get(name, 0) + value
        elif category == "released":
            by_release = released.setdefault(key, {})
            by_release[name] = by_release.get(name, 0) + value
        elif category == "ai_stage2":
            stage2[name] = value
    totals_rejected: dict[str, int] = collections.Counter()
    totals_skipped: dict[str, int] = collections.Counter()
    totals_notes: dict[str, int] = collections.Counter()
    for entry in per_file.values():
        entry["rejected_total"] = sum(entry["rejected"].values())
        entry["balanced"] = entry["input_records"] == entry["kept"] + entry["rejected_total"]
        totals_rejected.update(entry["rejected"])
        totals_skipped.update(entry.get("skipped_records", {}))
        totals_notes.update({k: entry[k] for k in READER_NOTES if k in entry})
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
            "skipped_records": dict(sorted(totals_skipped.items())),
            **{note: totals_notes.get(note, 0) for note in READER_NOTES},
        },
        "files": dict(sorted(per_file.items())),
        "file_errors": sorted(uri for uri, e in per_file.items()
                              if e["rejected"].get("unreadable_file") or e["rejected"].get("truncated_file")),
        "documents_by_pre_cutoff_evidence": dict(sorted(tiers.items())),
        "documents_by_created_source": dict(sorted(created_sources.items())),
        "documents_by_capture_source": dict(sorted(capture_sources.items())),
        "ai_threshold": threshold,
        "documents_by_language": language_breakdown(by_language),
        "ai_unsupported_language": dict(sorted(ai_unsupported.items(), key=lambda kv: (-kv[1], kv[0]))),
        "released_duplicates": {k: dict(sorted(v.items())) for k, v in sorted(released.items())},
        **({"ai_stage2": stage2_summary(stage2)} if stage2 else {}),
    }


def language_breakdown(by_language: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Kept and rejected (by reason) per decided language, most documents first.

    ``und``: language not confident; ``none``: rejected while reading, before
    the language step.
    """
    rows = {lang: {"documents": e["kept"] + sum(e["rejected"].values()), "kept": e["kept"],
                   "rejected": dict(sorted(e["rejected"].items()))} for lang, e in by_language.items()}
    return dict(sorted(rows.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))


READER_NOTES = ("revisit_records", "arc_resynchronised")
"""Reader tallies counted apart from the skipped records: ``revisit`` records (their payload is stored in
another record) and ARC records read after a wrong declared length."""


def _add_skipped(entry: dict[str, Any], kind: str, count: int) -> None:
    """One reader tally fact into a file's entry: records that are not documents (not input records)."""
    if kind == "revisit":
        entry["revisit_records"] = entry.get("revisit_records", 0) + count
    elif kind == "arc_resynchronised":
        entry["arc_resynchronised"] = entry.get("arc_resynchronised", 0) + count
    else:
        skipped = entry.setdefault("skipped_records", {})
        skipped[kind] = skipped.get(kind, 0) + count


def stage2_summary(counts: dict[str, int]) -> dict[str, Any]:
    """``--ai-detector cascade``: documents routed to the LM, their share of those tagged, and the shipped band.

    ``stage1_rejected``: documents in the band that stage 1 already rejects, which the LM skips when the run
    rejects at thresholds known before it starts (stage 2 only adds); 0 in ``--mode tag``, where it scores them.
    """
    from provsieve.transforms.ai_cascade import CascadeCombiner

    combiner = CascadeCombiner.load()
    routed, skipped = counts.get("routed", 0), counts.get("stage1_rejected", 0)
    other = counts.get("not_routed", 0) + skipped
    return {"routed": routed, "not_routed": other, "stage1_rejected": skipped,
            "routed_share": round(routed / (routed + other), 4) if routed + other else 0.0,
            "band": list(combiner.band), "stage2_threshold": combiner.threshold,
            "stage2_threshold_bands": [[w, t] for w, t in combiner.policy.bands], "combiner": combiner.version}


def file_sha256(path: str) -> tuple[int, str]:
    """(size in bytes, hex sha256) of the raw bytes of ``path`` on any Beam filesystem."""
    from apache_beam.io.filesystem import CompressionTypes

    digest = hashlib.sha256()
    size = 0
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        while True:
            chunk = f.read(HASH_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def describe_inputs(patterns: Iterable[str], hash_limit_bytes: int) -> list[dict[str, Any]]:
    """Every file the input globs match (as the reader matches them), with its size and sha256.

    The launching machine reads every byte to hash it, so that is done only
    while the inputs total at most ``hash_limit_bytes``; above it (a crawl on
    ``gs://``, say) the sizes are recorded and ``sha256`` is null.
    """
    from provsieve.transforms.match_inputs import match_pattern

    matched = {m.path: m for pattern in patterns for m in match_pattern(pattern)}
    hash_them = sum(m.size or 0 for m in matched.values()) <= hash_limit_bytes
    files = []
    for path in sorted(matched):
        size, mtime = matched[path].size, matched[path].mtime
        if size is None:
            files.append({"path": path, "bytes": None, "sha256": None, "mtime": None,
                          "error": "matches the input glob but cannot be opened (dangling symlink or vanished)"})
        elif hash_them:
            try:
                size, digest = file_sha256(path)
            except OSError as err:  # permission denied, vanished: the reader reports it as unreadable_file
                files.append({"path": path, "bytes": size, "sha256": None, "mtime": mtime,
                              "error": f"cannot be opened: {type(err).__name__}: {err}"})
                continue
            files.append({"path": path, "bytes": size, "sha256": digest, "mtime": mtime})
        else:
            files.append({"path": path, "bytes": size, "sha256": None, "mtime": mtime})
    return files


def ai_model_info(config: RunConfig) -> dict[str, Any] | None:
    """The shipped AI model: version, sha256, and how its default threshold was chosen (None with ``--no-ai``)."""
    if not config.ai:
        return None
    from importlib import resources

    from provsieve.transforms import ai_detector

    meta = ai_detector._SHIPPED_METADATA
    info: dict[str, Any] = {
        "version": ai_detector.MODEL_VERSION,
        "resource": f"{ai_detector.MODEL_PACKAGE}/{ai_detector.MODEL_RESOURCE}",
        "sha256": None,
        "bytes": None,
        "default_threshold": ai_detector.DEFAULT_THRESHOLD,
        "default_threshold_method": meta.get("threshold_method"),
        "default_threshold_bands": meta.get("threshold_bands"),
        "declared_sha256": meta.get("sha256"),
        "languages": list(ai_detector.SUPPORTED_LANGUAGES) if ai_detector.SUPPORTED_LANGUAGES is not None else None,
    }
    try:
        data = resources.files(ai_detector.MODEL_PACKAGE).joinpath(ai_detector.MODEL_RESOURCE).read_bytes()
        info["sha256"] = hashlib.sha256(data).hexdigest()
        info["bytes"] = len(data)
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        info["missing"] = True
    if getattr(config, "ai_detector", "fasttext") == "cascade":
        info["stage2"] = cascade_model_info()
    return info


def language_model_info() -> dict[str, Any]:
    """The shipped language-ID model: version, sha256 (of the file read now), licence, where it comes from."""
    from importlib import resources

    from provsieve.transforms import language

    meta = language.SHIPPED_METADATA
    info: dict[str, Any] = {"version": language.MODEL_VERSION,
                            "resource": f"{language.MODEL_PACKAGE}/{language.MODEL_RESOURCE}",
                            "licence": meta.get("licence"), "upstream": meta.get("upstream"),
                            "declared_sha256": meta.get("sha256"),
                            "min_score": language.MIN_SCORE, "min_letters": language.MIN_LETTERS,
                            "max_chars": language.MAX_CHARS}
    try:
        info["sha256"] = hashlib.sha256(
            resources.files(language.MODEL_PACKAGE).joinpath(language.MODEL_RESOURCE).read_bytes()).hexdigest()
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        info["missing"] = True
    return info


def cascade_model_info() -> dict[str, Any]:
    """The shipped combiner (version, sha256, band, threshold) and the LM it expects."""
    from importlib import resources

    from provsieve.transforms.ai_cascade import CASCADE_PACKAGE, CASCADE_RESOURCE, CascadeCombiner

    data = resources.files(CASCADE_PACKAGE).joinpath(CASCADE_RESOURCE).read_bytes()
    combiner = CascadeCombiner.load()
    return {"version": combiner.version, "resource": f"{CASCADE_PACKAGE}/{CASCADE_RESOURCE}",
            "sha256": hashlib.sha256(data).hexdigest(), "features": combiner.features,
            "band": list(combiner.band), "threshold": combiner.threshold, "lm": combiner.meta.get("lm")}


def driver_facts(config: RunConfig) -> dict[str, Any]:
    """What only the launching machine knows, collected before the pipeline starts.

    Hashing the inputs here (rather than on a worker at the end) records the
    files as they were when the run began.
    """
    return {
        "command": list(sys.argv),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "ai_model": ai_model_info(config),
        "language_model": language_model_info(),
        "input_files": describe_inputs(config.inputs, config.hash_inputs_limit_bytes),
    }


def stage_funnel(counters: dict[str, Any], config: RunConfig | dict | None = None) -> list[dict[str, Any]]:
    """Counters by stage and reason: documents into each step, rejected there (by reason), and out.

    Steps switched off in ``config`` (``--no-dedup``, ``--no-ai``) are left
    out unless they rejected something. In ``--mode tag`` only the reader
    removes documents; the others' would-be reasons are columns in ``human/``.
    """
    cfg = config.to_json() if isinstance(config, RunConfig) else dict(config or {})
    enabled = {"read": True, "language": cfg.get("languages") is not None, "released_dedup": bool(cfg.get("after")),
               "exact_dedup": cfg.get("dedup", True),
               "near_dedup": cfg.get("dedup", True), "ai": cfg.get("ai", True)}
    by_stage: dict[str, dict[str, int]] = {stage: {} for stage in STAGES}
    for reason, count in counters.get("rejected", {}).items():
        by_stage[STAGE_OF_REASON.get(reason, "read")][reason] = count
    funnel = []
    live = counters.get("input_records", 0)
    for stage in STAGES:
        rejected = by_stage[stage]
        if not enabled[stage] and not rejected:
            continue
        out = live - sum(rejected.values())
        funnel.append({"stage": stage, "in": live, "rejected": dict(sorted(rejected.items())),
                       "rejected_total": sum(rejected.values()), "out": out})
        live = out
    return funnel


def build_manifest(config: RunConfig, shards: list[ShardInfo], facts: list,
                   driver: dict[str, Any] | None = None,
                   extra_files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The manifest of a finished run.

    ``driver`` is :func:`driver_facts` from the launching machine (collected
    here, on the worker, when absent); ``extra_files`` are other files of the
    output (``croissant.json``) with their size and sha256.
    """
    from provsieve.transforms import ai_detector

    if driver is None:
        driver = driver_facts(config)
    summary = summarize_counts(facts)
    threshold = summary.get("ai_threshold")
    index_files = [s for s in shards if s.kind == INDEX_KIND]
    shards = [s for s in shards if s.kind != INDEX_KIND]
    return {
        "provsieve_version": package_versions()["provsieve"],
        "git_commit": driver.get("git_commit"),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": driver.get("command"),
        "config": config.to_json(),
        "config_sha256": config.sha256(),
        "versions": driver.get("versions") or package_versions(),
        "ai_model": driver.get("ai_model", {"version": ai_detector.MODEL_VERSION} if config.ai else None),
        "language_model": driver.get("language_model"),
        "policy": {"cutoff": config.cutoff, "trust": config.trust, "mode": config.mode, "languages": config.languages,
                   "ai_threshold": threshold["value"] if threshold else None,
                   "ai_threshold_chosen_by": threshold["chosen_by"] if threshold else None},
        **summary,
        "stages": stage_funnel(summary["counters"], config),
        "input_files": driver.get("input_files", []),
        "key_shards": driver.get("key_shards"),
        "shards": [s._asdict() for s in sorted(shards, key=lambda s: s.name)],
        "other_files": list(extra_files or []),
        **release_facts(config, driver, index_files),
    }


def release_facts(config: RunConfig, driver: dict[str, Any], index_files: list[ShardInfo]) -> dict[str, Any]:
    """The manifest's ``dedup_index`` (this run's index files), ``lineage`` and ``skipped_inputs`` (``--after``)."""
    from provsieve.pipeline.releases import config_index_params

    facts: dict[str, Any] = {}
    if config.dedup:
        documents, size = sum(f.rows for f in index_files), sum(f.bytes for f in index_files)
        facts["dedup_index"] = {
            "params": config_index_params(config),
            "documents": documents,
            "bytes": size,
            "bytes_per_document": round(size / documents, 1) if documents else None,
            "files": [f._asdict() for f in sorted(index_files, key=lambda f: f.name)],
        }
    facts["lineage"] = driver.get("lineage")
    facts["skipped_inputs"] = driver.get("skipped_inputs", [])
    return facts


def finish_output(config: RunConfig, driver: dict[str, Any] | None, shards: list[ShardInfo],
                  facts: list) -> dict[str, Any]:
    """The publish step's ``build_manifest``: write ``croissant.json``, then return the manifest.

    Runs after the shards are in place and before ``manifest.json`` is written.
    """
    from provsieve.pipeline import croissant

    if driver is None:
        driver = driver_facts(config)
    counters = summarize_counts(facts)["counters"]
    extra = [croissant.write_croissant(config.output, shards, config, driver, counters)]
    return build_manifest(config, shards, facts, driver, extra)


def read_manifest(output_dir: str) -> dict[str, Any]:
    return read_json(FileSystems.join(output_dir, MANIFEST_NAME))


def write_manifest(output_dir: str, manifest: dict[str, Any]) -> None:
    write_json(FileSystems.join(output_dir, MANIFEST_NAME), manifest)
