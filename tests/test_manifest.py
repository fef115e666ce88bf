from provsieve.pipeline.manifest import summarize_counts


def test_counters_add_up_per_file_and_in_total():
    facts = [
        (("read", "a.warc", "input_records"), 5), (("final", "a.warc", "kept"), 3),
        (("final", "a.warc", "exact_duplicate"), 1), (("final", "a.warc", "empty_text"), 1),
        (("read", "b.jsonl", "input_records"), 2), (("final", "b.jsonl", "kept"), 1),
        (("final", "b.jsonl", "unreadable_record"), 1),
        (("tier", "", "captured"), 4), (("ai_threshold", "--ai-threshold", ""), 0.9),
    ]
    summary = summarize_counts(facts)
    assert summary["counters"] == {"input_records": 7, "kept": 4,
                                   "rejected": {"empty_text": 1, "exact_duplicate": 1, "unreadable_record": 1},
                                   "rejected_total": 3, "balanced": True, "skipped_records": {},
                                   "revisit_records": 0, "arc_resynchronised": 0}
    assert summary["files"]["a.warc"]["balanced"] and summary["files"]["b.jsonl"]["balanced"]
    assert summary["ai_threshold"] == {"value": 0.9, "chosen_by": "--ai-threshold"}
    assert summary["documents_by_pre_cutoff_evidence"] == {"captured": 4}


def test_a_lost_record_is_reported_unbalanced():
    facts = [(("read", "a.warc", "input_records"), 5), (("final", "a.warc", "kept"), 4)]
    summary = summarize_counts(facts)
    assert summary["counters"]["balanced"] is False
    assert summary["files"]["a.warc"]["balanced"] is False


def test_file_errors_are_named():
    facts = [(("read", "bad.gz", "input_records"), 3), (("final", "bad.gz", "kept"), 2),
             (("final", "bad.gz", "truncated_file"), 1)]
    assert summarize_counts(facts)["file_errors"] == ["bad.gz"]


def test_inputs_are_hashed_only_below_the_limit(tmp_path):
    import hashlib

    from provsieve.pipeline.manifest import describe_inputs

    (tmp_path / "a.jsonl").write_bytes(b'{"text": "x"}\n')
    pattern = [str(tmp_path / "*.jsonl")]
    (hashed,) = describe_inputs(pattern, hash_limit_bytes=1 << 20)
    assert hashed["sha256"] == hashlib.sha256(b'{"text": "x"}\n').hexdigest() and hashed["bytes"] == 14
    (sized,) = describe_inputs(pattern, hash_limit_bytes=10)
    assert sized["sha256"] is None and sized["bytes"] == 14


def test_skipped_and_revisit_records_are_counted_per_file_apart_from_documents():
    facts = [(("read", "a.warc", "input_records"), 2), (("final", "a.warc", "kept"), 2),
             (("skipped", "a.warc", "request"), 3), (("skipped", "a.warc", "revisit"), 2),
             (("skipped", "b.arc", "filedesc"), 1), (("skipped", "b.arc", "arc_resynchronised"), 1),
             (("read", "b.arc", "input_records"), 1), (("final", "b.arc", "unreadable_record"), 1),
             (("capture_source", "", "arc_date"), 1), (("capture_source", "", "warc_date"), 2)]
    summary = summarize_counts(facts)
    counters = summary["counters"]
    assert counters["balanced"] and counters["input_records"] == 3
    assert counters["skipped_records"] == {"filedesc": 1, "request": 3}
    assert counters["revisit_records"] == 2 and counters["arc_resynchronised"] == 1
    assert summary["files"]["a.warc"]["skipped_records"] == {"request": 3}
    assert summary["files"]["a.warc"]["revisit_records"] == 2
    assert summary["documents_by_capture_source"] == {"arc_date": 1, "warc_date": 2}
