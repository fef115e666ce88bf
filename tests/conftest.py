"""Shared fixtures: the embedded Beam runner and the optional shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def make_test_pipeline() -> TestPipeline:
    """A TestPipeline on Beam's embedded runner (the stock DirectRunner would try to download Prism)."""
    return TestPipeline(runner=FnApiRunner())


@pytest.fixture
def test_pipeline() -> TestPipeline:
    return make_test_pipeline()


@pytest.fixture
def shared_crawl() -> Path:
    crawl = SHARED_DATA / "crawl"
    if not crawl.is_dir():
        pytest.skip(f"shared crawl data not present at {crawl}")
    return crawl
