"""Per-document steps that work on batches, buffered inside the DoFn rather than by ``BatchElements``.

``BatchElements | ParDo`` makes a PCollection of lists of documents between
the two. The runner samples the size of that PCollection's elements for its
byte counters, and a list's sample is every document in it, pickled: with a
few hundred batches a run, most of them are sampled (5,653 documents pickled
for the language and signing batches of a 10k run, at about 25 us each). A
DoFn that buffers its input itself makes no such PCollection, and no extra
per-document stage.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue


class BufferedBatchFn(beam.DoFn):
    """Elements ``batch_size`` at a time through :meth:`tag_batch`, one output per input, each in its own window.

    Subclasses implement ``tag_batch(elements) -> outputs`` (same length and
    order). A bundle's last, shorter batch is handled at its end.
    """

    def __init__(self, batch_size: int) -> None:
        self._batch_size = batch_size

    def tag_batch(self, elements: Sequence[Any]) -> Sequence[Any]:
        raise NotImplementedError

    def start_bundle(self) -> None:
        self._buffer: list[tuple[Any, Any, Any]] = []

    def process(self, element, window=beam.DoFn.WindowParam,
                timestamp=beam.DoFn.TimestampParam) -> Iterator[WindowedValue]:
        self._buffer.append((element, window, timestamp))
        if len(self._buffer) >= self._batch_size:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        yield from self._flush()

    def _flush(self) -> list[WindowedValue]:
        if not self._buffer:
            return []
        buffer, self._buffer = self._buffer, []
        outputs = self.tag_batch([element for element, _, _ in buffer])
        return [WindowedValue(out, timestamp, [window if window is not None else GlobalWindow()])
                for (_, window, timestamp), out in zip(buffer, outputs)]
