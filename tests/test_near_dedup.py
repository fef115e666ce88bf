"""NearDedup: pure logic without Beam, then a Beam pipeline on crafted clusters."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from provsieve.transforms.document import new_document
from provsieve.transforms.keep_rule import keep_key
from provsieve.transforms.minhash import minhash_signatures
from provsieve.transforms.near_dedup import (
    Assignment,
    NearDedup,
    band_hashes,
    tag_document,
    verify_bucket,
)


def doc(i: int, text: str = "x", crawl_date=None, **tags):
    return new_document(source_uri="mem://test", source_format="jsonl", source_index=i,
                        text=text, crawl_date=crawl_date, **tags)


# --- pure functions -----------------------------------------------------------------

def test_keep_key_orders_oldest_evidence_then_doc_id_none_last():
    old = doc(1, crawl_date="2019-01-01T00:00:00Z")
    new = doc(2, crawl_date="2021-01-01T00:00:00Z")
    undated = doc(3)
    trusted = doc(4, crawl_date="2022-01-01T00:00:00Z", created="2015-05-05T00:00:00Z",
                  pre_cutoff_evidence="captured")
    claimed = doc(5, crawl_date="2022-01-01T00:00:00Z", created="2010-05-05T00:00:00Z",
                  pre_cutoff_evidence="claimed")
    order = sorted([undated, claimed, new, old, trusted], key=keep_key)
    assert [d.source_index for d in order] == [4, 1, 2, 5, 3]
    same_day = sorted([doc(7, crawl_date="2019-01-01T00:00:00Z"), old], key=keep_key)
    assert same_day[0].doc_id == min(old.doc_id, same_day[1].doc_id, same_day[0].doc_id)


def test_verify_bucket_first_band_and_threshold():
    base = " ".join(f"w{i}" for i in range(300))
    near = base.replace("w150 ", "zz ")
    far = " ".join(f"w{i}" for i in range(150)) + " " + " ".join(f"v{i}" for i in range(150))
    sigs = minhash_signatures([base, near, far])
    bands, rows = 56, 2
    hashes = band_hashes(sigs, bands, rows)
    assert (hashes[0] == hashes[1]).sum() > 40
    members = [(("n", i), sigs[i].tobytes()) for i in range(3)]
    first_shared = lambda i, j: int(np.flatnonzero(hashes[i] == hashes[j])[0])
    res = verify_bucket(first_shared(0, 1), members[:2], bands, rows, 0.69)
    assert res.candidates == 1 and res.edges == [(("n", 0), ("n", 1))]
    later = int(np.flatnonzero(hashes[0] == hashes[1])[1])
    assert verify_bucket(later, members[:2], bands, rows, 0.69) == (0, [])
    weak = verify_bucket(first_shared(0, 2), [members[0], members[2]], bands, rows, 0.69)
    assert weak.candidates == 1 and weak.edges == []


def test_tag_document():
    d = doc(1)
    assert tag_document(d, None).dup_cluster_size == 1
    kept = tag_document(d, Assignment(d.doc_id, 3))
    assert (kept.dup_cluster_id, kept.dup_cluster_size, kept.reject_reason) == (d.doc_id, 3, None)
    dup = tag_document(d, Assignment("other", None))
    assert (dup.duplicate_of, dup.reject_reason, dup.dup_cluster_id) == ("other", "near_duplicate", "other")
    rejected = d._replace(reject_reason="exact_duplicate")
    assert tag_document(rejected, Assignment("other", None)) is rejected


# --- Beam ---------------------------------------------------------------------------

def _words(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _edit(words: list[str], positions, tag: str) -> str:
    out = list(words)
    for p in positions:
        out[p] = f"{tag}{p}"
    return " ".join(out)


def crafted_docs():
    """(docs, expected {index: (kept index, size)}) for chains, a star, bridged clusters."""
    texts, dates, expected = [], [], {}

    def add(text, date):
        texts.append(text)
        dates.append(date)
        return len(texts) - 1

    # chain: each link 3 substitutions away from the previous (J ~ 0.93), ends ~0.8
    chain = _words("c", 300)
    ids = []
    for k in range(4):
        chain = _edit(chain, range(20 + 70 * k, 23 + 70 * k), f"k{k}x").split()
        ids.append(add(" ".join(chain), f"2020-0{k + 2}-01T00:00:00Z"))
    expected.update({i: (ids[0], 4) for i in ids})
    # star: five spokes, each 3 substitutions from the centre; the oldest is a spoke,
    # two undated docs; the kept one is the oldest dated
    centre = _words("s", 300)
    ids = [add(" ".join(centre), "2021-01-01T00:00:00Z")]
    for k in range(5):
        ids.append(add(_edit(centre, range(40 * k + 10, 40 * k + 13), f"t{k}x"),
                       None if k < 2 else f"2020-0{k}-01T00:00:00Z"))
    expected.update({i: (ids[3], 6) for i in ids})  # spoke k=2: 2020-02
    # two clusters whose members are weak matches across (J ~ 0.5): must stay two
    x = _words("b", 400)
    y = x[:267] + _words("y", 133)
    xs = [add(" ".join(x), "2020-01-01T00:00:00Z"), add(_edit(x, range(300, 303), "xe"), None)]
    ys = [add(" ".join(y), "2020-01-01T00:00:00Z"), add(_edit(y, range(100, 103), "ye"), None)]
    expected.update({i: (xs[0], 2) for i in xs})
    expected.update({i: (ys[0], 2) for i in ys})
    # same date twice: the smaller doc_id wins
    tie = _words("d", 200)
    ties = [add(" ".join(tie), "2020-01-01T00:00:00Z"),
            add(_edit(tie, [100], "te"), "2020-01-01T00:00:00Z")]
    # singletons
    for k in range(3):
        add(" ".join(_words(f"u{k}x", 100)), None)
    add("", None)
    docs = [doc(i, t, d) for i, (t, d) in enumerate(zip(texts, dates))]
    winner = min(ties, key=lambda i: docs[i].doc_id)
    expected.update({i: (winner, 2) for i in ties})
    already_rejected = doc(len(docs), " ".join(x), "1999-01-01T00:00:00Z",
                           reject_reason="exact_duplicate")
    return docs + [already_rejected], expected


def _expected_rows(docs, expected):
    rows = []
    for i, d in enumerate(docs):
        if d.reject_reason is not None:
            rows.append((d.doc_id, None, None, None, d.reject_reason))
        elif i not in expected:
            rows.append((d.doc_id, d.doc_id, 1, None, None))
        else:
            kept, size = expected[i]
            kept_id = docs[kept].doc_id
            if kept == i:
                rows.append((d.doc_id, d.doc_id, size, None, None))
            else:
                rows.append((d.doc_id, kept_id, None, kept_id, "near_duplicate"))
    return rows


def _row(d):
    return d.doc_id, d.dup_cluster_id, d.dup_cluster_size, d.duplicate_of, d.reject_reason


def test_shared_buckets_merges_parts():
    from provsieve.transforms.near_dedup import bucket_key, shared_buckets

    parts = [([1, 2, 3, 3], ["a", "b", "c", "d"]), ([1, 4], ["e", "f"]), ([3], ["g"])]
    got = sorted(shared_buckets(5, parts))
    assert got == sorted([("a", bucket_key(5, 1)), ("e", bucket_key(5, 1)),
                          ("c", bucket_key(5, 3)), ("d", bucket_key(5, 3)), ("g", bucket_key(5, 3))])
    assert list(shared_buckets(0, [])) == []
    # a bucket of earlier releases' documents only is not a shared bucket
    assert list(shared_buckets(0, [([7, 7], ["r1@0", "r2@0"])])) == []
    big = 2**64 - 1  # band hashes are full uint64
    assert sorted(shared_buckets(1, [([big], ["x"]), ([big], ["y"])])) == [("x", bucket_key(1, big)),
                                                                            ("y", bucket_key(1, big))]


def test_signatures_to_buckets_leaves_out_excluded_and_bucketless_documents():
    from provsieve.transforms.near_dedup import signatures_to_buckets, verifiable

    node_sig = ((False, "2020-01-01", "a"), b"sig")
    other = ((False, "2020-01-01", "b"), b"sig2")
    parts = [{"a": node_sig}, {"b": other, "c": ((True, "", "c"), b"sig3")}]
    got = sorted(signatures_to_buckets((7, {"sig": parts, "buckets": [("a", b"k1"), ("a", b"k2"), ("b", b"k1")],
                                            "excluded": []})))
    assert got == [(b"k1", node_sig), (b"k1", other), (b"k2", node_sig)]
    # "b" is an exact copy: it takes no part; "c" shares no bucket
    got = sorted(signatures_to_buckets((7, {"sig": parts, "buckets": [("a", b"k1"), ("b", b"k1")],
                                            "excluded": [("b", "kept")]})))
    assert got == [(b"k1", node_sig)]
    assert list(signatures_to_buckets((7, {"sig": parts, "buckets": []}))) == []
    # a bucket left with one member once the excluded ones are gone holds no pair
    assert not verifiable([node_sig])
    assert verifiable([node_sig, ((False, "2021-01-01", "b"), b"sig")])
    released = ((False, "2019-01-01", "r", "release-1"), b"sig")
    assert not verifiable([released, released]) and verifiable([released, node_sig])


def test_near_dedup_pipeline_on_crafted_clusters():
    docs, expected = crafted_docs()
    want = _expected_rows(docs, expected)
    # the last: band parts flushed after every batch of 2 documents, 3 shards per band
    for kwargs in ({}, {"bands": 56, "rows": 2},
                   {"batch_size": 2, "band_shards": 3, "flush_entries": 1}):
        with BeamTestPipeline(runner=FnApiRunner()) as p:
            rows = p | beam.Create(docs) | NearDedup(**kwargs) | beam.Map(_row)
            assert_that(rows, equal_to(want))
        result = p.result
        counters = {c.key.metric.name: c.committed
                    for c in result.metrics().query()["counters"]
                    if c.key.metric.namespace == "near_dedup"}
        assert counters["clusters"] == 5
        assert counters["duplicates"] == 3 + 5 + 1 + 1 + 1
        assert counters.get("cc_unsettled_nodes", 0) == 0
        if kwargs.get("bands"):  # 56 x 2 bands: the weak cross pairs are candidates, and rejected
            assert counters["candidate_pairs"] > counters["verified_pairs"] + 3
