"""The run's limits on their own: the --rate-limit syntax, and the request budget's counter,
which processes share."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from contract.support.budget import COUNTER_FILE, BudgetSpent, RequestBudget, SharedCounter
from contract.support.rate_limit import RateSpec


def test_rate_limit_syntax() -> None:
    assert RateSpec.parse("10/s") == RateSpec(10, 1.0)
    assert RateSpec.parse(" 600 / min ") == RateSpec(600, 60.0)
    for wrong in ("10", "0/s", "10/h", "ten/s"):
        with pytest.raises(ValueError, match="--rate-limit"):
            RateSpec.parse(wrong)


def _take_all(path: str, limit: int, tries: int) -> int:
    counter = SharedCounter(Path(path))
    granted = sum(counter.take(limit) for _ in range(tries))
    counter.close()
    return granted


def test_the_budget_counter_grants_exactly_n_units_over_processes(tmp_path: Path) -> None:
    SharedCounter(tmp_path / COUNTER_FILE).create()
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        granted = pool.starmap(_take_all, [(str(tmp_path / COUNTER_FILE), 100, 60)] * 3)
    assert sum(granted) == 100, granted  # 180 asked for, by three processes at once


def test_past_the_budget_only_the_cleanup_sends(tmp_path: Path) -> None:
    SharedCounter(tmp_path / COUNTER_FILE).create()
    budget = RequestBudget()
    budget.configure(2, tmp_path)
    budget.take("GET a")
    budget.take("GET b")
    with pytest.raises(BudgetSpent, match="--max-requests 2"):
        budget.take("GET c")
    assert budget.partial_reason is not None and "2 requests were sent" in budget.partial_reason
    with budget.cleaning():
        budget.take("DELETE d")  # the cleanup goes on
    with pytest.raises(BudgetSpent):
        budget.take("GET e")
    budget.close()
