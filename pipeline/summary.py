"""The table printed at the end of a run."""

from __future__ import annotations

from typing import Any


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
    threshold = manifest.get("ai_threshold")
    if threshold:
        lines.append(f"AI threshold: {threshold['value']:.3f} ({threshold['chosen_by']})")
    stage2 = manifest.get("ai_stage2")
    if stage2:
        lines.append(f"AI stage 2: {stage2['routed']:,} routed ({100 * stage2['routed_share']:.1f}% of tagged, "
                     f"band >= {stage2['band'][0]:.3f}), stage-2 threshold {stage2['stage2_threshold']:.3f}")
    if wall:
        lines.append(f"wall time: {wall:.1f} s, {n / wall:,.0f} docs/s")
    stages = manifest.get("stage_seconds")
    if stages:
        lines.append("busy time by stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    if manifest.get("file_errors"):
        lines.append("files with errors: " + ", ".join(manifest["file_errors"]))
    lines.append("counters add up: " + ("yes" if counters["balanced"] else "NO (see manifest.json)"))
    return "\n".join(lines)
