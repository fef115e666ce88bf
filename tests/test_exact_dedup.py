from hypothesis import given, settings
from hypothesis import strategies as st

from provsieve.transforms.document import new_document
from provsieve.transforms.exact_dedup import duplicates_of_group, exact_key
from provsieve.transforms.keep_rule import keep_key


def test_exact_key_ignores_case_punctuation_and_spacing():
    assert exact_key("Hello,  World!\n") == exact_key("hello world")
    assert exact_key("hello world") != exact_key("hello there world")


def _doc(index, crawl_date):
    return new_document(source_uri="mem://x", source_format="jsonl", source_index=index, text="same text",
                        crawl_date=crawl_date)


def test_the_oldest_copy_is_kept_then_the_smallest_doc_id():
    old, new_a, new_b, undated = (_doc(0, "2020-01-01T00:00:00Z"), _doc(1, "2023-01-01T00:00:00Z"),
                                  _doc(2, "2023-01-01T00:00:00Z"), _doc(3, None))
    pairs = dict(duplicates_of_group(keep_key(d) for d in (undated, new_b, old, new_a)))
    assert pairs == {d.doc_id: old.doc_id for d in (new_a, new_b, undated)}
    tie = dict(duplicates_of_group(keep_key(d) for d in (new_b, new_a)))
    kept = min(new_a.doc_id, new_b.doc_id)
    assert list(tie.values()) == [kept] and kept not in tie


def test_a_single_copy_has_no_duplicates():
    assert list(duplicates_of_group([keep_key(_doc(0, None))])) == []


_WORDS_AND_MARKS = st.lists(st.sampled_from(["word", "Été", "ПРИВЕТ", "日本", "x_y", "\u2019", "\u00a0", "\u2014", "\u0300",
                                              "ﬁ", "İ", "ǅ", "\x1c", "\t", " ", ".", "--", "\ud800", "😀"])).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text() | _WORDS_AND_MARKS
       | st.text(alphabet=st.characters(blacklist_categories=())))
def test_normalize_text_equals_the_regex(text):
    from provsieve.transforms.document import normalize_text

    assert normalize_text(text) == _regex_normalized(text)


def _regex_normalized(text):
    import re
    import unicodedata

    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


_SYMBOLS = [chr(c) for c in range(0x2010, 0x2BFF) if not chr(c).isalnum()]


def test_a_text_of_many_distinct_symbols_equals_the_regex():
    from provsieve.transforms.document import _MAX_SYMBOLS_REPLACED, normalize_text

    symbols = _SYMBOLS[:_MAX_SYMBOLS_REPLACED * 40]
    text = "".join(f"{symbol}Mot{i % 7}\u00a0{symbol}x_Y " for i, symbol in enumerate(symbols))
    assert normalize_text(text) == _regex_normalized(text)
    for n in (_MAX_SYMBOLS_REPLACED, _MAX_SYMBOLS_REPLACED + 1):  # either side of the switch to the regex
        few = " Été—".join(symbols[:n]) + "\u2019s"
        assert normalize_text(few) == _regex_normalized(few)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_SYMBOLS) | st.sampled_from(["Été", "ΣΑΣ", "a_b", " ", "ﬁ"]), max_size=200).map("".join))
def test_normalize_text_of_many_symbols_equals_the_regex(text):
    from provsieve.transforms.document import normalize_text

    assert normalize_text(text) == _regex_normalized(text)


def test_copies_are_found_across_the_parts_of_several_workers():
    from provsieve.transforms.exact_dedup import copies_in_parts

    old, new_a, new_b, undated = (_doc(0, "2020-01-01T00:00:00Z"), _doc(1, "2023-01-01T00:00:00Z"),
                                  _doc(2, "2023-01-01T00:00:00Z"), _doc(3, None))
    parts = [(["t1", "t2"], [keep_key(new_b), keep_key(undated)]),
             (["t1"], [keep_key(old)]),
             (["t2", "t3"], [keep_key(new_a), ("x", "y", "z")])]
    assert sorted(copies_in_parts(parts)) == sorted([(new_b.doc_id, old.doc_id), (undated.doc_id, new_a.doc_id)])
    assert list(copies_in_parts([])) == []
