"""`contract-4hse run` (tests/contract/cli.py) from the checkout against the mock started as a
real server: its exit codes, its summary, its two phases and its results file.

Each run passes a small `-k` selection after `--`, so that it costs seconds, not the whole suite:
one test of each phase (an index's headers beside writers; a page past the end, marked
`whole_dataset`, alone), and where a test needs it a Schemathesis test or one that writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .suite_runs import command, start_mock

pytestmark = pytest.mark.suite_self_test  # on mocks of its own: no verdict on the target

BESIDE_WRITERS = "test_headers_match_body_on_any_index[defaults-action]"
WHOLE_DATASET = "test_page_past_the_end_is_empty[100-action]"  # the only test of the selection that checks page_past_end_is_empty
SCHEMATHESIS_ACTION_VIEW = "test_operation_keeps_the_contract and GET and action/view"
WRITES = "test_entity_with_nothing_below_is_deleted_without_force[action]"
TWO_PHASES = f"{BESIDE_WRITERS} or {WHOLE_DATASET}"
# the results file's keys, as documented (README, "The contract suite as a command")
RESULT_KEYS = {"target", "profile", "seconds", "requests", "retries", "partial", "partial_reason", "tests", "rules",
               "failed_tests", "deselected_reasons", "configuration_errors"}
SUMMARY_HEADER = "contract-4hse summary"


def summary_of(run: subprocess.CompletedProcess[str]) -> str:
    parts = run.stdout.split(SUMMARY_HEADER, 1)
    assert len(parts) == 2, f"no summary:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    return parts[1]


def rule_of(results: dict, name: str) -> dict:
    return next(rule for rule in results["rules"] if rule["name"] == name)


def junit_cases(path: Path) -> list[str]:
    return [case.get("name", "") for case in ET.parse(path).getroot().iter("testcase")]


def test_a_good_mock_passes_both_phases_with_one_summary_and_a_report(tmp_path: Path) -> None:
    with start_mock() as mock:
        run = command("run", "--target", mock.url, "--token", "mock-token", "--workers", "1", "--report", str(tmp_path / "report"),
                      "--", "-k", TWO_PHASES, cwd=tmp_path)
    summary = summary_of(run)
    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(r"^rules checked \(\d+\): \d+ held, 0 broken$", summary, re.M), summary
    assert re.search(r"^requests sent: [1-9]\d*, retries: 0, time: ", summary, re.M), summary
    assert "partial: no" in summary and summary.rstrip().endswith("exit 0: every test that ran passed and no rule broke")
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert set(results) == RESULT_KEYS
    assert results["tests"]["passed"] == 2 and results["tests"]["failed"] == 0, results["tests"]
    # the whole-data-set test ran (in its own phase) and so did the other one
    assert rule_of(results, "page_past_end_is_empty")["checks"] > 0
    assert rule_of(results, "pagination_headers_match_body")["checks"] > 0
    assert sorted(junit_cases(tmp_path / "report" / "junit.xml")) == sorted([BESIDE_WRITERS, WHOLE_DATASET])


def test_a_fault_exits_1_naming_the_rule_with_the_exchange_and_a_curl_line(tmp_path: Path) -> None:
    """Action indexes and views answer 500: the suite's own test and Schemathesis' both break
    no_server_error, each failure with its exchange and curl line; workers hand them over."""
    faults = [{"operationId": "action_index", "status": 500, "probability": 1.0},
              {"operationId": "action_view", "status": 500, "probability": 1.0}]
    with start_mock() as mock:
        with mock.client() as control:
            assert control.put("/__mock/faults", json=faults).status_code == 200
        run = command("run", "--target", mock.url, "--token", "mock-token", "--workers", "2", "--report", str(tmp_path),
                      "--", "-k", f"{BESIDE_WRITERS} or {SCHEMATHESIS_ACTION_VIEW}", cwd=tmp_path)
    summary = summary_of(run)
    assert run.returncode == 1, run.stdout[-4000:]
    assert re.search(r"^  BROKE no_server_error \(\d+ checks\): ", summary, re.M), summary
    assert "Reproduce: curl " in summary and "exit 1: a rule was broken or a test failed" in summary
    results = json.loads((tmp_path / "results.json").read_text())
    broken = rule_of(results, "no_server_error")
    assert broken["broken"] is True
    by_test = {failure["test"].split("::")[-1]: failure for failure in broken["failures"]}
    assert set(by_test) >= {BESIDE_WRITERS, "test_operation_keeps_the_contract[GET /v2/action/view/{id}]"}, list(by_test)
    for failure in by_test.values():
        assert set(failure) == {"test", "message", "exchange", "curl"}
        assert "Response: 500" in failure["exchange"], failure
        assert failure["curl"].startswith("curl ") and "$TOKEN" in failure["curl"] and "mock-token" not in failure["curl"], failure
    assert "/v2/action/index" in by_test[BESIDE_WRITERS]["curl"]
    assert "/v2/action/view/" in by_test["test_operation_keeps_the_contract[GET /v2/action/view/{id}]"]["curl"]
    failed = {test["test"].split("::")[-1]: test for test in results["failed_tests"]}
    assert "no_server_error" in failed[BESIDE_WRITERS]["rules"] and set(failed[BESIDE_WRITERS]) == {"test", "rules", "reason"}


def test_a_wrong_token_exits_2_with_one_message_and_no_second_phase(tmp_path: Path) -> None:
    with start_mock() as mock:
        run = command("run", "--target", mock.url, "--token", "not-the-token", "--workers", "1", "--report", str(tmp_path),
                      "--", "-k", TWO_PHASES, cwd=tmp_path)
    summary = summary_of(run)
    assert run.returncode == 2, run.stdout[-4000:]
    assert summary.count("configuration error: the target refuses the token") == 1, summary
    assert "rules checked" not in summary and "partial: yes, stopped by a configuration error" in summary
    assert "phase whole_dataset" not in run.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["configuration_errors"]) == 1 and results["partial"] is True
    assert not any(rule["checks"] or rule["broken"] for rule in results["rules"])
    assert "not-the-token" not in run.stdout + run.stderr  # given to the suite in its environment, never printed


def test_read_only_deselects_the_writing_tests(tmp_path: Path) -> None:
    with start_mock() as mock:
        run = command("run", "--target", mock.url, "--token", "mock-token", "--workers", "1", "--read-only", "--report", str(tmp_path),
                      "--", "-k", f"{BESIDE_WRITERS} or {WRITES}", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["tests"]["passed"] == 1, results["tests"]
    assert any("`writes`" in reason and "--read-only" in reason for reason in results["deselected_reasons"]), results["deselected_reasons"]
    assert junit_cases(tmp_path / "junit.xml") == [BESIDE_WRITERS]


@pytest.mark.parametrize("args", [
    ["--read-only", "--allow-writes"],
    ["--", "-m", "writes"],
    ["--workers", "0"],
], ids=["read-only-and-writes", "marker-after-dashes", "no-workers"])
def test_usage_errors_exit_2_before_any_run(tmp_path: Path, args: list[str]) -> None:
    run = command("run", "--target", "http://127.0.0.1:9", "--token", "t", *args, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("error:") == 1 and "phase" not in run.stdout, run.stderr


def test_a_run_its_request_budget_cuts_short_exits_partial_not_passed(tmp_path: Path) -> None:
    # smoke, 300 requests: the budget runs out in the middle of the first phase
    with start_mock() as mock:
        run = command("run", "--target", mock.url, "--token", "mock-token", "--workers", "2", "--profile", "smoke",
                      "--max-requests", "300", "--report", str(tmp_path / "report"), cwd=tmp_path)
    summary = summary_of(run)
    assert run.returncode == 4, run.stdout[-4000:]
    assert "partial: yes, the request budget was spent" in summary, summary
    assert summary.rstrip().endswith("exit 4: the run stopped early (--max-requests spent): what ran passed, the rest was not judged")
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["partial"] is True and results["tests"]["failed"] == 0, results["tests"]
