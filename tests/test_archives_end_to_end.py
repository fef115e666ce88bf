"""``provsieve run`` over real-archive fixtures (ARC, Wayback export, a dangling symlink), then ``verify``."""

from __future__ import annotations

import json
import os

from archive_fixtures import write_arc
from test_read_archives import common_crawl_2008_records, wayback_records
from warc_fixtures import write_warc

from provsieve.pipeline import cli
from provsieve.pipeline.verify import verify
from provsieve.transforms.match_inputs import expand_inputs, match_pattern


def _inputs(tmp_path):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    write_arc(crawl / "cc-2008.arc", common_crawl_2008_records(), None)
    write_arc(crawl / "cc-2008.arc.gz", common_crawl_2008_records())
    write_warc(crawl / "wayback.warc.gz", wayback_records())
    os.symlink(crawl / "gone.warc.gz", crawl / "dangling.warc.gz")
    return crawl


def test_a_dangling_symlink_matched_by_a_glob_is_kept_for_the_reader(tmp_path):
    crawl = _inputs(tmp_path)
    matched = {m.path: m.size for m in match_pattern(str(crawl / "*.warc.gz"))}
    assert matched[str(crawl / "dangling.warc.gz")] is None and matched[str(crawl / "wayback.warc.gz")] > 0
    assert expand_inputs([str(crawl / "dangling.warc.gz")])  # matches, though it cannot be opened


def test_run_over_archives_accounts_for_every_record_and_verifies(tmp_path, capsys):
    crawl = _inputs(tmp_path)
    out = tmp_path / "out"
    code = cli.main(["-q", "run", "--input", str(crawl / "*"), "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    manifest = json.loads((out / "manifest.json").read_text())
    counters = manifest["counters"]
    assert counters["balanced"] and counters["input_records"] == 6 + 6 + 2 + 1
    assert counters["rejected"].get("unreadable_file") == 1
    assert counters["skipped_records"] == {"dns": 2, "filedesc": 2}
    assert counters["arc_resynchronised"] == 4
    dangling = str(crawl / "dangling.warc.gz")
    assert dangling in manifest["file_errors"] and dangling in printed
    assert any(f["path"] == dangling and f["error"] for f in manifest["input_files"])
    assert manifest["documents_by_capture_source"] == {"arc_date": 12, "memento_datetime": 1, "none": 1,
                                                       "replay_uri": 1}
    assert manifest["documents_by_pre_cutoff_evidence"]["captured"] == 14
    report = (out / "report.html").read_text()
    assert "filedesc 1, ARC re-synchronised 2" in report and "cannot be opened" in report
    ok, checks = verify(str(out), sample=40)
    assert ok, "\n".join(c.format() for c in checks)
    samples = next(c for c in checks if c.name == "sampled records")
    matched, sampled = samples.summary.split(" ", 1)[0].split("/")
    assert matched == sampled and int(sampled) >= counters["kept"], samples.summary


def test_a_misspelt_option_stops_the_run_before_it_starts(tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "--output", str(out), "--ai-treshold", "0.5"])
    err = capsys.readouterr().err
    assert code == 2 and "--ai-treshold" in err and "did you mean --ai-threshold?" in err
    assert not out.exists()
    assert cli.main(["run", "--output", str(out), "--runner=DirectRunner", "--direct_num_wrkers=2"]) == 2
    assert "did you mean --direct_num_workers?" in capsys.readouterr().err


def test_a_file_that_cannot_be_opened_is_an_unreadable_file_row_and_named_in_the_inputs(tmp_path, monkeypatch):
    from provsieve.pipeline import manifest
    from provsieve.transforms import read
    from provsieve.transforms.read import read_file

    crawl = _inputs(tmp_path)
    locked = str(crawl / "wayback.warc.gz")

    def deny(path: str) -> None:  # the tests run as root, for whom chmod 000 changes nothing
        if path == locked:
            raise PermissionError(13, "Permission denied", path)

    real_open, real_hash = read.open_raw, manifest.file_sha256
    monkeypatch.setattr(read, "open_raw", lambda path: deny(path) or real_open(path))
    monkeypatch.setattr(manifest, "file_sha256", lambda path: deny(path) or real_hash(path))
    (doc,) = read_file(locked)
    assert doc.reject_reason == "unreadable_file" and "Permission denied" in doc.reject_detail
    entry = next(f for f in manifest.describe_inputs([str(crawl / "*")], 1 << 30) if f["path"] == locked)
    assert entry["sha256"] is None and "PermissionError" in entry["error"]
