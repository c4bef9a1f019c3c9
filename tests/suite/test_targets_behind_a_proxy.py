"""The suite against the mock as production shows it: behind a reverse proxy that hides the mock's
controls (`/__mock`) and may serve it under a path prefix (`--target-url http://host/api`).

Each test runs a few of the suite's tests in a pytest subprocess (the quick profile) against a
real mock with the proxy in front (tests/mock/mockhttp.py), and judges what that run did: its
exit status and report, and the entity counts the proxy's index answers give
(`X-Pagination-Total-Count`) before and after.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .suite_runs import entity_counts, mockhttp, run_suite, start_mock

pytestmark = pytest.mark.suite_self_test  # on a mock of its own: no verdict on the target

SCHEMATHESIS = "tests/contract/test_schemathesis.py"
STATEFUL = "tests/contract/test_stateful.py"
TOKEN = "mock-token"
PREFIX = "/api"
# The Schemathesis tests of an action's create and view, and the state machine's five scenario
# groups: all but the view write.
A_CREATE_A_VIEW_AND_THE_SCENARIOS = "keeps_the_contract and (v2/action/create or v2/action/view) or linked_operations"
WRITING_TESTS_OF_THOSE = 1 + 5
# The state machine's first scenario group (its creates, and the links followed from their answers)
# and Schemathesis' test of a session's create.
ONE_SCENARIO_GROUP_AND_A_CREATE = "linked_operations and scenarios-1 or keeps_the_contract and v2/action-session/create"
# A plugin of the subprocess's pytest (`-p`) that fails the state machine's test once its scenarios
# have run, with the entity counts the server's index answers give at that moment.
FORCED_FAILURE = '''
import json
import pytest
from mock_server.resources import SEGMENTS

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    if "linked_operations" in item.nodeid:
        target = item.funcargs["target"]
        counts = {s: int(target.request("POST", f"/v2/{s}/index", json={"per-page": 1}).headers["X-Pagination-Total-Count"]) for s in SEGMENTS}
        outcome.force_exception(AssertionError("forced to fail; the server holds " + json.dumps(counts)))
'''
FORCED_FAILURE_COUNTS = re.compile(r"forced to fail; the server holds (\{.*?\})")


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    with start_mock() as started:
        yield started



def _failures(output: str) -> list[str]:
    return re.findall(r"^(?:FAILED|ERROR) .*$", output, flags=re.MULTILINE)


def test_read_only_runs_only_what_creates_nothing_and_says_what_it_left_out(mock: Any) -> None:
    with mockhttp().reverse_proxy(mock.url) as url:
        before = entity_counts(url)
        run = run_suite(SCHEMATHESIS, STATEFUL, "-k", A_CREATE_A_VIEW_AND_THE_SCENARIOS, "--target-url", url, "--token", TOKEN, "--read-only")
        output = run.stdout + run.stderr
        assert entity_counts(url) == before
    assert run.returncode == 0 and not _failures(output), output[-6000:]
    assert f"{WRITING_TESTS_OF_THOSE} contract tests marked `writes` were deselected: --read-only was given" in output, output[-3000:]
    assert re.search(r"^1 passed, \d+ deselected", output, flags=re.MULTILINE), output[-3000:]  # the view


def test_a_run_under_a_path_prefix_passes_and_leaves_the_server_as_it_found_it(mock: Any) -> None:
    with mockhttp().reverse_proxy(mock.url, prefix=PREFIX) as url:
        assert url.endswith(PREFIX)
        before = entity_counts(url)
        run = run_suite(SCHEMATHESIS, STATEFUL, "-k", ONE_SCENARIO_GROUP_AND_A_CREATE, "--target-url", url, "--token", TOKEN)
        output = run.stdout + run.stderr
        after = entity_counts(url)
    assert run.returncode == 0 and not _failures(output), output[-6000:]
    assert re.search(r"^2 passed", output, flags=re.MULTILINE), output[-3000:]
    assert f"{url}/openapi.json against the contract" in output  # the drift report read the prefixed document
    assert after == before


def test_what_a_failing_run_under_a_path_prefix_created_is_deleted(mock: Any, tmp_path: Path) -> None:
    """The state machine's test fails once its scenarios have made entities, and `-x` stops the
    run there: what it made is deleted all the same."""
    (tmp_path / "forced_failure.py").write_text(FORCED_FAILURE, encoding="utf-8")
    with mockhttp().reverse_proxy(mock.url, prefix=PREFIX) as url:
        before = entity_counts(url)
        run = run_suite(STATEFUL, SCHEMATHESIS, "-k", ONE_SCENARIO_GROUP_AND_A_CREATE, "--target-url", url, "--token", TOKEN,
                        "-x", "-p", "forced_failure", env={"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))})
        output = run.stdout + run.stderr
        after = entity_counts(url)
    during = FORCED_FAILURE_COUNTS.search(output)
    assert run.returncode == 1 and during, output[-6000:]
    assert json.loads(during[1]) != before, "the run made nothing, so its cleanup was not put to the test"
    (failure,) = _failures(output)
    assert failure.startswith(f"FAILED {STATEFUL}::test_linked_operations_keep_the_contract[scenarios-1-of-5]"), output[-3000:]
    assert "stopping after 1 failures" in output  # the Schemathesis create never ran
    assert after == before
