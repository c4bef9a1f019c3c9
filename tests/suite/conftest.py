"""The tests of the contract suite's own machinery (tests/contract): each judges made-up answers or
a mock of its own, never the target a run is pointed at, so a run against a server leaves them out
(marker `suite_self_test`, deselected with the reason printed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opt_in import opt_in

# the contract suite's fixtures: a request ledger of the test's own, the target (in-process here) and its client
from contract.conftest import api, keep_data, ledger, run_id, target, target_options  # noqa: F401
from contract.support.plugin import SELF_TEST_MARKER


HERE = Path(__file__).resolve().parent

pytest_configure, deselect_long_runs, pytest_report_collectionfinish = opt_in(
    "long_run", "--run-long", "a whole profile of the suite against a mock of its own (minutes)",
    "each takes minutes; nightly", ".venv/bin/python -m pytest tests/suite --run-long -m long_run",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselect_long_runs(config, items)
    # the hook sees the whole session's items: only this folder's are the suite's own tests
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(SELF_TEST_MARKER)
