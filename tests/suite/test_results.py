"""The results file of the command (support/results.py): two phases merged into one, its shape
kept on disk, the JUnit files of both phases in one, and the budget the second phase gets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from contract.cli import second_phase
from contract.support import results
from contract.support.report_junit import merge_junit


def phase(*, passed: int, failed: int = 0, deselected: int, checks: dict[str, int], broken: tuple[str, ...] = (),
          requests: int = 10, stop: tuple[str, ...] = ()) -> dict[str, Any]:
    failures = {rule: [results.RuleFailure("t.py::test_x", f"{rule} broke", "Request: GET /v2/x\nResponse: 500", "curl -sS GET")] for rule in broken}
    return results.build(
        target="http://127.0.0.1:1", profile="quick", seconds=2.5, requests=requests, retries=1, stop_reasons=list(stop),
        tests={"passed": passed, "failed": failed, "errors": 0, "deselected": deselected},
        statements={"a_rule": "A holds.", "b_rule": "B holds."}, checks=checks, broken=broken, failures=failures,
        failed_tests={"t.py::test_x": [(rule, "why") for rule in broken]} if broken else {},
        deselected_reasons=["2 contract tests marked `writes` were deselected: --read-only was given"], configuration_errors=[],
    )


def test_two_phases_merge_into_one_run() -> None:
    # 20 tests: the first phase ran 12 and deselected 8, of which the second ran 5 (3 left out in both)
    first = phase(passed=11, failed=1, deselected=8, checks={"a_rule": 4}, broken=("a_rule",), requests=70)
    second = phase(passed=5, deselected=15, checks={"a_rule": 1, "b_rule": 6}, requests=30)
    merged = results.merge(first, second)
    assert set(merged) == set(results.RESULT_KEYS)
    assert merged["tests"] == {"passed": 16, "failed": 1, "errors": 0, "deselected": 3}
    assert (merged["requests"], merged["retries"], merged["seconds"]) == (100, 2, 5.0)
    by_name = {rule["name"]: rule for rule in merged["rules"]}
    assert (by_name["a_rule"]["checks"], by_name["a_rule"]["broken"], len(by_name["a_rule"]["failures"])) == (5, True, 1)
    assert (by_name["b_rule"]["checks"], by_name["b_rule"]["broken"]) == (6, False)
    assert merged["deselected_reasons"] == first["deselected_reasons"]  # the same reason of both phases once
    assert merged["partial"] is False and not results.is_green(merged)


def test_a_phase_that_stopped_makes_the_run_partial_and_says_why() -> None:
    first = phase(passed=3, deselected=8, checks={"a_rule": 2}, stop=("target unavailable: no answer",))
    merged = results.merge(first, results.not_run(first, "the whole-data-set tests did not run"))
    assert merged["partial"] is True and results.is_green(merged)
    assert merged["partial_reason"] == "target unavailable: no answer; the whole-data-set tests did not run"
    assert "partial: yes, target unavailable: no answer; the whole-data-set tests did not run" in results.summary_lines(merged)


def test_the_summary_shows_each_broken_rule_with_its_exchange_and_curl_line() -> None:
    lines = results.summary_lines(phase(passed=1, failed=1, deselected=0, checks={"a_rule": 3}, broken=("a_rule",)))
    at = lines.index("  BROKE a_rule (3 checks): A holds.")
    assert lines[at + 1 : at + 5] == ["        in t.py::test_x: a_rule broke", "          Request: GET /v2/x", "          Response: 500",
                                      "          Reproduce: curl -sS GET"]


def test_the_file_keeps_exactly_its_keys(tmp_path: Path) -> None:
    run = phase(passed=1, deselected=0, checks={})
    results.write(tmp_path / "r.json", run)
    assert results.read(tmp_path / "r.json") == json.loads(json.dumps(run))
    (tmp_path / "other.json").write_text(json.dumps({**run, "extra": 1}))
    with pytest.raises(results.ResultsError):
        results.read(tmp_path / "other.json")
    with pytest.raises(results.ResultsError):
        results.read(tmp_path / "missing.json")


@pytest.mark.parametrize(("max_requests", "sent", "partial", "runs", "left"), [
    (None, 500, False, True, None),
    (100, 80, False, True, 20),
    (100, 100, False, False, 0),
    (100, 130, False, False, -30),  # the stop is clean, not instant: a request in flight still counts
    (None, 5, True, False, None),
])
def test_the_second_phase_gets_the_budget_the_first_left(max_requests: int | None, sent: int, partial: bool, runs: bool, left: int | None) -> None:
    first = phase(passed=1, deselected=0, checks={}, requests=sent, stop=("stopped",) if partial else ())
    skipped, budget = second_phase(first, max_requests)
    assert (skipped is None, budget) == (runs, left)
    if max_requests is not None and not runs:
        assert f"--max-requests {max_requests}" in skipped


def _junit(path: Path, *cases: tuple[str, bool]) -> Path:
    suite = ET.Element("testsuite", name="pytest", tests=str(len(cases)), failures=str(sum(f for _, f in cases)), errors="0", skipped="0", time="1.5")
    for name, failed in cases:
        case = ET.SubElement(suite, "testcase", classname="test_m", name=name)
        if failed:
            ET.SubElement(case, "failure", message="broke")
    ET.ElementTree(suite).write(path)
    return path


def test_the_junit_files_of_both_phases_merge_into_one(tmp_path: Path) -> None:
    first = _junit(tmp_path / "1.xml", ("test_a", False), ("test_b", True))
    second = _junit(tmp_path / "2.xml", ("test_c", False))
    merge_junit([first, second, tmp_path / "never-written.xml"], tmp_path / "junit.xml")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures"), root.get("time")) == ("3", "1", "3.000")
    assert [case.get("name") for case in root.iter("testcase")] == ["test_a", "test_b", "test_c"]
