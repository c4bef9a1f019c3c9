"""The smoke profile keeps its promise: against a mock of its own over HTTP, one run of the contract
suite under `--hypothesis-profile smoke` exercises every registered rule and sends at most
SMOKE_REQUEST_BUDGET requests. A rule added without a test that the smoke profile runs, or a test
whose cost under smoke grows past the budget, fails here.

One process, so the whole-data-set reads run in the same session (with workers they are a second
phase): the request count is that of both phases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from contract.support import findings, st_checks  # noqa: F401  (they register rules of their own)
from contract.support.profiles import SMOKE, economy, first_parameter_sets, merged
from contract.support.rules import RULES

from .suite_runs import run_suite, start_mock

pytestmark = pytest.mark.suite_self_test  # on a mock of its own: no verdict on the target

SMOKE_REQUEST_BUDGET = 1500
TOTAL_REQUESTS = re.compile(r"^\s+total\s+(\d+) requests", re.MULTILINE)
HELD = re.compile(r"^\s+ok\s+(\w+) \(\d+ checks\)$", re.MULTILINE)
BROKEN = re.compile(r"^\s+BROKE (\w+):", re.MULTILINE)
NOT_EXERCISED = re.compile(r"^not exercised in this run \(\d+\): (.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    with start_mock() as started:
        yield started


@pytest.fixture(scope="module")
def smoke_run(mock: Any) -> str:
    run = run_suite("tests/contract", "--target-url", mock.url, "--token", "mock-token", "--hypothesis-profile", "smoke")
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"the smoke run against the mock failed ({run.returncode}):\n{output[-4000:]}"
    return output


def test_the_smoke_profile_exercises_every_registered_rule(smoke_run: str) -> None:
    exercised = set(HELD.findall(smoke_run)) | set(BROKEN.findall(smoke_run))
    unexercised = {name.strip() for line in NOT_EXERCISED.findall(smoke_run) for name in line.split(",")}
    missing = sorted((set(RULES) - exercised) | unexercised)
    assert exercised, f"no rule summary in the smoke run's output:\n{smoke_run[-3000:]}"
    assert not missing, (
        f"rules the smoke profile does not exercise: {missing}; give them a test whose first parameter set "
        "(and first two examples) reaches them, or see support/profiles.py"
    )


def test_the_smoke_profile_stays_within_its_request_budget(smoke_run: str) -> None:
    totals = [int(total) for total in TOTAL_REQUESTS.findall(smoke_run)]
    assert totals, f"no request count in the smoke run's output:\n{smoke_run[-3000:]}"
    assert totals[-1] <= SMOKE_REQUEST_BUDGET, f"the smoke profile sent {totals[-1]} requests, more than {SMOKE_REQUEST_BUDGET}"


class FakeItem:
    """What `first_parameter_sets` reads of a pytest item."""

    def __init__(self, name: str, params: dict[str, Any] | None, parametrized: tuple[str, ...] = ()) -> None:
        self.path, self.originalname, self.name = "tests/contract/test_x.py", name.split("[")[0], name
        self.callspec = None if params is None else type("CallSpec", (), {"params": params})()
        self._marks = [pytest.mark.parametrize(",".join(parametrized), []).mark] if parametrized else []

    def iter_markers(self, name: str) -> list[Any]:
        return [mark for mark in self._marks if mark.name == name]


def test_one_parameter_set_per_test_and_per_value_of_a_fixtures_own_params() -> None:
    items = [
        FakeItem("test_a[action-1]", {"segment": "action", "per_page": 1}, ("segment", "per_page")),
        FakeItem("test_a[action-4]", {"segment": "action", "per_page": 4}, ("segment", "per_page")),
        FakeItem("test_a[certificate-1]", {"segment": "certificate", "per_page": 1}, ("segment", "per_page")),
        FakeItem("test_plain", None),
        # `operation` comes from a fixture's params (Schemathesis' one test per operation): kept whole
        FakeItem("test_op[index-x]", {"operation": ("post", "/v2/action/index"), "phase": "x"}, ("phase",)),
        FakeItem("test_op[index-y]", {"operation": ("post", "/v2/action/index"), "phase": "y"}, ("phase",)),
        FakeItem("test_op[view-x]", {"operation": ("get", "/v2/action/view/{id}"), "phase": "x"}, ("phase",)),
    ]
    kept, dropped = first_parameter_sets(items)
    assert [item.name for item in kept] == ["test_a[action-1]", "test_plain", "test_op[index-x]", "test_op[view-x]"]
    assert [item.name for item in dropped] == ["test_a[action-4]", "test_a[certificate-1]", "test_op[index-y]"]


def test_smoke_cuts_apply_to_schemathesis_toml_table_by_table() -> None:
    data = {"phases": {"coverage": {"enabled": True, "unexpected-methods": ["PATCH"]}, "stateful": {"max-steps": 10}}}
    merged(data, economy(SMOKE).schemathesis)
    assert data == {"phases": {"coverage": {"enabled": False, "unexpected-methods": ["PATCH"]}, "stateful": {"max-steps": 3}}}
    assert economy("quick").schemathesis == {} and not economy("quick").one_parameter_set
