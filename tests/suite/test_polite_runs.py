"""The suite run against a rate-limited front: a gateway (tests/suite/gateway.py) in front of a
real mock, which refuses some requests itself and logs the time every request arrived.

Each test runs the suite in a pytest subprocess with two pytest-xdist workers and judges it from
outside: its exit status and summary, and the gateway's log (what was refused, how many requests
came and when, what is left on the server).
"""

from __future__ import annotations

import json
import re
from collections import Counter
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .gateway import Passage, SeededRefusals, gateway, resend_gaps
from .suite_runs import RUN_MARKER, command, entity_counts, run_suite, start_mock

pytestmark = pytest.mark.suite_self_test  # on a mock of its own: no verdict on the target

TOKEN = "mock-token"
REFUSED_SHARE = 0.03
SEED = 4
RETRY_AFTER_S = 1
RETRIES = re.compile(r"^\s+retries: (\d+)(?: \(([^)]*)\))?, ([\d.]+) s waited$", re.MULTILINE)
# Every kind of sender, in a few minutes on 2 cores: Schemathesis over the action's operations
# (its checks' probes: ignored_auth...), a group of the state machine's scenarios, and the suite's
# own client (the 401 rule of every operation, and the fixtures' creates and cleanup).
EVERY_SENDER = "keeps_the_contract and v2/action/ or linked_operations and scenarios-1 or refuses_a_missing_or_invalid_token"
RATE = 8  # requests per second
BUDGET = 150  # requests


@pytest.fixture
def mock() -> Iterator[Any]:
    with start_mock() as started:
        yield started


def retries_reported(output: str) -> dict[str, int]:
    """The `retries: N (429 xA, 503 xB), W s waited` line of the run's summary, by reason."""
    (line,) = RETRIES.findall(output)
    total, reasons, _ = line
    counts = {reason: int(count) for reason, count in re.findall(r"(\S+) x(\d+)", reasons)}
    assert sum(counts.values()) == int(total), line
    return counts



def _tail(output: str) -> str:
    return output[-6000:]


def test_the_quick_run_behind_a_gateway_that_refuses_3_percent_passes_and_counts_every_retry(mock: Any) -> None:
    """About 3% of the `/v2` requests refused with 429 or 503 and `Retry-After: 1`: the quick run
    (of every kind of sender: EVERY_SENDER) passes, the summary counts as many retries of each status as the gateway
    refused, and each refused request came again no sooner than its Retry-After."""
    with gateway(mock.url, SeededRefusals(REFUSED_SHARE, SEED, RETRY_AFTER_S)) as gw:
        run = run_suite("tests/contract", "-k", EVERY_SENDER, "--target-url", gw.url, "-n", "2")
    output = run.stdout + run.stderr
    assert run.returncode == 0, _tail(output)
    assert "the run is green" in output, _tail(output)
    refused = {status: len(gw.refused(status)) for status in (429, 503)}
    assert refused[429] > 0 and refused[503] > 0, refused  # the gateway did refuse
    assert retries_reported(output) == {str(status): count for status, count in refused.items()}, _tail(output)
    assert_every_refusal_was_sent_again_after_its_retry_after(gw)


def assert_every_refusal_was_sent_again_after_its_retry_after(gw: Any) -> None:
    gaps = resend_gaps(gw)
    never = [f"{p.method} {p.path}" for p, gap in gaps if gap is None]
    assert never == [], f"refused and never sent again: {never}"
    early = [f"{p.method} {p.path} after {gap:.2f} s" for p, gap in gaps if gap is not None and gap < RETRY_AFTER_S]
    assert early == [], f"sent again before Retry-After ({RETRY_AFTER_S} s): {early}"


LONG_RUN_TIMEOUT_S = 2400  # the whole quick profile: about 5 minutes on 2 idle cores, the retries' waits included


@pytest.mark.long_run
def test_the_whole_quick_profile_behind_a_gateway_refusing_3_percent_passes_and_counts_every_retry(
    mock: Any, tmp_path: Path, record_property: Any
) -> None:
    """`contract-4hse run` with its defaults (the quick profile, 10 workers, both phases) through
    a gateway that refuses about 3% of the `/v2` requests with 429 or 503 and `Retry-After: 1`:
    no test fails and no rule breaks, the summary and results.json count one retry per refusal,
    every refused request came again no sooner than its Retry-After, and nothing is left behind."""
    before = entity_counts(mock.url, TOKEN)
    with gateway(mock.url, SeededRefusals(REFUSED_SHARE, SEED, RETRY_AFTER_S)) as gw:
        run = command("run", "--target", gw.url, "--token", TOKEN, "--report", str(tmp_path / "report"),
                      cwd=tmp_path, timeout=LONG_RUN_TIMEOUT_S)
    output = run.stdout + run.stderr
    assert run.returncode == 0, _tail(output)
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["tests"]["failed"] == 0 and not results["failed_tests"], results["failed_tests"]
    assert results["profile"] == "quick" and not results["partial"], (results["profile"], results["partial_reason"])
    refused = {status: len(gw.refused(status)) for status in (429, 503)}
    # the run's figures, in the JUnit file (the long-runs step's report)
    for name, value in (("requests", results["requests"]), ("seconds", results["seconds"]), ("retries", results["retries"]),
                        ("refused_429", refused[429]), ("refused_503", refused[503]), ("gateway_passages", len(gw.passages))):
        record_property(name, value)
    assert refused[429] > 0 and refused[503] > 0, refused
    assert results["retries"] == sum(refused.values()), (results["retries"], refused)
    assert re.search(rf"^requests sent: \d+, retries: {sum(refused.values())}, time: ", output, re.MULTILINE), _tail(output)
    # With 10 workers, tests send some requests alike (the same search, body and token): the next
    # identical request may be another sender's. A request that came twice in all is one request and
    # its retry (once: never sent again), judged strictly; one sent alike by several senders must have come again at least
    # Retry-After after its refusal.
    copies = Counter(passage.digest for passage in gw.passages)
    gaps = resend_gaps(gw)
    early = [f"{p.method} {p.path} after {gap:.2f} s" for p, gap in gaps if copies[p.digest] <= 2 and (gap is None or gap < RETRY_AFTER_S)]
    assert early == [], f"sent again before Retry-After ({RETRY_AFTER_S} s), or never: {early}"
    shared = [p for p, _ in gaps if copies[p.digest] > 2]
    never_after = [f"{p.method} {p.path}" for p in shared
                   if not any(q.digest == p.digest and q.at - p.at >= RETRY_AFTER_S for q in gw.passages)]
    assert never_after == [], f"refused and not sent again after Retry-After ({RETRY_AFTER_S} s): {never_after}"
    assert entity_counts(mock.url, TOKEN) == before


def most_in_one_second(passages: list[Passage]) -> int:
    """The most requests that arrived within any one second (the windows starting at an arrival)."""
    times = sorted(p.at for p in passages)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_the_rate_limit_holds_over_all_workers_together(mock: Any) -> None:
    """`--rate-limit 8/s` with two workers: the gateway never receives more than 8 requests in
    any one second (sliding window: no burst beyond the limit), over a run long enough to be held
    back by it."""
    with gateway(mock.url, lambda *request: None) as gw:
        started = time.monotonic()
        run = run_suite("tests/contract/test_pagination.py", "-k", "page_past_the_end or history_is_accepted",
                        "--target-url", gw.url, "-n", "2", "--rate-limit", f"{RATE}/s")
        took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 0, _tail(output)
    received = len(gw.passages)
    assert received > 6 * RATE, f"{received} requests: too few to be held back by the limit"
    assert most_in_one_second(gw.passages) <= RATE, f"{most_in_one_second(gw.passages)} requests in one second, the limit is {RATE}/s"
    assert took >= (received - RATE) / RATE  # a lower bound: the limiter made them wait


def test_max_requests_stops_the_run_partial_and_deletes_what_it_created(mock: Any) -> None:
    """`--max-requests 150` over a module that creates much more: the gateway receives at most 150
    requests besides the cleanup's deletes, the run exits 6 with its summary saying partial, the
    tests cut short have no verdict (none failed), and nothing the run created is left."""
    with gateway(mock.url, lambda *request: None) as gw:
        before = entity_counts(gw.url)
        gw.passages.clear()
        run = run_suite("tests/contract/test_semantic_rules.py", "--target-url", gw.url, "-n", "2", "--max-requests", str(BUDGET))
        sent = list(gw.passages)
        after = entity_counts(gw.url)
        with httpx.Client(base_url=mock.url, trust_env=False, timeout=60.0) as control:
            state = control.get("/__mock/state").text
    output = run.stdout + run.stderr
    assert run.returncode == 6, _tail(output)
    assert "the run is partial: the request budget was spent" in output, _tail(output)
    assert "the run is PARTIAL, no verdict" in output, _tail(output)
    assert re.search(r"^\s+no verdict: tests/contract/test_semantic_rules\.py::", output, re.MULTILINE), _tail(output)
    assert not re.search(r"^(FAILED|ERROR) ", output, re.MULTILINE), _tail(output)
    not_deletes = [p for p in sent if p.method != "DELETE"]
    assert len(not_deletes) <= BUDGET, f"{len(not_deletes)} requests other than the cleanup's deletes, the budget is {BUDGET}"
    assert len(sent) >= BUDGET, f"only {len(sent)} requests: the budget was never reached"
    deletes_after_budget = sorted(sent, key=lambda p: p.at)[BUDGET:]
    assert deletes_after_budget, "nothing was sent past the budget: no cleanup ran after it"
    assert after == before, f"entities left: before {before}, after {after}"
    assert not RUN_MARKER.search(state), "an entity carrying a run marker stayed on the mock"
