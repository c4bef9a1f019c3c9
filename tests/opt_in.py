"""Tests that run only when asked for: a marker, deselected (not skipped) unless its option is
given, with one line at the end of collection saying how many and how to run them.

A folder's conftest.py takes the three hooks, e.g.

    pytest_configure, pytest_collection_modifyitems, pytest_report_collectionfinish = opt_in(
        "browser", "--run-browser", "drives headless Chromium", "they need Chromium and Playwright",
        ".venv/bin/python -m pytest tests/browser --run-browser",
    )
"""

from __future__ import annotations

from collections.abc import Callable

import pytest


def opt_in(marker: str, option: str, what: str, why: str, command: str) -> tuple[Callable, Callable, Callable]:
    deselected_count = pytest.StashKey[int]()

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{marker}: {what} (deselected unless {option})")

    def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
        if config.getoption(option, default=False):
            return
        deselected = [item for item in items if item.get_closest_marker(marker) is not None]
        if not deselected:
            return
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker(marker) is None]
        config.stash[deselected_count] = len(deselected)

    def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
        count = config.stash.get(deselected_count, 0)
        return f"{marker}: {count} tests deselected ({why}); run them with: {command}" if count else None

    return pytest_configure, pytest_collection_modifyitems, pytest_report_collectionfinish
