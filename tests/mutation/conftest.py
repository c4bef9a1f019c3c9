"""The mutation tests run the whole contract suite once per variant of the mock: minutes in all.

They carry the `mutation` marker (registered here) and are deselected unless `--run-mutants` is
given (an option of tests/conftest.py), e.g. `python -m pytest tests/mutation --run-mutants`.
"""

from __future__ import annotations

import pytest

MARKER = "mutation"
DESELECTED_KEY = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: runs the contract suite against a variant of the mock (deselected unless --run-mutants)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-mutants", default=False):
        return
    deselected = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if not deselected:
        return
    config.hook.pytest_deselected(items=deselected)
    items[:] = [item for item in items if item.get_closest_marker(MARKER) is None]
    config.stash[DESELECTED_KEY] = len(deselected)


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    count = config.stash.get(DESELECTED_KEY, 0)
    if not count:
        return None
    return (
        f"mutation: {count} tests deselected (each runs the contract suite against a variant of the mock); "
        "run them with: python -m pytest tests/mutation --run-mutants"
    )
