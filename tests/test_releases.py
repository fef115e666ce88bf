"""Scheduled releases: run 1 on half a corpus, run 2 on the other half ``--after`` run 1, against one run on both.

The corpus is generated here: originals of random words, near copies (one or
two words changed) and exact copies (case and punctuation changed), with
copies inside each half and across the halves in both directions (a few
cross-half copies are *older* than their half-1 original, so a single run
keeps the half-2 copy while the split runs keep the released one).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from provsieve.pipeline.cli import main
from provsieve.pipeline.index_cli import rebuild_index
from provsieve.pipeline.options import RunConfig
from provsieve.pipeline.releases import ReleaseError, same_file, split_processed
from provsieve.transforms.match_inputs import glob_escape
from provsieve.pipeline.run import run
from provsieve.pipeline.verify import verify
from provsieve.pipeline.verify_lineage import released_copies
from provsieve.transforms.dedup_index import index_rows, released_parts
from provsieve.transforms.exact_dedup import duplicates_of_group
from provsieve.transforms.minhash import estimated_jaccard, minhash_signatures
from provsieve.transforms.near_dedup import lsh_bands_rows
from provsieve.transforms.released import released_member, released_node
from provsieve.transforms.write import shard_of

WORDS = [f"w{i}" for i in range(3000)]
_BANDS, _ROWS = lsh_bands_rows(0.69, 112)  # what the default --dedup-threshold gives
PARAMS = dict(num_perm=112, ngram=5, seed=1, bands=_BANDS, rows=_ROWS, threshold=0.69,
              normalization="nfkc-lower-fold-nonalnum-v1", shingle_hash="provsieve-H-v1/datasketch-affine32")


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(90, 130)))


def _near(rng: random.Random, text: str) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def _exact(text: str) -> str:
    return text.upper().replace(" ", ", ", 3) + "!"


def _date(rng: random.Random, year: int) -> str:
    return f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}T00:00:00Z"


CHAINS = 6
chains: list[tuple[str, str, str]] = []
"""The (Z, Y, X) texts of the planted chains of the last corpus built."""


def build_split_corpus(root: Path, seed: int = 7) -> dict[str, int]:
    """Write ``root/half1/*.jsonl`` and ``root/half2/*.jsonl``; return how many copies of each kind were planted."""
    rng = random.Random(seed)
    halves: dict[int, list[dict]] = {1: [], 2: []}
    planted = defaultdict(int)
    chains.clear()

    def add(half: int, text: str, year: int) -> None:
        halves[half].append({"text": text, "url": f"https://h{half}.example/{len(halves[half])}",
                             "metadata": {"warc_date": _date(rng, year)}})

    originals = {1: [], 2: []}
    for half, year in ((1, 2020), (2, 2022)):
        for _ in range(110):
            text = _text(rng)
            originals[half].append(text)
            add(half, text, year)
    for kind, make in (("near", lambda t: _near(rng, t)), ("exact", _exact)):
        for _ in range(18):  # half 1 -> half 2, newer: the released original wins in both set-ups
            add(2, make(rng.choice(originals[1])), 2023)
            planted[f"cross_{kind}"] += 1
        for _ in range(6):  # half 1 -> half 2, older: a single run keeps the half-2 copy, the split runs the release
            add(2, make(rng.choice(originals[1])), 2015)
            planted[f"cross_older_{kind}"] += 1
        for half in (1, 2):  # inside a half
            for _ in range(8):
                add(half, make(rng.choice(originals[half])), 2024)
                planted[f"within_{kind}"] += 1
    for _ in range(CHAINS):  # Z (half 1) <- Y (half 1, near Z) <- X (half 2, near Y, not near Z)
        stream = [rng.choice(WORDS) for _ in range(372)]  # windows of 300 words, 36 apart: J(Z, Y) ~ 0.79
        z, y, x = stream[:300], stream[36:336], stream[72:]
        add(1, " ".join(z), 2019)
        add(1, " ".join(y), 2021)
        add(2, " ".join(x), 2023)
        planted["cross_chain"] += 1
        chains.append((" ".join(z), " ".join(y), " ".join(x)))
    for half, docs in halves.items():
        rng.shuffle(docs)
        folder = root / f"half{half}"
        folder.mkdir(parents=True)
        for part in range(2):
            with open(folder / f"part-{part}.jsonl", "w") as f:
                f.writelines(json.dumps(d) + "\n" for d in docs[part::2])
    return dict(planted)


def _config(root: Path, inputs: list[str], out: str, **kw) -> RunConfig:
    return RunConfig(inputs=tuple(str(root / i) for i in inputs), output=str(root / out), ai=False, report=False,
                     **kw)


def _rows(out: Path, kind: str) -> list[dict]:
    files = sorted(out.glob(f"{kind}/*.parquet"))
    if not files:
        return []
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def _shard_hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.glob("*/*.parquet"))}


def _copy_output(source: Path, target: Path, without: str | None = None) -> Path:
    """A copy of an output folder (without its ``without`` subfolder)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(without) if without else None)
    return target


def _half(row: dict) -> int:
    return 1 if "/half1/" in row["source_uri"] else 2


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("releases")
    planted = build_split_corpus(root / "crawl")
    single = run(_config(root, ["crawl/half*/*.jsonl"], "single"))
    r1 = run(_config(root, ["crawl/half1/*.jsonl"], "r1"))
    r2 = run(_config(root, ["crawl/half2/*.jsonl"], "r2", after=(str(root / "r1"),)))
    return root, planted, single, r1, r2


def test_split_runs_keep_no_document_twice_and_catch_every_cross_half_copy(releases):
    root, planted, single, r1, r2 = releases
    all_single = _rows(root / "single", "human") + _rows(root / "single", "rejected")
    cluster_of = {r["doc_id"]: r["dup_cluster_id"] for r in all_single}
    members = defaultdict(set)
    for r in all_single:
        members[r["dup_cluster_id"]].add(_half(r))
    # what one run over both halves catches across them: the half-2 documents whose cluster holds a half-1 one
    cross_single = {r["doc_id"] for r in all_single if _half(r) == 2 and members[r["dup_cluster_id"]] == {1, 2}}
    rejected2 = _rows(root / "r2", "rejected")
    cross_split = {r["doc_id"] for r in rejected2 if r["reject_reason"] == "released_duplicate"}
    cross_planted = sum(v for k, v in planted.items() if k.startswith("cross"))
    chain_x = {r["doc_id"] for r in all_single if any(r["text"] == x for _, _, x in chains)}
    linked = len(chain_x & cross_single)  # LSH finds a pair at J ~ 0.82 95 % of the time: most chains
    assert linked >= CHAINS - 1
    assert len(cross_single) == cross_planted - CHAINS + linked == 48 + linked
    assert cross_split == cross_single  # same recall, and nothing the single run would not call a copy

    kept = _rows(root / "r1", "human") + _rows(root / "r2", "human")
    ids = [r["doc_id"] for r in kept]
    assert len(ids) == len(set(ids))
    clusters = [cluster_of[i] for i in ids]
    assert len(clusters) == len(set(clusters)), "two kept documents of the two releases are copies of each other"
    assert len(kept) == single["counters"]["kept"]  # the same number of distinct texts survive

    released = {r["doc_id"]: r for r in _rows(root / "r1", "human")}
    for r in rejected2:
        if r["reject_reason"] == "released_duplicate":
            assert r["duplicate_of"] in released and r["dup_cluster_id"] == r["duplicate_of"]
            assert r["duplicate_release"] == str(root / "r1")
            assert r["reject_detail"].split()[0] in ("exact", "near")
    assert r2["released_duplicates"] == {str(root / "r1"): {
        "exact": sum(1 for r in rejected2 if r["reject_detail"] and r["reject_detail"].startswith("exact")),
        "near": sum(1 for r in rejected2 if r["reject_detail"] and r["reject_detail"].startswith("near"))}}
    # within half 2, de-duplication works as in a run on its own
    assert r2["counters"]["rejected"]["exact_duplicate"] + r2["counters"]["rejected"]["near_duplicate"] == 16


def test_each_run_adds_up_records_its_lineage_and_verifies(releases):
    root, _, _, r1, r2 = releases
    for manifest in (r1, r2):
        c = manifest["counters"]
        assert c["balanced"] and c["input_records"] == c["kept"] + c["rejected_total"]
    assert r1["dedup_index"]["documents"] == r1["counters"]["kept"] + r1["counters"]["rejected"]["near_duplicate"]
    assert r1["dedup_index"]["params"] == PARAMS
    link = r2["lineage"]["releases"][0]
    assert link["path"] == str(root / "r1")
    assert link["manifest_sha256"] == hashlib.sha256((root / "r1" / "manifest.json").read_bytes()).hexdigest()
    assert "earlier release wins" in r2["lineage"]["policy"]
    assert [s["stage"] for s in r2["stages"]][:2] == ["read", "released_dedup"]
    ok, checks = verify(str(root / "r2"), sample=5)
    assert ok, "\n".join(c.format() for c in checks)
    names = [c.name for c in checks]
    assert {"index", "lineage", "released copies"} <= set(names)


def test_rerunning_run_2_gives_byte_identical_shards_and_pointing_it_at_both_halves_skips_half_1(releases):
    root, _, _, _, r2 = releases
    run(_config(root, ["crawl/half2/*.jsonl"], "r2_again", after=(str(root / "r1"),)))
    both = run(_config(root, ["crawl/half*/*.jsonl"], "r2_both", after=(str(root / "r*1"),)))
    assert _shard_hashes(root / "r2_again") == _shard_hashes(root / "r2")
    assert _shard_hashes(root / "r2_both") == _shard_hashes(root / "r2")
    assert sorted(f["path"] for f in both["skipped_inputs"]) == sorted(str(p) for p in (root / "crawl/half1").glob("*"))
    assert {f["release"] for f in both["skipped_inputs"]} == {str(root / "r1")}
    assert sorted(f["path"] for f in both["input_files"]) == sorted(f["path"] for f in r2["input_files"])
    assert both["counters"] == r2["counters"]


def test_key_shards_change_how_keys_are_grouped_never_the_output(releases):
    """Run 2 again (after run 1) with 3 and 1 key shards instead of the 64 its input's size gives: the same shards."""
    root, _, _, _, r2 = releases
    assert r2["key_shards"] == 64
    for shards in (3, 1):
        again = run(_config(root, ["crawl/half2/*.jsonl"], f"r2_shards{shards}", after=(str(root / "r1"),),
                            key_shards=shards))
        assert again["key_shards"] == shards
        assert _shard_hashes(root / f"r2_shards{shards}") == _shard_hashes(root / "r2")
        assert again["counters"] == r2["counters"]


def test_key_shards_grow_with_the_input():
    from provsieve.transforms.near_dedup import INPUT_BYTES_PER_KEY_SHARD, KEY_SHARDS, key_shards_for

    assert key_shards_for(0) == key_shards_for(KEY_SHARDS * INPUT_BYTES_PER_KEY_SHARD) == KEY_SHARDS
    assert key_shards_for(KEY_SHARDS * INPUT_BYTES_PER_KEY_SHARD + 1) == 2 * KEY_SHARDS
    assert key_shards_for(2 * 1024**4) == 8192  # 2 TiB of WARC.gz, about a billion pages: 256 MiB a shard


def test_release_chain_is_followed_and_a_broken_chain_or_other_parameters_are_errors(releases, capsys):
    root, _, _, _, r2 = releases
    # run 3 --after run 2 only: run 1 comes through run 2's lineage, and run 1's documents still win
    r3 = run(_config(root, ["crawl/half1/part-0.jsonl"], "r3", after=(str(root / "r2"),), reprocess=True))
    assert [link["path"] for link in r3["lineage"]["releases"]] == [str(root / "r1"), str(root / "r2")]
    assert set(r3["released_duplicates"]) == {str(root / "r1")}
    assert r3["counters"]["kept"] == 0  # every readable document of half 1 was released by run 1

    code = main(["run", "--input", str(root / "crawl/half2/*.jsonl"), "--output", str(root / "bad"), "--no-ai",
                 "--num-perm", "128", "--after", str(root / "r1")])
    err = capsys.readouterr().err
    assert code == 2 and "num_perm: release 112, this run 128" in err and not (root / "bad").exists()

    copy = _copy_output(root / "r1", root / "r1_copy")
    r2b = run(_config(root, ["crawl/half2/part-0.jsonl"], "r2b", after=(str(copy),)))
    assert r2b["lineage"]["releases"][0]["path"] == str(copy)
    manifest = copy / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"kept": ', '"kept":  ', 1))  # any change breaks the chain
    ok, checks = verify(str(root / "r2b"), sample=0)
    lineage = next(c for c in checks if c.name == "lineage")
    assert not ok and not lineage.ok and "manifest sha256" in lineage.problems[0]
    with pytest.raises(ReleaseError, match="chain of releases is broken"):
        run(_config(root, ["crawl/half2/part-1.jsonl"], "r3b", after=(str(root / "r2b"),)))


def test_index_rebuilt_for_an_old_release_is_the_one_the_run_wrote(releases):
    root, _, _, r1, _ = releases
    old = _copy_output(root / "r1", root / "old_release", without="index")
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["dedup_index"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ReleaseError, match="provsieve index"):
        run(_config(root, ["crawl/half2/*.jsonl"], "after_old", after=(str(old),)))
    damaged = _copy_output(root / "r1", root / "damaged_release")
    index_file = next((damaged / "index").glob("*.parquet"))
    index_file.write_bytes(index_file.read_bytes()[:-10])
    with pytest.raises(ReleaseError, match="bytes, its manifest says"):
        run(_config(root, ["crawl/half2/*.jsonl"], "after_damaged", after=(str(damaged),)))
    rebuilt = rebuild_index(str(old))["dedup_index"]
    assert [f["sha256"] for f in rebuilt["files"]] == [f["sha256"] for f in r1["dedup_index"]["files"]]
    assert rebuilt["rebuilt"]["by"] == "provsieve index"
    with pytest.raises(FileExistsError):
        rebuild_index(str(old))


# --- pure functions ---------------------------------------------------------------------------------------------

def test_released_nodes_win_and_are_never_losers():
    new_old = (False, "1990-01-01T00:00:00Z", "a" * 20)
    undated_release = released_node(None, "b" * 20, "R1")
    dated_release = released_node("2024-01-01T00:00:00Z", "c" * 20, "R2")
    assert sorted([new_old, undated_release, dated_release]) == [dated_release, undated_release, new_old]
    assert dict(duplicates_of_group([new_old, undated_release, dated_release])) == {
        "a" * 20: released_member("c" * 20, "R2")}


def test_released_parts_have_the_shape_of_the_run_fingerprints():
    rng = random.Random(1)
    d1, d2 = "d1" * 10, "d2" * 10  # doc ids are hex
    table = index_rows([d1, d2], [_text(rng), _text(rng)], ["2020-01-01T00:00:00Z", None], PARAMS)
    parts = list(released_parts(table, "R", 14, 8, shards=4))
    sigs = dict(p for tag, p in parts if tag == "sigs")  # doc_id shard -> {member: (node, signature)}
    assert sigs.keys() == {shard_of(d1, 4), shard_of(d2, 4)}
    members = {m: v for part in sigs.values() for m, v in part.items()}
    assert set(members) == {f"{d1}@R", f"{d2}@R"}
    assert members[f"{d2}@R"][0] == released_node(None, d2, "R")
    bands = [p for tag, p in parts if tag == "bands"]
    assert sum(len(members) for _, (_, members) in bands) == 2 * 14
    assert all(key[1] == int(h) % 4 for key, (hashes, _) in bands for h in hashes)


def test_released_copies_finds_exact_and_near_copies_only():
    rng = random.Random(2)
    a, b, c = _text(rng), _text(rng), _text(rng)
    index = index_rows(["ra", "rb"], [a, b], [None, None], PARAMS)
    sample = index_rows(["s1", "s2", "s3"], [_exact(a), _near(rng, b), c], [None] * 3, PARAMS)
    found = sorted(released_copies(sample, [("R", index)], PARAMS))
    assert ("s1", "R", "ra", "exact") in found and ("s2", "R", "rb", "near") in found
    assert not [f for f in found if f[0] == "s3"]


def test_skipping_needs_the_same_path_size_and_hash_or_mtime():
    then = {"path": "/a", "bytes": 10, "sha256": "x", "mtime": 5.0}
    assert same_file(dict(then), then)
    assert not same_file({**then, "sha256": "y"}, then)
    assert not same_file({**then, "bytes": 11}, then)
    assert same_file({**then, "sha256": None}, then)  # hashing skipped now: the mtime decides
    assert not same_file({**then, "sha256": None, "mtime": 6.0}, then)

    class R:
        path = "R1"
        manifest = {"input_files": [then]}

    keep, skipped = split_processed([dict(then), {"path": "/b", "bytes": 1, "sha256": "z"}], [R])
    assert [f["path"] for f in keep] == ["/b"] and skipped[0]["release"] == "R1"
    assert glob_escape("/x/a[1]*.gz") == "/x/a[[]1][*].gz"


def test_a_glob_of_releases_leaves_out_the_output_folder(releases):
    root, _, _, _, _ = releases
    from provsieve.pipeline.releases import match_releases

    assert str(root / "r1") not in match_releases([str(root / "r*")], str(root / "r1"))
    assert match_releases([str(root / "r1")], str(root / "r1")) == [str(root / "r1")]  # named: check_releases refuses
    with pytest.raises(ReleaseError, match="own output folder"):
        run(_config(root, ["crawl/half2/*.jsonl"], "r1", after=(str(root / "r1"),), overwrite=True))
    assert (root / "r1" / "manifest.json").exists()  # refused before the output was cleared


def test_a_copy_of_a_released_near_duplicate_is_caught_through_it(releases):
    """X (half 2) is near Y, which run 1 rejected as a near duplicate of Z, but X is not near Z itself."""
    root = releases[0]
    premise = []  # only the near duplicate links X to the release: MinHash estimates, as the runs see them
    for z, y, x in chains:
        sz, sy, sx = minhash_signatures([z, y, x])
        if estimated_jaccard(sy, sz) >= 0.69 and estimated_jaccard(sx, sy) >= 0.69 > estimated_jaccard(sx, sz):
            premise.append((z, y, x))
    released = {r["text"]: r["doc_id"] for r in _rows(root / "r1", "human")}
    rejected1 = {r["text"]: r for r in _rows(root / "r1", "rejected")}
    rejected2 = {r["text"]: r for r in _rows(root / "r2", "rejected")}
    caught = 0
    for z, y, x in premise:
        if rejected1.get(y, {}).get("reject_reason") != "near_duplicate":
            continue  # LSH missed the pair Y-Z (a one-run miss too)
        assert rejected1[y]["duplicate_of"] == released[z]
        if x in rejected2:
            assert rejected2[x]["reject_reason"] == "released_duplicate"
            assert rejected2[x]["duplicate_of"] == released[z]
            caught += 1
    assert caught >= 3
    index = pq.read_table(root / "r1" / "index").to_pylist()
    near_rows = [r for r in index if r["kept_doc_id"] is not None]
    assert len(near_rows) == releases[3]["counters"]["rejected"]["near_duplicate"]


def test_verify_finds_kept_copies_of_a_release_and_the_report_and_summary_show_what_was_released(releases):
    root, _, _, _, r2 = releases
    from provsieve.pipeline.report import build_report
    from provsieve.pipeline.summary import format_summary

    # the single run's output, claimed to come after run 1: its kept half-1 documents are run 1's
    fake = _copy_output(root / "single", root / "single_claimed_after_r1")
    manifest = json.loads((fake / "manifest.json").read_text())
    manifest["lineage"] = r2["lineage"]
    (fake / "manifest.json").write_text(json.dumps(manifest))
    ok, checks = verify(str(fake), sample=0, lineage_sample=60)
    copies = next(c for c in checks if c.name == "released copies")
    assert not ok and not copies.ok and "exact copy" in copies.problems[0]
    assert next(c for c in checks if c.name == "lineage").ok

    page = build_report(str(root / "r2"))
    assert 'id="releases"' in page and "Already released" in page and str(root / "r1") in page
    assert "already released" not in build_report(str(root / "r1")).lower()
    summary = format_summary(r2)
    released = r2["counters"]["rejected"]["released_duplicate"]
    assert f"already released: {released:,} documents" in summary
    assert "after 1 earlier release(s): 0 input file(s) skipped" in summary


def test_index_rows_from_the_dedup_columns_equal_the_rows_computed_from_the_texts():
    """The run's index writer joins the de-duplication step's columns with the kept and near ids."""
    from provsieve.transforms.dedup_index import shard_rows, surviving_near_rows
    from provsieve.transforms.document import normalize_text, normalized_text_key
    from provsieve.transforms.near_dedup import KEY_SHARDS, IndexColumns
    from provsieve.transforms.write import shard_of

    rng = random.Random(3)
    texts = {f"{i:08x}" + "0" * 32: _text(rng) for i in range(6)}
    ids = sorted(texts)
    sigs = minhash_signatures([normalize_text(texts[d]) for d in ids], 112, 5, 1, normalized=True)
    columns = IndexColumns(ids, [normalized_text_key(normalize_text(texts[d])) for d in ids],
                           [s.tobytes() for s in sigs], ["2020-01-01T00:00:00Z"] * 6)
    grouped = {"rows": [columns], "kept": [ids[:2], ids[2:3]], "near": [[(ids[4], ids[0])]]}
    parts = list(shard_rows((0, grouped), PARAMS))
    kept = [t for tag, t in parts if tag == "kept"]
    near = [piece for tag, piece in parts if tag == "near"]
    assert len(kept) == 1 and kept[0].equals(index_rows(ids[:3], [texts[d] for d in ids[:3]],
                                                        ["2020-01-01T00:00:00Z"] * 3, PARAMS))
    assert len(near) == 1 and [row[0] for row in near[0][1]] == [ids[4]]
    assert [row[4] for row in near[0][1]] == [ids[0]]  # ids[3], ids[5]: neither kept nor near
    assert near[0][0] == shard_of(ids[0], KEY_SHARDS)  # keyed by the shard of the copy kept in its place
    # the join: a near duplicate's row survives only where its kept copy is kept in the end
    survived = list(surviving_near_rows((near[0][0], {"kept": [[ids[0]]], "near": [near[0][1]]}), PARAMS))
    assert len(survived) == 1 and survived[0].equals(
        index_rows([ids[4]], [texts[ids[4]]], ["2020-01-01T00:00:00Z"], PARAMS, [ids[0]]))
    assert list(surviving_near_rows((near[0][0], {"kept": [[ids[1]]], "near": [near[0][1]]}), PARAMS)) == []
