"""Counting elements by key inside the step that sees them: one output per key and bundle, not per element.

``beam.FlatMap(keys) | beam.CombinePerKey(sum)`` sends one element per key
and document through the runner's combining table; on the embedded runner
that per-element work cost more than most steps' own. :class:`CountPerBundle`
counts in a plain dict inside one DoFn and emits ``(key, partial count)``
pairs at the end of each bundle (Beam's combiner lifting, done by hand), so
the ``CombinePerKey(sum)`` after it sees a handful of elements per bundle.
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, Iterator, Optional

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue


def in_global_window(value) -> WindowedValue:
    """An element emitted from ``finish_bundle``, where there is no input element to take the window from.

    Only for batch pipelines in the global window (all of provsieve's).
    """
    return WindowedValue(value, MIN_TIMESTAMP, [GlobalWindow()])


class _CountFn(beam.DoFn):
    def __init__(self, keys_of: Callable[[object], Iterable[Hashable]], max_keys: int):
        self._keys_of = keys_of
        self._max_keys = max_keys

    def start_bundle(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def process(self, element) -> Iterator[tuple[Hashable, int]]:
        counts = self._counts
        for key in self._keys_of(element):
            counts[key] = counts.get(key, 0) + 1
        if len(counts) >= self._max_keys:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for pair in self._flush():
            yield in_global_window(pair)

    def _flush(self) -> Iterator[tuple[Hashable, int]]:
        counts, self._counts = self._counts, {}
        yield from sorted(counts.items(), key=repr)


class CountPerBundle(beam.PTransform):
    """PCollection[T] -> ``(key, partial count)`` for every key ``keys_of(element)`` yields.

    Sum the partial counts with ``beam.CombinePerKey(sum)``. At most
    ``max_keys`` distinct keys are held before they are emitted early.
    """

    def __init__(self, keys_of: Callable[[object], Iterable[Hashable]], max_keys: int = 10_000):
        super().__init__()
        self._fn = _CountFn(keys_of, max_keys)

    def expand(self, pcoll):
        return pcoll | "Count" >> beam.ParDo(self._fn)


def _no_keys(_element) -> tuple:
    return ()


class _CountedStepFn(_CountFn):
    def __init__(self, step: Optional[Callable], counted_in: Callable, counted_out: Callable,
                 counted_after: Callable, is_out: Optional[Callable[[object], bool]], max_keys: int):
        super().__init__(counted_in, max_keys)
        self._step, self._counted_out, self._is_out = step, counted_out, is_out
        self._counted_after = counted_after

    def process(self, element, *step_args) -> Iterator:
        counts = self._counts
        for key in self._keys_of(element):
            counts[key] = counts.get(key, 0) + 1
        if self._step is not None:
            element = self._step(element, *step_args)
        for key in self._counted_after(element):
            counts[key] = counts.get(key, 0) + 1
        if self._is_out is not None and self._is_out(element):
            yield beam.pvalue.TaggedOutput(CountedStep.OUT, element)
        else:
            for key in self._counted_out(element):
                counts[key] = counts.get(key, 0) + 1
            yield element
        if len(counts) >= self._max_keys:
            for pair in self._flush():
                yield beam.pvalue.TaggedOutput(CountedStep.COUNTS, pair)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for pair in self._flush():
            yield beam.pvalue.TaggedOutput(CountedStep.COUNTS, in_global_window(pair))


class CountedStep(beam.PTransform):
    """One element-wise step, its counting and its split in a single DoFn (three per-element stages in one).

    PCollection[T] -> ``(main, out, counts)``: ``step(element, *step_args)`` (or
    the element itself), sent to ``out`` where ``is_out`` holds and to ``main``
    otherwise; ``counts`` are the partial counts (as :class:`CountPerBundle`)
    of ``counted_in`` of every input element, ``counted_after`` of every
    element after the step and ``counted_out`` of every ``main`` element.
    ``step_args`` may hold side inputs.
    """

    OUT, COUNTS = "out", "counts"

    def __init__(self, step: Optional[Callable] = None, *step_args, counted_in: Callable = _no_keys,
                 counted_out: Callable = _no_keys, counted_after: Callable = _no_keys,
                 is_out: Optional[Callable[[object], bool]] = None, max_keys: int = 10_000):
        super().__init__()
        self._fn = _CountedStepFn(step, counted_in, counted_out, counted_after, is_out, max_keys)
        self._step_args = step_args

    def expand(self, pcoll):
        results = pcoll | "Step" >> beam.ParDo(self._fn, *self._step_args).with_outputs(self.OUT, self.COUNTS,
                                                                                       main="main")
        return results.main, results[self.OUT], results[self.COUNTS]
