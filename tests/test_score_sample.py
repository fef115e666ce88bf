"""Which documents the AI detector scores: the exempt ones only in a doc_id-hash sample."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from provsieve.pipeline.options import RunConfig
from provsieve.pipeline.run import run
from provsieve.transforms.document import make_doc_id, new_document
from provsieve.transforms.score_sample import in_score_sample, needs_ai_score
from warc_fixtures import html_page, http_response_record, write_warc


def test_sample_is_deterministic_and_near_its_rate():
    ids = [make_doc_id("s3://x/a.warc.gz", i) for i in range(20_000)]
    picked = [i for i in ids if in_score_sample(i, 0.1)]
    assert picked == [i for i in ids if in_score_sample(i, 0.1)]
    assert 0.09 < len(picked) / len(ids) < 0.11
    assert set(i for i in ids if in_score_sample(i, 0.05)) <= set(picked)  # a lower rate picks a subset
    assert not any(in_score_sample(i, 0.0) for i in ids) and all(in_score_sample(i, 1.0) for i in ids)


def _doc(tier: str, index: int = 0):
    return new_document(source_uri="s3://x/a.warc.gz", source_format="warc", source_index=index,
                        text="t")._replace(pre_cutoff_evidence=tier)


def test_only_exempt_documents_are_sampled():
    assert needs_ai_score(_doc("none"), "captured", 0.0)
    assert needs_ai_score(_doc("claimed"), "captured", 0.0)
    assert not needs_ai_score(_doc("claimed"), "claimed", 0.0)
    assert not needs_ai_score(_doc("captured"), "captured", 0.0)
    assert needs_ai_score(_doc("captured"), "none", 0.0)  # --trust none exempts nothing
    assert needs_ai_score(_doc("captured"), "captured", 1.0)


ESSAY = ["The river ran low that summer, and the mill stood idle for the first time in forty years. Farmers "
         "brought their grain to the town instead, where the new steam mill charged twice the old rate."]


def _crawl(tmp_path: Path, n: int = 40) -> str:
    records = [http_response_record(f"https://site{i}.example/page", html_page(f"Page {i}", [f"{ESSAY[0]} {i}."]),
                                    warc_date="2019-01-01T00:00:00Z" if i % 2 else "2024-01-01T00:00:00Z")
               for i in range(n)]
    write_warc(tmp_path / "crawl.warc.gz", records)
    return str(tmp_path / "crawl.warc.gz")


def _rows(out: Path) -> list[dict]:
    rows = []
    for part in ("human", "rejected"):
        if (out / part).exists():
            rows += pq.read_table(out / part).to_pylist()
    return rows


def test_pipeline_scores_every_unexempt_document_and_the_sample_of_exempt_ones(tmp_path):
    crawl = _crawl(tmp_path)
    manifest = run(RunConfig(inputs=(crawl,), output=str(tmp_path / "o"), dedup=False, exempt_score_rate=0.25,
                             report=False))
    assert manifest["config"]["exempt_score_rate"] == 0.25
    rows = _rows(tmp_path / "o")
    assert len(rows) == 40
    for row in rows:
        sampled = in_score_sample(row["doc_id"], 0.25)
        expected = row["pre_cutoff_evidence"] != "captured" or sampled
        assert (row["ai_score"] is not None) is expected, row["url"]
    assert 0 < sum(r["ai_score"] is not None for r in rows if r["pre_cutoff_evidence"] == "captured") < 20


def test_tag_mode_scores_every_document(tmp_path):
    crawl = _crawl(tmp_path, n=10)
    run(RunConfig(inputs=(crawl,), output=str(tmp_path / "o"), dedup=False, mode="tag", exempt_score_rate=0.0,
                  report=False))
    assert all(row["ai_score"] is not None for row in _rows(tmp_path / "o"))
