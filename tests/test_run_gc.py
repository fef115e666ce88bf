"""The embedded run's collector settings: raised while the pipeline runs, restored after it."""

from __future__ import annotations

import gc

import pytest

from provsieve.pipeline.run import GC_THRESHOLDS, fewer_gc_passes


def test_thresholds_raised_during_the_run_and_restored_after():
    before = gc.get_threshold()
    with fewer_gc_passes():
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.isenabled()  # cycles are still collected, only less often
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_thresholds_restored_when_the_run_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with fewer_gc_passes():
            raise RuntimeError("pipeline failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
