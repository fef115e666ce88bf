"""``provsieve report OUT``: ``OUT/report.html``, one self-contained page a data lead can read.

What went in, what came out and why: the funnel of counts by stage and reason,
the documents kept and rejected per language (``report_language.py``), the AI score histogram split by pre-cutoff evidence, the created-date histogram
with the cutoff marked, the duplicate-cluster sizes, the top domains kept and
rejected, and sample rejected documents per reason with their provenance.

The charts are inline SVG drawn by the small helper below rather than
matplotlib: no extra dependency (matplotlib and its fonts are ~40 MB), text
stays selectable and searchable, the page stays a few tens of KB, and nothing
is fetched when it is opened (no scripts, stylesheets, fonts or images from
anywhere). Every value that comes from the data is HTML-escaped.

Data comes from ``manifest.json`` (counters) and the shards it lists, read
with pyarrow a few columns at a time; document texts are read only for the
sampled rejected rows.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import html
import math
import sys
from typing import Any, Callable, Iterable, Optional, Sequence
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.manifest import read_manifest, stage_funnel, threshold_label
from provsieve.pipeline.report_charts import svg_bars
from provsieve.pipeline.report_language import judged_by_detector, language_section, unjudged_note
from provsieve.transforms.score_sample import samples_exempt

REPORT_NAME = "report.html"
SAMPLES_PER_REASON = 5
SNIPPET_CHARS = 280
TOP_DOMAINS = 15
AI_BINS = 20

COLORS = {
    "kept": "#2f9e44", "rejected": "#e03131",
    "captured": "#1971c2", "claimed": "#f08c00", "none": "#adb5bd",
}
STAGE_TITLES = {"read": "Read and extract", "language": "Language filter",
                "released_dedup": "Copies of earlier releases", "exact_dedup": "Exact de-duplication",
                "near_dedup": "Near de-duplication", "ai": "AI-text filter"}


# --- reading ------------------------------------------------------------------


def _read_shard(output_dir: str, name: str, columns: Sequence[str]) -> pa.Table:
    with FileSystems.open(FileSystems.join(output_dir, name)) as f:
        pf = pq.ParquetFile(f)
        wanted = [c for c in columns if c in pf.schema_arrow.names]
        return pf.read(columns=wanted)


def _tables(output_dir: str, manifest: dict[str, Any], kind: str, columns: Sequence[str]) -> list[pa.Table]:
    return [_read_shard(output_dir, s["name"], columns) for s in manifest.get("shards", []) if s["kind"] == kind]


def _column(tables: Iterable[pa.Table], name: str) -> list:
    out: list = []
    for t in tables:
        if name in t.column_names:
            out.extend(t.column(name).to_pylist())
        else:
            out.extend([None] * t.num_rows)
    return out


def domain_of(url: Optional[str]) -> str:
    """Host of ``url`` without ``www.`` (C4-style URLs without a scheme included)."""
    if not url:
        return "(no url)"
    try:
        host = urlsplit(url if "://" in url else "//" + url).hostname or ""
    except ValueError:
        host = ""
    host = host.lower()
    return host[4:] if host.startswith("www.") else (host or "(unparsable url)")


def _bar_cell(value: int, maximum: int, color: str) -> str:
    pct = 0 if maximum <= 0 else max(0.5, 100.0 * value / maximum) if value else 0
    return (f'<td class="barcell"><div class="bar" style="width:{pct:.1f}%;background:{color}"></div></td>')


def funnel_section(manifest: dict[str, Any]) -> str:
    counters = manifest["counters"]
    stages = manifest.get("stages") or stage_funnel(counters, manifest.get("config"))
    total = counters["input_records"]
    rows = [f'<tr class="lead"><td>Input records</td><td class="num">{total:,}</td>'
            f'{_bar_cell(total, total, "#495057")}<td></td></tr>']
    for stage in stages:
        title = STAGE_TITLES.get(stage["stage"], stage["stage"])
        rows.append(f'<tr class="lead"><td>{html.escape(title)}: rejected</td>'
                    f'<td class="num">{stage["rejected_total"]:,}</td>'
                    f'{_bar_cell(stage["rejected_total"], total, COLORS["rejected"])}'
                    f'<td class="muted">{stage["in"]:,} in, {stage["out"]:,} out</td></tr>')
        for reason, count in stage["rejected"].items():
            rows.append(f'<tr><td class="reason">{html.escape(reason)}</td><td class="num">{count:,}</td>'
                        f'{_bar_cell(count, total, "#ffa8a8")}'
                        f'<td class="muted">{100.0 * count / total if total else 0:.1f}% of input</td></tr>')
    kept = counters["kept"]
    rows.append(f'<tr class="lead kept"><td>Kept (human/)</td><td class="num">{kept:,}</td>'
                f'{_bar_cell(kept, total, COLORS["kept"])}'
                f'<td class="muted">{100.0 * kept / total if total else 0:.1f}% of input</td></tr>')
    balanced = counters.get("balanced")
    badge = ('<span class="ok">counters add up: input = kept + rejected, in total and per file</span>' if balanced
             else '<span class="bad">counters do NOT add up: see manifest.json</span>')
    return (f'<h2 id="funnel">Funnel: counts by stage and reason</h2><p>{badge}</p>'
            f'<table class="funnel"><tr><th>step</th><th class="num">documents</th><th></th><th></th></tr>'
            + "".join(rows) + "</table>")


def releases_section(manifest: dict[str, Any]) -> str:
    """How much of the new segment was already released (``--after`` runs only; empty otherwise)."""
    lineage = manifest.get("lineage")
    if not lineage:
        return ""
    total = manifest["counters"]["input_records"]
    found = manifest.get("released_duplicates") or {}
    skipped = manifest.get("skipped_inputs") or []
    released = sum(sum(kinds.values()) for kinds in found.values())
    rows = []
    for link in lineage.get("releases") or []:
        kinds = found.get(link["path"], {})
        files = sum(1 for f in skipped if f.get("release") == link["path"])
        n = sum(kinds.values())
        rows.append(f'<tr><td class="url">{html.escape(link["path"])}</td>'
                    f'<td>{html.escape(str(link.get("finished_at") or ""))}</td>'
                    f'<td class="hash">{html.escape(link["manifest_sha256"][:16])}…</td>'
                    f'<td class="num">{link.get("index_documents") or 0:,}</td><td class="num">{files:,}</td>'
                    f'<td class="num">{kinds.get("exact", 0):,}</td><td class="num">{kinds.get("near", 0):,}</td>'
                    f'{_bar_cell(n, total, COLORS["rejected"])}'
                    f'<td class="muted">{100.0 * n / total if total else 0:.1f}% of input</td></tr>')
    lead = (f"<b>{released:,}</b> of the {total:,} records read ({100.0 * released / total if total else 0:.1f}%) "
            f"copy a document an earlier release published already and were rejected as "
            f"<code>released_duplicate</code>; {len(skipped):,} input files "
            f"({sum(f.get('bytes') or 0 for f in skipped):,} bytes) had been processed by an earlier release and "
            f"were not read again" + (" (--reprocess: none skipped)" if lineage.get("reprocess") else "") + ".")
    return (f'<h2 id="releases">Already released</h2><p>{lead}</p>'
            f'<p class="caption">{html.escape(lineage.get("policy", ""))}.</p>'
            '<table class="small"><tr><th>earlier release</th><th>finished</th><th>manifest sha256</th>'
            '<th class="num">indexed docs</th><th class="num">files skipped</th><th class="num">exact copies</th>'
            '<th class="num">near copies</th><th></th><th></th></tr>' + "".join(rows) + "</table>")


def ai_section(manifest: dict[str, Any], scores: list, tiers: list) -> str:
    head = '<h2 id="ai">AI score by pre-cutoff evidence</h2>'
    pairs = [(s, t or "none") for s, t in zip(scores, tiers) if s is not None]
    if not pairs:
        why = "AI tagging was off for this run (--no-ai)." if not manifest["config"].get("ai", True) \
            else "No document was scored."
        return head + f'<p class="muted">{why}</p>'
    edges = [i / AI_BINS for i in range(AI_BINS + 1)]
    labels = [f"{edges[i]:.2f}" for i in range(AI_BINS)]
    threshold = manifest.get("ai_threshold") or {}
    value = threshold.get("value")
    marker = (value * AI_BINS, f"threshold {value:.3f}") if value is not None else None
    titles = {"captured": "captured before the cutoff (proof: human by construction)",
              "claimed": "claimed before the cutoff (the page's own dates)",
              "none": "no pre-cutoff evidence"}
    charts = []
    for tier in ("captured", "claimed", "none"):
        scores_t = [s for s, t in pairs if t == tier]
        counts = [0] * AI_BINS
        for s in scores_t:
            counts[min(AI_BINS - 1, max(0, int(s * AI_BINS)))] += 1
        above = sum(1 for s in scores_t if value is not None and s >= value)
        share = f", {above:,} ({100.0 * above / len(scores_t):.1f}%) at or above the threshold" if scores_t and \
            value is not None else ""
        charts.append(svg_bars(labels, [(tier, counts, COLORS[tier])], edges=[f"{e:.2f}" for e in edges],
                               title=f"{titles[tier]}: {len(scores_t):,} documents{share}",
                               x_title="ai_score: P(machine-written)" if tier == "none" else "",
                               marker=marker, label_every=2, height=230 if tier != "none" else 250))
    caption = (f"{len(pairs):,} scored documents (kept and AI-rejected; duplicates are removed before scoring), "
               f"in bins of 0.05, one panel per kind of evidence that the text predates the cutoff "
               f"({html.escape(manifest['policy']['cutoff'])}). The <b>captured</b> panel is text the crawl dates "
               f"before the cutoff: its scores above the threshold are the detector's false positives. Under trust "
               f"<b>{html.escape(str(manifest['policy'].get('trust')))}</b> only the exempted tiers are never rejected.")
    config = manifest["config"]
    rate = config.get("exempt_score_rate", 1.0)
    if samples_exempt(config.get("mode", "filter"), rate, config.get("calibrate_fpr")):
        caption += (f" Documents the trust policy exempts are kept whatever their score: a {100 * rate:g} % sample "
                    f"of them (by doc_id hash, --exempt-score-rate) is scored, the rest has no ai_score.")
    if threshold:
        caption += f" Threshold {value:.3f}, chosen by: {html.escape(str(threshold['chosen_by']))}."
    stage2 = manifest.get("ai_stage2")
    if stage2:
        caption += (f" Cascade (--ai-detector cascade): {stage2['routed']:,} documents "
                    f"({100.0 * stage2['routed_share']:.1f}% of those tagged) were in the stage-1 band "
                    f"[{stage2['band'][0]:.3f}, {stage2['band'][1]:.3f}] and could be rejected, so the language "
                    f"model scored them ({stage2.get('stage1_rejected', 0):,} more in the band, which stage 1 "
                    f"already rejects, were left to it); they are decided by ai_stage2_score &ge; the threshold of their length band "
                    f"(at most {stage2['stage2_threshold']:.3f}) "
                    f"({html.escape(str(stage2['combiner']))}).")
    return head + "".join(charts) + f'<p class="caption">{caption}</p>'


def _date_bins(dates: list[dt.datetime]) -> tuple[str, list[str], Callable[[dt.datetime], int]]:
    lo, hi = min(dates), max(dates)
    if (hi - lo).days > 3 * 366:
        years = list(range(lo.year, hi.year + 1))
        return "year", [str(y) for y in years], lambda d: d.year - lo.year
    months = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        months.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return "month", months, lambda d: (d.year - lo.year) * 12 + d.month - lo.month


def created_section(manifest: dict[str, Any], kept_dates: list, rejected_dates: list) -> str:
    head = '<h2 id="created">When the texts were written (created)</h2>'
    kd = [d for d in kept_dates if d is not None]
    rd = [d for d in rejected_dates if d is not None]
    cutoff = dt.datetime.fromisoformat(manifest["policy"]["cutoff"]).replace(tzinfo=dt.timezone.utc)
    if not kd and not rd:
        return head + '<p class="muted">No document has a created date.</p>'
    unit, labels, index = _date_bins(kd + rd + [cutoff])
    series = []
    for name, dates in (("kept", kd), ("rejected", rd)):
        counts = [0] * len(labels)
        for d in dates:
            counts[index(d)] += 1
        series.append((name, counts, COLORS[name]))
    if unit == "year":
        start = dt.datetime(cutoff.year, 1, 1, tzinfo=dt.timezone.utc)
        frac = (cutoff - start) / (dt.datetime(cutoff.year + 1, 1, 1, tzinfo=dt.timezone.utc) - start)
    else:
        frac = (cutoff.day - 1) / 31
    marker = (index(cutoff) + frac, f"cutoff {manifest['policy']['cutoff']}")
    every = max(1, math.ceil(len(labels) / 40))
    chart = svg_bars(labels, series, title=f"Documents by created date (per {unit}), kept and rejected",
                     x_title=f"created ({unit})", marker=marker, label_every=every)
    missing = len(kept_dates) - len(kd) + len(rejected_dates) - len(rd)
    sources = manifest.get("documents_by_created_source") or {}
    caption = (f"{len(kd) + len(rd):,} documents with a created date; {missing:,} without. "
               "created is the best estimate of when the text was written; by source: "
               + ", ".join(f"{html.escape(k)} {v:,}" for k, v in sources.items()) + ".")
    captures = manifest.get("documents_by_capture_source") or {}
    if captures:
        caption += (" Capture time (crawl_date) from: "
                    + ", ".join(f"{html.escape(k)} {v:,}" for k, v in captures.items()) + ".")
    return head + chart + f'<p class="caption">{caption}</p>'


def cluster_sizes(human: Sequence[pa.Table], rejected: Sequence[pa.Table]) -> tuple[collections.Counter, int]:
    """(clusters by size, documents de-duplication saw).

    A cluster is a document that was kept by de-duplication and every copy
    that points to it through ``duplicate_of`` (exact copies of near copies
    included). Only the rejected copies are held in memory.
    """
    edges = {}
    for t in rejected:
        if "duplicate_of" not in t.column_names:
            continue
        for doc_id, dup in zip(t.column("doc_id").to_pylist(), t.column("duplicate_of").to_pylist()):
            if dup:
                edges[doc_id] = dup

    def root(x: str) -> str:
        seen = 0
        while x in edges and seen < 1000:
            x = edges[x]
            seen += 1
        return x

    members = collections.Counter(root(d) for d in edges)
    sizes = collections.Counter(n + 1 for n in members.values())
    seen = len(edges)
    for t in list(human) + list(rejected):
        if "dup_cluster_size" not in t.column_names:
            continue
        ids = t.column("doc_id").to_pylist()
        for doc_id, size in zip(ids, t.column("dup_cluster_size").to_pylist()):
            if size is None or doc_id in edges:
                continue
            seen += 1
            if doc_id not in members:
                sizes[1] += 1
    return sizes, seen


def dedup_section(manifest: dict[str, Any], sizes: collections.Counter, seen: int) -> str:
    head = '<h2 id="dups">Duplicate clusters</h2>'
    if not manifest["config"].get("dedup", True):
        return head + '<p class="muted">De-duplication was off for this run (--no-dedup).</p>'
    buckets = [("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4", 4, 4), ("5", 5, 5), ("6-10", 6, 10),
               ("11-100", 11, 100), ("101-1k", 101, 1000), (">1k", 1001, 10 ** 18)]
    last = max((i for i, (_, lo, hi) in enumerate(buckets) if any(lo <= s <= hi for s in sizes)), default=1)
    buckets = buckets[:max(last + 1, 5)]
    clusters = [sum(c for s, c in sizes.items() if lo <= s <= hi) for _, lo, hi in buckets]
    docs = [sum(c * s for s, c in sizes.items() if lo <= s <= hi) for _, lo, hi in buckets]
    multi = sum(c for s, c in sizes.items() if s > 1)
    chart = svg_bars([b[0] for b in buckets][1:], [("clusters", clusters[1:], "#7048e8")],
                     title="Duplicate clusters by size (2 or more copies)", x_title="documents in the cluster",
                     y_title="clusters", height=240, width=720)
    rows = "".join(f'<tr><td>{b[0]}</td><td class="num">{c:,}</td><td class="num">{d:,}</td></tr>'
                   for b, c, d in zip(buckets, clusters, docs))
    caption = (f"{seen:,} documents went through de-duplication; {multi:,} clusters have copies, "
               f"{sizes.get(1, 0):,} documents are unique. One copy of each cluster is kept (the oldest evidence "
               f"of existence, then the smallest doc_id); the others are rejected as exact_duplicate or "
               f"near_duplicate with duplicate_of naming the kept one.")
    table = ('<table class="small"><tr><th>cluster size</th><th class="num">clusters</th>'
             f'<th class="num">documents</th></tr>{rows}</table>')
    return head + chart + f'<p class="caption">{caption}</p>' + table


def domains_section(kept_urls: list, rejected_urls: list, rejected_reasons: list) -> str:
    kept = collections.Counter(domain_of(u) for u in kept_urls)
    rej = collections.Counter(domain_of(u) for u in rejected_urls)
    rej_reasons: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for u, r in zip(rejected_urls, rejected_reasons):
        rej_reasons[domain_of(u)][r] += 1

    def table(counter: collections.Counter, color: str, with_reasons: bool) -> str:
        top = counter.most_common(TOP_DOMAINS)
        if not top:
            return '<p class="muted">none</p>'
        peak = top[0][1]
        rows = []
        for dom, n in top:
            extra = ""
            if with_reasons:
                extra = '<td class="muted">' + html.escape(", ".join(
                    f"{r} {c}" for r, c in rej_reasons[dom].most_common())) + "</td>"
            rows.append(f'<tr><td class="dom">{html.escape(dom)}</td><td class="num">{n:,}</td>'
                        f'{_bar_cell(n, peak, color)}{extra}</tr>')
        hdr = '<th>reasons</th>' if with_reasons else ""
        return (f'<table class="small"><tr><th>domain</th><th class="num">docs</th><th></th>{hdr}</tr>'
                + "".join(rows) + f'</table><p class="muted">{len(counter):,} domains in all</p>')

    return ('<h2 id="domains">Top domains</h2><div class="cols">'
            f'<div><h3>Kept</h3>{table(kept, COLORS["kept"], False)}</div>'
            f'<div><h3>Rejected</h3>{table(rej, COLORS["rejected"], True)}</div></div>')


def sample_rejected(output_dir: str, manifest: dict[str, Any], per_reason: int = SAMPLES_PER_REASON) -> dict:
    """Up to ``per_reason`` rejected rows per reason (smallest doc_ids: doc ids are hashes, so a fair pick)."""
    meta_cols = ["doc_id", "reject_reason"]
    picks: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)  # reason -> [(doc_id, shard)]
    shards = [s["name"] for s in manifest.get("shards", []) if s["kind"] == "rejected"]
    for name in shards:
        t = _read_shard(output_dir, name, meta_cols)
        for doc_id, reason in zip(t.column("doc_id").to_pylist(), t.column("reject_reason").to_pylist()):
            picks[reason or "?"].append((doc_id, name))
            if len(picks[reason or "?"]) > 4 * per_reason:
                picks[reason or "?"] = sorted(picks[reason or "?"])[:per_reason]
    chosen = {r: sorted(p)[:per_reason] for r, p in picks.items()}
    by_shard: dict[str, set] = collections.defaultdict(set)
    for p in chosen.values():
        for doc_id, name in p:
            by_shard[name].add(doc_id)
    rows: dict[str, dict] = {}
    cols = ["doc_id", "source_uri", "source_format", "source_offset", "source_index", "url", "reject_reason",
            "reject_detail", "duplicate_of", "ai_score", "pre_cutoff_evidence", "created", "text"]
    for name, ids in by_shard.items():
        t = _read_shard(output_dir, name, cols)
        t = t.filter(pc.is_in(t.column("doc_id"), value_set=pa.array(sorted(ids))))
        for row in t.to_pylist():
            rows[row["doc_id"]] = row
    return {r: [rows[d] for d, _ in p if d in rows] for r, p in sorted(chosen.items())}


def samples_section(samples: dict[str, list[dict]]) -> str:
    head = '<h2 id="samples">Sample rejected documents, by reason</h2>'
    if not samples:
        return head + '<p class="muted">Nothing was rejected.</p>'
    parts = [head, '<p class="caption">Each row says where the document came from: re-open '
                   '<code>source_uri</code> at byte <code>source_offset</code> (record number '
                   '<code>source_index</code>) to see the original; <code>provsieve verify</code> does this for a '
                   'sample.</p>']
    for reason, rows in samples.items():
        parts.append(f'<h3>{html.escape(reason)}</h3><table class="samples"><tr><th>source (file, offset, record)'
                     '</th><th>url</th><th>detail</th><th>text</th></tr>')
        for row in rows:
            detail = row.get("reject_detail") or ""
            if row.get("duplicate_of"):
                detail = (detail + " " if detail else "") + f"duplicate_of {row['duplicate_of']}"
            if row.get("ai_score") is not None and reason == "ai_generated":
                detail = (detail + "; " if detail else "") + f"evidence {row.get('pre_cutoff_evidence') or 'none'}"
            text = (row.get("text") or "").strip()
            snippet = text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")
            uri = row.get("source_uri") or ""
            short = uri.rsplit("/", 1)[-1]
            parts.append(
                f'<tr><td class="prov"><span title="{html.escape(uri)}">{html.escape(short)}</span><br>'
                f'offset {html.escape(str(row.get("source_offset")))}, record {html.escape(str(row.get("source_index")))}'
                f'<br><span class="muted">{html.escape(row.get("source_format") or "")} · doc {html.escape(row["doc_id"])}'
                f'</span></td><td class="url">{html.escape(row.get("url") or "")}</td>'
                f'<td>{html.escape(detail)}</td>'
                f'<td class="snip">{html.escape(snippet) if snippet else "<span class=muted>(no text)</span>"}</td></tr>')
        parts.append("</table>")
    return "".join(parts)


def inputs_section(manifest: dict[str, Any]) -> str:
    files = manifest.get("files") or {}
    inputs = manifest.get("input_files") or [{"path": p} for p in files]
    rows = []
    for f in inputs:
        c = files.get(f["path"], {})
        rej = c.get("rejected_total", 0)
        ok = c.get("balanced", True)
        rows.append(
            f'<tr><td class="url">{html.escape(f["path"])}</td>'
            f'<td class="num">{f.get("bytes", 0) or 0:,}</td>'
            f'<td class="hash">{html.escape((f.get("sha256") or "")[:16])}…</td>'
            f'<td class="num">{c.get("input_records", 0):,}</td><td class="num">{c.get("kept", 0):,}</td>'
            f'<td class="num">{rej:,}</td><td>{"yes" if ok else "<b class=bad>NO</b>"}</td>'
            f'<td>{html.escape(_not_documents(c, f))}</td></tr>')
    return ('<h2 id="inputs">Inputs</h2><table class="small"><tr><th>file</th><th class="num">bytes</th>'
            '<th>sha256</th><th class="num">records</th><th class="num">kept</th><th class="num">rejected</th>'
            '<th>adds up</th><th>not documents (skipped records) / error</th></tr>' + "".join(rows) + "</table>")


def _not_documents(counts: dict[str, Any], input_file: dict[str, Any]) -> str:
    """The file's records that are not documents, by type (revisits apart), or why it could not be opened."""
    parts = [f"{k} {v:,}" for k, v in (counts.get("skipped_records") or {}).items()]
    if counts.get("revisit_records"):
        parts.append(f"revisit {counts['revisit_records']:,}")
    if counts.get("arc_resynchronised"):
        parts.append(f"ARC re-synchronised {counts['arc_resynchronised']:,}")
    if input_file.get("error"):
        parts.append(input_file["error"])
    return ", ".join(parts)


def header_section(manifest: dict[str, Any]) -> str:
    c = manifest["counters"]
    policy = manifest.get("policy", {})
    model = manifest.get("ai_model") or {}
    threshold = manifest.get("ai_threshold") or {}
    items = [
        ("output", manifest["config"].get("output")),
        ("finished", manifest.get("finished_at")),
        ("provsieve", f"{manifest.get('provsieve_version')} (git {(manifest.get('git_commit') or 'n/a')[:12]})"),
        ("config sha256", manifest.get("config_sha256")),
        ("mode / cutoff / trust", f"{policy.get('mode')} / {policy.get('cutoff')} / {policy.get('trust')}"),
        ("AI model", f"{model.get('version')} (sha256 {(model.get('sha256') or 'n/a')[:16]})" if model else "off"),
        ("AI threshold", threshold_label(threshold) if threshold else "n/a"),
        ("command", " ".join(manifest.get("command") or [])),
    ]
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in items)
    total = c["input_records"]
    big = (f'<div class="big"><div><b>{total:,}</b>records in</div>'
           f'<div class="k"><b>{c["kept"]:,}</b>kept</div>'
           f'<div class="r"><b>{c["rejected_total"]:,}</b>rejected</div>'
           f'<div><b>{len(manifest.get("input_files") or manifest.get("files") or {}):,}</b>input files</div></div>')
    return (f'<h1>provsieve report</h1>{big}<table class="facts">{facts}</table>')


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#212529;
 margin:0 auto;max-width:1140px;padding:18px 24px 60px;background:#fff}
h1{font-size:26px;margin:4px 0 12px}h2{font-size:19px;margin:34px 0 8px;border-bottom:1px solid #dee2e6;
 padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:top}
th{font-weight:600;color:#495057}.num{text-align:right;font-variant-numeric:tabular-nums}
.facts th{white-space:nowrap}.facts td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;
 word-break:break-all}
.big{display:flex;gap:14px;margin:6px 0 14px}.big div{border:1px solid #dee2e6;border-radius:6px;
 padding:8px 16px;min-width:120px;color:#495057}.big b{display:block;font-size:24px;color:#212529}
.big .k b{color:#2f9e44}.big .r b{color:#e03131}
.funnel{width:100%}.funnel td{border-bottom:1px solid #f1f3f5}.funnel .lead td{font-weight:600}
.funnel .reason{padding-left:28px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
.barcell{width:45%}.bar{height:14px;border-radius:2px;margin-top:3px}
.muted{color:#868e96;font-weight:normal}.caption{color:#495057;font-size:13px;max-width:980px}
.ok{color:#2f9e44;font-weight:600}.bad{color:#e03131;font-weight:600}
.small td,.small th{font-size:13px;border-bottom:1px solid #f1f3f5}.small .barcell{width:110px}
.cols{display:flex;gap:28px}.cols>div{flex:1;min-width:0}.dom{overflow-wrap:anywhere}
.samples{width:100%;table-layout:fixed}.samples th:nth-child(1){width:19%}.samples th:nth-child(2){width:22%}
.samples th:nth-child(3){width:19%}.samples td{border-bottom:1px solid #e9ecef;font-size:12.5px}
.url,.prov{word-break:break-all}.snip{font-family:Georgia,serif;color:#343a40}
.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
code{font-size:12.5px;background:#f1f3f5;padding:0 3px;border-radius:3px}
svg.chart{display:block;margin:4px 0}
svg .ct{font-size:14px;font-weight:600;fill:#212529}svg .tick{font-size:11px;fill:#495057}
svg .val{font-size:10px;fill:#495057}svg .at{font-size:12px;fill:#495057}
svg .grid{stroke:#e9ecef;stroke-width:1}svg .axis{stroke:#868e96;stroke-width:1}
svg .marker{stroke:#212529;stroke-width:1.5;stroke-dasharray:5 4}svg .mk{font-size:12px;font-weight:600;fill:#212529}
nav a{margin-right:12px;color:#1971c2;text-decoration:none}
"""


def build_report(output_dir: str, manifest: Optional[dict[str, Any]] = None) -> str:
    """The report page for a finished output directory, as an HTML string."""
    manifest = manifest or read_manifest(output_dir)
    cols = ["doc_id", "url", "created", "ai_score", "pre_cutoff_evidence", "dup_cluster_size", "language",
            "language_confident"]
    human = _tables(output_dir, manifest, "human", cols)
    rejected = _tables(output_dir, manifest, "rejected", cols + ["reject_reason", "duplicate_of"])
    sizes, seen = cluster_sizes(human, rejected)
    body = [
        header_section(manifest),
        '<nav><a href="#funnel">funnel</a>' + ('<a href="#releases">already released</a>' if manifest.get("lineage")
                                               else "") + '<a href="#languages">languages</a><a href="#ai">AI scores</a>'
        '<a href="#created">created dates</a>'
        '<a href="#dups">duplicates</a><a href="#domains">domains</a><a href="#samples">rejected samples</a>'
        '<a href="#inputs">inputs</a></nav>',
        funnel_section(manifest),
        releases_section(manifest),
        language_section(manifest),
        ai_section(manifest, [s if judged else None for s, judged in zip(
                       _column(human, "ai_score") + _column(rejected, "ai_score"),
                       judged_by_detector(_column(human, "language") + _column(rejected, "language"),
                                          _column(human, "language_confident")
                                          + _column(rejected, "language_confident"),
                                          (manifest.get("ai_model") or {}).get("languages")))],
                   _column(human, "pre_cutoff_evidence") + _column(rejected, "pre_cutoff_evidence"))
        + unjudged_note(manifest),
        created_section(manifest, _column(human, "created"), _column(rejected, "created")),
        dedup_section(manifest, sizes, seen),
        domains_section(_column(human, "url"), _column(rejected, "url"), _column(rejected, "reject_reason")),
        samples_section(sample_rejected(output_dir, manifest)),
        inputs_section(manifest),
        '<p class="muted" style="margin-top:30px">Generated by <code>provsieve report</code> from manifest.json '
        'and the shards it lists. Check the output with <code>provsieve verify '
        + html.escape(manifest["config"].get("output", "OUT")) + '</code>.</p>',
    ]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>provsieve report: {html.escape(manifest["config"].get("output", ""))}</title>'
            f'<style>{CSS}</style></head><body>\n' + "\n".join(body) + "\n</body></html>\n")


def write_report(output_dir: str, path: Optional[str] = None) -> str:
    """Write the report (default ``OUT/report.html``); return its path."""
    target = path or FileSystems.join(output_dir, REPORT_NAME)
    page = build_report(output_dir)
    with FileSystems.create(target) as out:
        out.write(page.encode("utf-8"))
    return target


# --- CLI ------------------------------------------------------------------------


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add the ``report`` subcommand."""
    rp = subparsers.add_parser(
        "report", help="write OUT/report.html, a self-contained audit report of a finished run",
        description="Write a self-contained HTML report (inline SVG charts, no network) of a finished output "
                    "directory: funnel by stage and reason, AI scores, created dates, duplicate clusters, domains, "
                    "sample rejected documents with their provenance.")
    rp.add_argument("output_dir", metavar="OUT", help="output directory of a finished provsieve run")
    rp.add_argument("--to", default=None, metavar="PATH", help="write here instead of OUT/report.html")
    rp.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    output_dir = args.output_dir.rstrip("/") or "/"
    try:
        target = write_report(output_dir, args.to)
    except (FileNotFoundError, OSError) as err:
        print(f"provsieve report: error: {err}", file=sys.stderr)
        return 2
    print(target)
    return 0
