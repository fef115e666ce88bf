import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from provsieve.transforms.counting import CountPerBundle

WORDS = ["a b", "b c", "a", "", "c c c", "a b c"] * 7


def _words(line):
    return line.split()


@pytest.mark.parametrize("max_keys", [1, 2, 10_000])
def test_partial_counts_sum_to_the_counts(max_keys):
    expected = {}
    for line in WORDS:
        for word in line.split():
            expected[word] = expected.get(word, 0) + 1
    with TestPipeline() as p:
        counts = (p
                  | beam.Create(WORDS)
                  | beam.Reshuffle()
                  | CountPerBundle(_words, max_keys=max_keys)
                  | beam.CombinePerKey(sum))
        assert_that(counts, equal_to(sorted(expected.items())))


def test_no_elements_no_counts():
    with TestPipeline() as p:
        counts = p | beam.Create([]) | CountPerBundle(_words) | beam.CombinePerKey(sum)
        assert_that(counts, equal_to([]))


def _halve(n, by):
    return n // by


def test_counted_step_applies_splits_and_counts_before_and_after():
    from provsieve.transforms.counting import CountedStep

    numbers = list(range(40))
    with TestPipeline() as p:
        kept, out, counts = (p
                             | beam.Create(numbers)
                             | beam.Reshuffle()
                             | CountedStep(_halve, 2, counted_in=lambda n: [("in", n % 2)],
                                           counted_out=lambda n: [("kept",)], is_out=lambda n: n >= 15,
                                           max_keys=1))
        assert_that(kept, equal_to(list(range(15)) * 2), label="kept")
        assert_that(out, equal_to([n // 2 for n in numbers if n // 2 >= 15]), label="out")
        assert_that(counts | beam.CombinePerKey(sum), equal_to([(("in", 0), 20), (("in", 1), 20), (("kept",), 30)]),
                    label="counts")


def test_split_rejected_sends_each_document_to_one_half():
    from provsieve.pipeline.run import split_rejected
    from provsieve.transforms.document import new_document

    docs = [new_document(source_uri="mem://a", source_format="jsonl", source_index=i, text=f"text {i}",
                         reject_reason="exact_duplicate" if i % 3 == 0 else None) for i in range(9)]
    with TestPipeline() as p:
        live, rejected = split_rejected(p | beam.Create(docs), "Split")
        assert_that(live | "Live ids" >> beam.Map(lambda d: d.source_index), equal_to([1, 2, 4, 5, 7, 8]),
                    label="live")
        assert_that(rejected | "Rejected ids" >> beam.Map(lambda d: d.source_index), equal_to([0, 3, 6]),
                    label="rejected")
