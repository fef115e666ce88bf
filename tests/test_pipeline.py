"""The whole pipeline on a small generated crawl: routing, accounting, provenance, outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that, equal_to

from conftest import make_test_pipeline
from provsieve.pipeline.options import RunConfig
from provsieve.pipeline.run import build_pipeline, run
from provsieve.transforms.read import read_file
from provsieve.transforms.write import staging_dir_for
from warc_fixtures import html_page, http_response_record, tiny_png, write_warc

ESSAY = [
    "The river ran low that summer, and the mill stood idle for the first time in forty years. Farmers "
    "brought their grain to the town instead, where the new steam mill charged twice the old rate.",
    "My grandfather kept a ledger of every sack, every price and every debt, in a hand so small that "
    "we needed a lens to read it after he died. The ledger is how we know what the drought cost.",
]
OTHER = ["A completely different page about the migration of swallows across the Sahara desert every "
         "autumn, and the small islands where they rest before crossing the sea to Europe in spring."]


def _crawl(tmp_path: Path) -> list[str]:
    original = html_page("The mill", ESSAY)
    near = html_page("The mill (repost)", [ESSAY[0].replace("forty", "fifty"), ESSAY[1]])
    records = [
        http_response_record("https://later.example/copy", original, warc_date="2021-06-01T00:00:00Z"),
        http_response_record("https://first.example/mill", original, warc_date="2019-01-01T00:00:00Z"),
        http_response_record("https://spun.example/mill", near, warc_date="2020-01-01T00:00:00Z"),
        http_response_record("https://birds.example/swallows", html_page("Swallows", OTHER),
                             warc_date="2024-02-02T00:00:00Z"),
        http_response_record("https://img.example/a.png", tiny_png(), warc_date="2024-02-02T00:00:00Z",
                             content_type="image/png"),
    ]
    warc = tmp_path / "in" / "crawl.warc.gz"
    warc.parent.mkdir()
    write_warc(warc, records)
    jsonl = tmp_path / "in" / "docs.jsonl"
    jsonl.write_text(json.dumps({"text": "A short note from a JSONL dump about the weather in Lyon.",
                                 "url": "https://j.example/1"}) + "\n{broken\n")
    return [str(tmp_path / "in" / "*")]


def _config(tmp_path: Path, **overrides) -> RunConfig:
    values = dict(inputs=tuple(_crawl(tmp_path)), output=str(tmp_path / "out"), ai=False)
    values.update(overrides)
    return RunConfig(**values)


def test_routing_in_a_test_pipeline(tmp_path):
    config = _config(tmp_path)
    with make_test_pipeline() as p:
        outputs = build_pipeline(p, config, staging_dir_for(config.output))
        assert_that(outputs["kept"] | beam.Map(lambda d: d.url),
                    equal_to(["https://first.example/mill", "https://birds.example/swallows",
                              "https://j.example/1"]), label="kept")
        assert_that(outputs["rejected"] | beam.Map(lambda d: (d.url, d.reject_reason)),
                    equal_to([("https://later.example/copy", "exact_duplicate"),
                              ("https://spun.example/mill", "near_duplicate"),
                              ("https://img.example/a.png", "binary_content"),
                              (None, "unreadable_record")]), label="rejected")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("run")
    config = _config(tmp_path)
    return config, run(config)


def test_counters_add_up(finished_run):
    _, manifest = finished_run
    counters = manifest["counters"]
    assert counters == {"input_records": 7, "kept": 3, "rejected_total": 4, "balanced": True,
                        "rejected": {"binary_content": 1, "exact_duplicate": 1, "near_duplicate": 1,
                                     "unreadable_record": 1},
                        "skipped_records": {}, "revisit_records": 0, "arc_resynchronised": 0}
    assert all(entry["balanced"] for entry in manifest["files"].values())


def test_outputs_open_in_pyarrow_and_duckdb_and_match_the_manifest(finished_run):
    config, manifest = finished_run
    out = Path(config.output)
    assert sorted(p.name for p in out.iterdir()) == ["croissant.json", "human", "index", "manifest.json", "rejected",
                                                    "report.html"]
    for shard in manifest["shards"]:
        data = (out / shard["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        assert pq.read_table(out / shard["name"]).num_rows == shard["rows"]
    human = pq.read_table(out / "human").to_pylist()
    assert "reject_reason" not in human[0]
    rejected = duckdb.sql(f"select reject_reason, duplicate_of from read_parquet('{out}/rejected/*.parquet') "
                          "where reject_reason = 'exact_duplicate'").fetchall()
    kept_ids = {row["doc_id"] for row in human}
    assert rejected[0][1] in kept_ids


def test_every_row_leads_back_to_its_record(finished_run):
    config, _ = finished_run
    out = Path(config.output)
    for row in pq.read_table(out / "human").to_pylist():
        again = [d for d in read_file(row["source_uri"]) if d.source_index == row["source_index"]]
        assert len(again) == 1
        assert again[0].content_sha1 == row["content_sha1"] and again[0].source_offset == row["source_offset"]


def test_non_empty_output_needs_overwrite(finished_run):
    config, _ = finished_run
    with pytest.raises(FileExistsError, match="--overwrite"):
        run(config)


def test_tag_mode_keeps_everything_readable_with_its_verdict(tmp_path):
    manifest = run(_config(tmp_path, mode="tag"))
    assert manifest["counters"]["kept"] == 5  # all readable documents, duplicates included
    rows = pq.read_table(Path(manifest["config"]["output"]) / "human").to_pylist()
    verdicts = sorted(str(r["reject_reason"]) for r in rows)
    assert verdicts == ["None", "None", "None", "exact_duplicate", "near_duplicate"]


def test_calibrated_threshold_is_computed_in_the_pipeline_and_recorded(tmp_path):
    from provsieve.pipeline.options import bundled_sample

    # every exempt document scored: the sample crawl has too few captured pages for a 10 % sample
    manifest = run(RunConfig(inputs=(bundled_sample(),), output=str(tmp_path / "o"), calibrate_fpr=0.2,
                             exempt_score_rate=1.0, report=False))
    threshold = manifest["ai_threshold"]
    assert threshold["chosen_by"].startswith("calibrated")
    rows = pq.read_table(tmp_path / "o" / "human").to_pylist() + pq.read_table(tmp_path / "o" / "rejected").to_pylist()
    captured = sorted(r["ai_score"] for r in rows if r["pre_cutoff_evidence"] == "captured" and r["ai_confident"])
    above = sum(score >= threshold["value"] for score in captured)
    assert 0 < above <= 0.2 * len(captured)
