"""Deduplicate (the pipeline's step): exact then near duplicates, joined back in one pass."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from provsieve.transforms.dedup import Deduplicate, mark_duplicates
from provsieve.transforms.exact_dedup import ExactDedup
from provsieve.transforms.near_dedup import Assignment, NearDedup
from test_near_dedup import _expected_rows, _row, crafted_docs, doc


def _with_exact_copies():
    """The crafted near-duplicate clusters plus exact copies, and the rows expected of exact-then-near.

    Two later copies of a near cluster's member (one differing only in case
    and punctuation) are exact duplicates of it and leave the cluster as it
    was; an older copy of a singleton wins its exact group, so the singleton
    becomes the exact duplicate.
    """
    docs, expected = crafted_docs()
    n = len(docs)
    member, singleton = docs[0], docs[-3]
    copies = [doc(n, member.text, "2024-01-01T00:00:00Z"),
              doc(n + 1, member.text.upper() + " !", "2024-02-01T00:00:00Z"),
              doc(n + 2, singleton.text, "2018-01-01T00:00:00Z")]
    rows = {r[0]: r for r in _expected_rows(docs, expected)}
    for copy in copies[:2]:
        rows[copy.doc_id] = (copy.doc_id, member.doc_id, None, member.doc_id, "exact_duplicate")
    rows[singleton.doc_id] = (singleton.doc_id, copies[2].doc_id, None, copies[2].doc_id, "exact_duplicate")
    rows[copies[2].doc_id] = (copies[2].doc_id, copies[2].doc_id, 1, None, None)
    return docs + copies, sorted(rows.values())


def test_one_pass_equals_exact_then_near():
    docs, want = _with_exact_copies()
    with BeamTestPipeline(runner=FnApiRunner()) as p:
        created = p | beam.Create(docs)
        one_pass = created | "One pass" >> Deduplicate() | "Rows 1" >> beam.Map(_row)
        sequential = created | ExactDedup() | NearDedup() | "Rows 2" >> beam.Map(_row)
        assert_that(one_pass, equal_to(want), label="one pass")
        assert_that(sequential, equal_to(want), label="sequential")


def test_mark_duplicates_exact_before_near_and_rejected_untouched():
    d = doc(1, "a b c")
    exact = mark_duplicates(d, {d.doc_id: "k1"}, {d.doc_id: Assignment("k2", None)})
    assert (exact.reject_reason, exact.duplicate_of, exact.dup_cluster_id) == ("exact_duplicate", "k1", "k1")
    # the kept copy of the text is itself a near duplicate of k3: the cluster is k3's
    chained = mark_duplicates(d, {d.doc_id: "k1"}, {"k1": Assignment("k3", None)})
    assert (chained.duplicate_of, chained.dup_cluster_id) == ("k1", "k3")
    near = mark_duplicates(d, {}, {d.doc_id: Assignment("k2", None)})
    assert (near.reject_reason, near.duplicate_of) == ("near_duplicate", "k2")
    alone = mark_duplicates(d, {}, {})
    assert (alone.reject_reason, alone.dup_cluster_id, alone.dup_cluster_size) == (None, d.doc_id, 1)
    rejected = d._replace(reject_reason="empty_text")
    assert mark_duplicates(rejected, {d.doc_id: "k1"}, {}) is rejected


def test_dedup_verdicts_carry_the_kept_copys_cluster_to_its_exact_copies():
    from provsieve.transforms.dedup import DedupVerdict, dedup_verdicts, mark_with_verdict

    cluster = Assignment("k3", None)
    got = sorted(dedup_verdicts(("k1", {"losers": ["d1", "d2"], "near": [cluster]})))
    assert got == [("d1", DedupVerdict("k1", cluster)), ("d2", DedupVerdict("k1", cluster)),
                   ("k1", DedupVerdict(None, cluster))]
    assert list(dedup_verdicts(("k1", {"losers": ["d1"], "near": []}))) == [("d1", DedupVerdict("k1", None))]
    d = doc(1, "a b c")
    # the same columns as mark_duplicates with the whole dicts
    for verdict, exact, near in ((None, {}, {}),
                                 (DedupVerdict(None, Assignment("k2", None)), {}, {d.doc_id: Assignment("k2", None)}),
                                 (DedupVerdict("k1", None), {d.doc_id: "k1"}, {}),
                                 (DedupVerdict("k1", cluster), {d.doc_id: "k1"}, {"k1": cluster})):
        assert mark_with_verdict(d, verdict) == mark_duplicates(d, exact, near)
