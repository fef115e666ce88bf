"""``OUT/croissant.json``: an MLCommons Croissant 1.0 description of the human-only shards.

Croissant (https://docs.mlcommons.org/croissant/docs/croissant-spec.html) is
JSON-LD that dataset tools (Hugging Face, Kaggle, OpenML, ``mlcroissant``,
TFDS) read to find a dataset's files and the type of every column. Ours has:

* one ``cr:FileObject`` per ``human/`` shard with its sha256 and size, and a
  ``cr:FileSet`` (``human/*.parquet``) the record set reads from;
* one ``cr:RecordSet``, ``documents``, with a field per column of
  :data:`provsieve.transforms.write.HUMAN_SCHEMA` (the full schema in
  ``--mode tag``) and its Croissant type, keyed by ``doc_id``;
* ``license`` left as a placeholder: provsieve cannot know the licence of the
  crawled texts, and a wrong one is worse than an obvious blank.

Written by the publish step after the shards are in place and before
``manifest.json``, which records this file's sha256.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any, Iterable, Optional

import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from provsieve.pipeline.options import RunConfig
from provsieve.transforms.write import HUMAN_SCHEMA, REJECTED_SCHEMA, ShardInfo

CROISSANT_NAME = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
LICENSE_PLACEHOLDER = "TO FILL IN: the licence of the source texts (provsieve cannot know it)"
RECORD_SET = "documents"
FILE_SET = "human-parquet-files"

CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
"""The standard Croissant 1.0 ``@context`` (as in the spec's examples)."""

COLUMN_DESCRIPTIONS = {
    "doc_id": "Stable id: a hash of source_uri and the record's ordinal in that file.",
    "source_uri": "The input file the document was read from.",
    "source_format": "warc, arc, wet, jsonl or parquet.",
    "source_offset": "Byte offset of the record in the (compressed) input file, where the format allows.",
    "source_index": "Ordinal of the record in its input file (0-based, counting every record read).",
    "warc_record_id": "WARC-Record-ID of the record, for WARC input.",
    "url": "URL of the page (the original URL, for a capture replayed from an archive).",
    "crawl_date": "Capture time (WARC-Date, ARC date, Dolma warc_date/added, C4 timestamp), UTC.",
    "content_sha1": "Hex SHA-1 of text (UTF-8).",
    "content_type": "Content type of the captured payload.",
    "text": "The extracted text of the document.",
    "capture_uri": "The archive's replay URI when url was taken from one (Wayback exports).",
    "capture_source": "Which evidence crawl_date comes from: warc_date, memento_datetime, replay_uri, arc_date or input.",
    "http_date": "HTTP Date header of the capture, UTC.",
    "http_last_modified": "HTTP Last-Modified header, UTC.",
    "published_date": "Publication date the page declares (meta tags, JSON-LD, <time>), UTC.",
    "modified_date": "Latest modification date the page declares, UTC.",
    "url_date": "Date found in the URL path.",
    "created": "Best estimate of when the text was written, UTC.",
    "created_source": "Which evidence 'created' comes from.",
    "pre_cutoff": "Whether the text is dated before the run's cutoff.",
    "pre_cutoff_evidence": "captured (the crawl proves it), claimed (the page says so) or none.",
    "dup_cluster_id": "Id of the (exact or near) duplicate cluster the document belongs to.",
    "dup_cluster_size": "Number of documents in that duplicate cluster.",
    "duplicate_of": "doc_id of the kept document this one duplicates.",
    "language": "Language of the text by fastText lid.176 (ISO 639 code), und when it has no letters.",
    "language_score": "Probability of that language, in [0, 1].",
    "language_confident": "Whether the language is trusted (20+ letters, probability 0.5+); else decisions use und.",
    "ai_score": "AI-text detector score, P(machine-written), in [0, 1].",
    "ai_model": "Version of the AI-text detector that scored the document.",
    "ai_confident": "Whether the score is trusted: the text is long enough and in a language the detector knows.",
    "ai_stage2_score": "Cascade detector (--ai-detector cascade): stage-1 score combined with the LM statistics, "
                       "P(machine-written); empty when the document was not routed to stage 2.",
    "ai_routed": "Cascade detector: whether stage 2 (the language model) scored the document.",
    "reject_reason": "Why the document would be rejected (tag mode), or empty.",
    "reject_detail": "Human-readable detail of the rejection.",
}


def croissant_type(arrow_type: pa.DataType) -> str:
    """The Croissant ``dataType`` of an Arrow column type."""
    if pa.types.is_timestamp(arrow_type):
        return "sc:DateTime"
    if pa.types.is_date(arrow_type):
        return "sc:Date"
    if pa.types.is_boolean(arrow_type):
        return "sc:Boolean"
    if pa.types.is_integer(arrow_type):
        return "sc:Integer"
    if pa.types.is_floating(arrow_type):
        return "sc:Float"
    return "sc:Text"


def _dataset_name(output_dir: str) -> str:
    base = output_dir.rstrip("/").rsplit("/", 1)[-1] or "output"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in base)
    return f"provsieve-{safe}"


def _url(output_dir: str) -> str:
    if "://" in output_dir:
        return output_dir
    import os

    return "file://" + os.path.abspath(output_dir)


def build_croissant(output_dir: str, shards: Iterable[ShardInfo], config: RunConfig,
                    driver: Optional[dict[str, Any]] = None,
                    counters: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The Croissant JSON-LD of the ``human`` shards among ``shards``."""
    driver = driver or {}
    human = sorted((s for s in shards if s.kind == "human"), key=lambda s: s.name)
    schema = REJECTED_SCHEMA if config.mode == "tag" else HUMAN_SCHEMA
    name = _dataset_name(output_dir)
    version = (driver.get("versions") or {}).get("provsieve", "unknown")
    n_inputs = len(driver.get("input_files") or [])
    rows = sum(s.rows for s in human)
    what = ("every readable document, tagged with its would-be reject_reason" if config.mode == "tag"
            else "documents kept as human-written and de-duplicated")
    description = (
        f"{rows:,} {what}, selected by provsieve {version} from "
        + (f"{counters['input_records']:,} input records in " if counters else "")
        + f"{n_inputs or 'the'} input file{'s' if n_inputs != 1 else ''} "
        f"(cutoff {config.cutoff}, trust {config.trust}, dedup {'on' if config.dedup else 'off'}, "
        f"AI filter {'on' if config.ai else 'off'}). Every row keeps its provenance (source_uri, "
        f"source_offset, source_index, content_sha1) and its date, duplicate and AI evidence; "
        f"manifest.json next to this file records the inputs' sha256s, the config and the counters, "
        f"and `provsieve verify` re-checks them."
    )
    published = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    year = published[:4]
    cite = (f"@misc{{{name.replace('-', '_')},\n  title = {{{name}: human-written text filtered by provsieve}},\n"
            f"  note = {{Filtered with provsieve {version}; config sha256 {config.sha256()}}}"
            f",\n  year = {{{year}}}\n}}")
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": s.name,
            "name": s.name,
            "description": f"{s.rows:,} rows",
            "contentUrl": s.name,
            "contentSize": f"{s.bytes} B",
            "encodingFormat": "application/x-parquet",
            "sha256": s.sha256,
        }
        for s in human
    ]
    distribution.append({
        "@type": "cr:FileSet",
        "@id": FILE_SET,
        "name": FILE_SET,
        "description": "The human/ Parquet shards (zstd), relative to this file.",
        "encodingFormat": "application/x-parquet",
        "includes": "human/*.parquet",
    })
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/{f.name}",
            "name": f.name,
            "description": COLUMN_DESCRIPTIONS.get(f.name, f.name),
            "dataType": croissant_type(f.type),
            "source": {"fileSet": {"@id": FILE_SET}, "extract": {"column": f.name}},
        }
        for f in schema
    ]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": name,
        "description": description,
        "conformsTo": CONFORMS_TO,
        "citeAs": cite,
        "url": _url(output_dir),
        "license": LICENSE_PLACEHOLDER,
        "version": "1.0.0",
        "keywords": ["web crawl", "human-written text", "de-duplicated", "provenance", "provsieve"],
        "datePublished": published,
        "distribution": distribution,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": RECORD_SET,
                "name": RECORD_SET,
                "description": "One row per document; the columns of the human/ shards.",
                "key": {"@id": f"{RECORD_SET}/doc_id"},
                "field": fields,
            }
        ],
    }


def write_croissant(output_dir: str, shards: Iterable[ShardInfo], config: RunConfig,
                    driver: Optional[dict[str, Any]] = None,
                    counters: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Write ``OUT/croissant.json``; return its name, size and sha256 for the manifest."""
    doc = build_croissant(output_dir, shards, config, driver, counters)
    data = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    with FileSystems.create(FileSystems.join(output_dir, CROISSANT_NAME)) as out:
        out.write(data)
    return {"name": CROISSANT_NAME, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
