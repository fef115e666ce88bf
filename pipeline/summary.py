"""The table printed at the end of a run."""

from __future__ import annotations

from typing import Any

from provsieve.pipeline.manifest import threshold_label


def format_summary(manifest: dict[str, Any]) -> str:
    counters = manifest["counters"]
    wall = manifest.get("wall_seconds")
    n = counters["input_records"]
    rows = [("records in", n), ("kept", counters["kept"])]
    rows += [(f"rejected: {reason}", count) for reason, count in counters["rejected"].items()]
    width = max(len(label) for label, _ in rows)
    lines = ["", f"provsieve run -> {manifest['config']['output']}", "-" * (width + 12)]
    lines += [f"{label:<{width}}  {count:>9,}" for label, count in rows]
    lines.append("-" * (width + 12))
    tiers = manifest.get("documents_by_pre_cutoff_evidence") or {}
    if tiers:
        lines.append("pre-cutoff evidence: " + ", ".join(f"{k} {v:,}" for k, v in tiers.items()))
    languages = manifest.get("documents_by_language") or {}
    if languages:
        lines.append("languages (documents): " + _top({k: v["documents"] for k, v in languages.items()}))
    unjudged = manifest.get("ai_unsupported_language") or {}
    if unjudged:
        lines.append(f"AI not judged for their language: {sum(unjudged.values()):,} ({_top(unjudged)})")
    threshold = manifest.get("ai_threshold")
    if threshold:
        lines.append(f"AI threshold: {threshold_label(threshold)}")
    lines += release_lines(manifest)
    stage2 = manifest.get("ai_stage2")
    if stage2:
        lines.append(f"AI stage 2: {stage2['routed']:,} routed ({100 * stage2['routed_share']:.1f}% of tagged, "
                     f"band >= {stage2['band'][0]:.3f}; {stage2.get('stage1_rejected', 0):,} in it left to "
                     f"stage 1, which rejects them), stage-2 threshold by length band, at most "
                     f"{stage2['stage2_threshold']:.3f}")
    if wall:
        lines.append(f"wall time: {wall:.1f} s, {n / wall:,.0f} docs/s")
    stages = manifest.get("stage_seconds")
    if stages:
        lines.append("busy time by stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    skipped = counters.get("skipped_records") or {}
    if skipped:
        lines.append("records that are not documents (skipped): " + ", ".join(f"{k} {v:,}" for k, v in skipped.items()))
    if counters.get("revisit_records"):
        lines.append(f"revisit records (payload stored in another record): {counters['revisit_records']:,}")
    if counters.get("arc_resynchronised"):
        lines.append(f"ARC records read after a wrong declared length: {counters['arc_resynchronised']:,}")
    captures = manifest.get("documents_by_capture_source") or {}
    if captures:
        lines.append("capture time from: " + ", ".join(f"{k} {v:,}" for k, v in captures.items()))
    if manifest.get("file_errors"):
        lines.append("files with errors: " + ", ".join(manifest["file_errors"]))
    lines.append("counters add up: " + ("yes" if counters["balanced"] else "NO (see manifest.json)"))
    return "\n".join(lines)


def _top(counts: dict[str, int], n: int = 8) -> str:
    """``en 450, ja 29, ... +12 more`` (most first)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v:,}" for k, v in ranked[:n])
    return text + (f", +{len(ranked) - n} more" if len(ranked) > n else "")


def release_lines(manifest: dict[str, Any]) -> list[str]:
    """What the run owed to its earlier releases (``--after``): files skipped, documents already released."""
    lineage = manifest.get("lineage")
    if not lineage:
        return []
    releases = lineage.get("releases") or []
    skipped = manifest.get("skipped_inputs") or []
    n = manifest["counters"]["input_records"]
    by_kind: dict[str, int] = {}
    for kinds in (manifest.get("released_duplicates") or {}).values():
        for kind, count in kinds.items():
            by_kind[kind] = by_kind.get(kind, 0) + count
    released = sum(by_kind.values())
    share = f" ({released / n:.1%} of records in)" if n else ""
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(by_kind.items()))
    return [f"after {len(releases)} earlier release(s): {len(skipped)} input file(s) skipped as already processed"
            + (" (--reprocess)" if lineage.get("reprocess") else ""),
            f"already released: {released:,} documents{share}" + (f": {kinds}" if kinds else "")]
