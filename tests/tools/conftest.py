"""Fixtures of the stock-tool tests: the mock as a real server, as each tool's users point it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# the helpers that start the mock as a real server live with the mock's own HTTP tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mock"))

from mockhttp import RunningMock, start_mock  # noqa: E402

TODAY = "2026-06-15"


@pytest.fixture(scope="module")
def seeded_mock() -> Iterator[RunningMock]:
    """The mock with its default seed, for one test module (the tools write to it freely)."""
    with start_mock(today=TODAY) as mock:
        yield mock
