"""Where the time goes: CPU-side wall time per pipeline stage, as Beam counters in microseconds.

Each stage's own work is timed (never the downstream work fused into the
same bundle), so the stages add up to the workers' busy time. The run reads
them back from the pipeline result for its summary and ``bench/end_to_end.py``.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator, TypeVar

from apache_beam.metrics import Metrics

NAMESPACE = "provsieve.stage_us"
T = TypeVar("T")


class StageClock:
    """Accumulates the time of one stage into the counter ``provsieve.stage_us/<stage>``."""

    def __init__(self, stage: str):
        self.stage = stage
        self._counter = Metrics.counter(NAMESPACE, stage)

    def __enter__(self) -> "StageClock":
        self._started = time.perf_counter_ns()
        return self

    def __exit__(self, *exc) -> None:
        self._counter.inc((time.perf_counter_ns() - self._started) // 1000)

    def iterate(self, items: Iterable[T]) -> Iterator[T]:
        """Yield from ``items``, timing only the production of each item."""
        iterator = iter(items)
        while True:
            with self:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item


class timed:  # noqa: N801 - used like a function: beam.Map(timed("dedup", fn))
    """A picklable wrapper that times every call of ``fn`` as ``stage``."""

    def __init__(self, stage: str, fn: Callable[..., T]):
        self._clock = StageClock(stage)
        self._fn = fn

    def __call__(self, *args, **kwargs) -> T:
        with self._clock:
            return self._fn(*args, **kwargs)
