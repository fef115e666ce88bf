"""The audit trail on the bundled sample: manifest, croissant.json, ``provsieve verify``, ``provsieve report``.

One pipeline run for the whole module (on a copy of the sample, so the
source-file test can alter it and put it back); corruption tests work on
copies of the output.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zlib
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from provsieve.pipeline import cli
from provsieve.pipeline.croissant import LICENSE_PLACEHOLDER
from provsieve.pipeline.options import RunConfig, bundled_sample
from provsieve.pipeline.report import domain_of, samples_section
from provsieve.pipeline.report_charts import svg_bars
from provsieve.pipeline.run import run
from provsieve.pipeline.verify import sample_positions, verify
from provsieve.transforms.write import HUMAN_SCHEMA


def _model_shipped() -> bool:
    try:
        return resources.files("provsieve.transforms").joinpath("models/ai_detector.ftz").is_file()
    except (FileNotFoundError, ModuleNotFoundError):
        return False


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    source = tmp / "in" / "sample.warc.gz"
    source.parent.mkdir()
    shutil.copyfile(bundled_sample(), source)
    config = RunConfig(inputs=(str(source),), output=str(tmp / "out"), ai=_model_shipped())
    manifest = run(config)
    return config, manifest, Path(config.output), source


def _verify_cli(out: Path, capsys, *extra: str) -> tuple[int, str]:
    code = cli.main(["-q", "verify", str(out), *extra])
    return code, capsys.readouterr().out


def _copy_output(out: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(out, target)  # shard names in the manifest are relative: the copy is checked on its own
    return target


# --- manifest -------------------------------------------------------------------------


def test_manifest_records_inputs_outputs_and_the_funnel(audited):
    config, manifest, out, source = audited
    assert manifest["command"] and manifest["config_sha256"] == config.sha256()
    assert manifest["versions"]["apache-beam"] and manifest["versions"]["pyarrow"]
    [entry] = manifest["input_files"]
    assert entry == {"path": str(source), "bytes": source.stat().st_size,
                     "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                     "mtime": source.stat().st_mtime}
    c = manifest["counters"]
    assert c["balanced"] and c["input_records"] == c["kept"] + c["rejected_total"] > 0
    stages = manifest["stages"]
    assert [s["stage"] for s in stages][:3] == ["read", "exact_dedup", "near_dedup"]
    assert stages[0]["in"] == c["input_records"] and stages[-1]["out"] == c["kept"]
    assert stages[1]["rejected"] == {"exact_duplicate": c["rejected"]["exact_duplicate"]}
    assert [f["name"] for f in manifest["other_files"]] == ["croissant.json"]
    if config.ai:
        assert len(manifest["ai_model"]["sha256"]) == 64 and manifest["ai_threshold"]["chosen_by"]
    else:
        assert manifest["ai_model"] is None


def test_manifest_is_the_last_file_written(audited):
    _, _, out, _ = audited
    # report.html is derived from the published output and comes after it; everything else is older
    manifest_time = (out / "manifest.json").stat().st_mtime_ns
    for path in [out / "croissant.json", *out.glob("human/*.parquet"), *out.glob("rejected/*.parquet")]:
        assert path.stat().st_mtime_ns <= manifest_time


# --- croissant ------------------------------------------------------------------------


def test_croissant_describes_every_human_column_and_shard(audited):
    _, manifest, out, _ = audited
    doc = json.loads((out / "croissant.json").read_text())
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["license"] == LICENSE_PLACEHOLDER
    assert doc["name"] and doc["citeAs"] and doc["url"] and doc["description"]
    objects = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    human = [s for s in manifest["shards"] if s["kind"] == "human"]
    assert {s["name"]: s["sha256"] for s in human} == {k: v["sha256"] for k, v in objects.items()}
    [file_set] = [d for d in doc["distribution"] if d["@type"] == "cr:FileSet"]
    assert file_set["includes"] == "human/*.parquet"
    fields = {f["name"]: f["dataType"] for f in doc["recordSet"][0]["field"]}
    assert list(fields) == HUMAN_SCHEMA.names
    assert fields["text"] == "sc:Text" and fields["source_offset"] == "sc:Integer"
    assert fields["ai_score"] == "sc:Float" and fields["pre_cutoff"] == "sc:Boolean"
    assert fields["created"] == "sc:DateTime"


def test_croissant_validates_and_loads_with_mlcroissant(audited):
    mlc = pytest.importorskip("mlcroissant")
    _, manifest, out, _ = audited
    dataset = mlc.Dataset(jsonld=str(out / "croissant.json"))  # raises on validation errors
    records = list(dataset.records(record_set="documents"))
    assert len(records) == manifest["counters"]["kept"]
    ids = {r["documents/doc_id"].decode() for r in records}
    assert ids == set(pq.read_table(out / "human", columns=["doc_id"]).column("doc_id").to_pylist())


# --- verify -----------------------------------------------------------------------------


def test_verify_passes_on_a_fresh_run(audited, capsys):
    _, manifest, out, _ = audited
    code, text = _verify_cli(out, capsys, "--sample", "1000")
    assert code == 0, text
    assert "verify: OK" in text
    assert f"{manifest['counters']['input_records']}/{manifest['counters']['input_records']} rows" in text


def test_verify_fails_on_a_flipped_byte_in_a_shard(audited, tmp_path, capsys):
    _, _, out, _ = audited
    copy = _copy_output(out, tmp_path)
    shard = sorted(copy.glob("human/*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    code, text = _verify_cli(copy, capsys, "--sample", "0")
    assert code == 1
    assert "[FAIL] shards" in text and f"{shard.parent.name}/{shard.name}: sha256" in text
    assert "verify: FAILED (shards)" in text


def test_verify_fails_on_an_unlisted_shard_and_on_counters_that_do_not_add_up(audited, tmp_path, capsys):
    _, _, out, _ = audited
    copy = _copy_output(out, tmp_path)
    shutil.copyfile(sorted(copy.glob("human/*.parquet"))[0], copy / "human" / "part-99999-of-99999.parquet")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["counters"]["kept"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, text = _verify_cli(copy, capsys, "--sample", "0")
    assert code == 1
    assert "part-99999-of-99999.parquet: present but not in the manifest" in text
    assert "[FAIL] counters" in text and "[FAIL] shard rows" in text


def _gzip_member_end(data: bytes, start: int) -> int:
    d = zlib.decompressobj(wbits=31)
    d.decompress(data[start:])
    assert d.eof
    return len(data) - len(d.unused_data)


def test_verify_fails_after_a_source_record_is_altered(audited, capsys):
    """Re-write one record's gzip member with a word of its text changed (same length, valid WARC)."""
    _, _, out, source = audited
    rows = [r for r in pq.read_table(out / "human").to_pylist() if r["text"]]
    target = max(rows, key=lambda r: r["source_offset"])  # the last one: no other record moves
    word = max(re.findall(r"[a-z]{6,}", target["text"]), key=len)
    original = source.read_bytes()
    start = target["source_offset"]
    end = _gzip_member_end(original, start)
    record = zlib.decompress(original[start:end], wbits=31)
    assert word.encode() in record
    altered = record.replace(word.encode(), word.upper().encode())
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    new = original[:start] + member.compress(altered) + member.flush() + original[end:]
    try:
        source.write_bytes(new)
        code, text = _verify_cli(out, capsys, "--sample", "1000")
        assert code == 1
        assert "[FAIL] inputs" in text and "when the run started" in text
        code, text = _verify_cli(out, capsys, "--sample", "1000", "--no-input-hashes")
        assert code == 1
        assert "[FAIL] sampled records" in text
        assert f"doc {target['doc_id']}" in text and "re-extracted content_sha1" in text
    finally:
        source.write_bytes(original)
    assert verify(str(out), sample=5)[0]


def test_sample_positions_are_deterministic_and_distinct():
    a = sample_positions([5, 0, 7], 6, seed=1)
    assert a == sample_positions([5, 0, 7], 6, seed=1)
    assert len(set(a)) == 6 and all(s != 1 for s, _ in a)
    assert all(r < (5 if s == 0 else 7) for s, r in a)
    assert sample_positions([5, 0, 7], 100, seed=3) == [(0, i) for i in range(5)] + [(2, i) for i in range(7)]
    assert a != sample_positions([5, 0, 7], 6, seed=2)


# --- report -----------------------------------------------------------------------------


def test_run_writes_a_self_contained_report_with_the_funnel_numbers(audited):
    _, manifest, out, _ = audited
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched when the page is opened
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", page, re.I)
    c = manifest["counters"]
    for number in (c["input_records"], c["kept"], c["rejected_total"], *c["rejected"].values()):
        assert f">{number:,}<" in page
    for reason in c["rejected"]:
        assert f"<h3>{reason}</h3>" in page  # a sample table per reason
    assert page.count("<svg") >= 2 and "cutoff " + manifest["policy"]["cutoff"] in page
    # provenance of a sampled rejected document
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert any(f"offset {r['source_offset']}, record {r['source_index']}" in page for r in rejected)


def test_report_command_writes_where_asked(audited, tmp_path):
    _, _, out, _ = audited
    target = tmp_path / "r.html"
    assert cli.main(["-q", "report", str(out), "--to", str(target)]) == 0
    assert target.read_text().count("<svg") >= 2


def test_report_escapes_what_comes_from_the_data():
    hostile = {"doc_id": "d1", "source_uri": "/x/<b>.warc", "source_format": "warc", "source_offset": 1,
               "source_index": 2, "url": "https://e.example/\"><script>alert(1)</script>",
               "reject_detail": "<img src=https://evil.example/x.png>", "duplicate_of": None,
               "ai_score": None, "pre_cutoff_evidence": None, "text": "</td><script>x</script>"}
    page = samples_section({"<reason>": [hostile]})
    assert "<script" not in page and "<img" not in page and "&lt;reason&gt;" in page
    chart = svg_bars(["<a>"], [("<s>", [3], "#000")], title="<t>", marker=(0.5, "<m>"))
    assert "<a>" not in chart and "<t>" not in chart and "&lt;m&gt;" in chart


def test_domains_are_found_with_and_without_a_scheme():
    assert domain_of("https://www.Example.org/a?b") == "example.org"
    assert domain_of("www.pnas.org/content/116") == "pnas.org"
    assert domain_of(None) == "(no url)"


def test_a_run_on_a_relative_input_verifies_from_any_directory(tmp_path, monkeypatch, capsys):
    """The rows' source_uri is the input's full path, whatever directory the run started in."""
    work = tmp_path / "job[1]"  # a glob character in the working directory must not become a pattern
    (work / "in").mkdir(parents=True)
    shutil.copyfile(bundled_sample(), work / "in" / "sample.warc.gz")
    monkeypatch.chdir(work)
    assert cli.main(["-q", "run", "--input", "in/*.warc.gz", "--output", "out", "--no-ai"]) == 0
    rows = pq.read_table(work / "out" / "human").column("source_uri").to_pylist()
    assert set(rows) == {str(work / "in" / "sample.warc.gz")}
    monkeypatch.chdir(tmp_path)
    code, out = _verify_cli(work / "out", capsys)
    assert code == 0, out
