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
