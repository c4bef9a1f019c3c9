"""Headless Chromium opens the contract run's HTML report (support/report_html.py) from disk, as a
QA engineer would from a CI artifact: what a person sees, with no console errors and nothing
loaded from elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the suite as `contract`
from contract.support.report_html import write_report  # noqa: E402

pytestmark = [pytest.mark.browser]

CURL = "curl -sS -i -X POST 'http://127.0.0.1:8080/v2/action/index?access-token=$TOKEN' -H 'Content-Type: application/json' --data-binary '{\"per-page\": 1}'"
RESULTS: dict[str, Any] = {
    "target": "http://127.0.0.1:8080",
    "profile": "smoke",
    "seconds": 88.4,
    "requests": 1411,
    "retries": 0,
    "partial": False,
    "partial_reason": None,
    "tests": {"passed": 240, "failed": 1, "errors": 0, "deselected": 4},
    "rules": [
        {"name": "counts_add_up", "statement": "countSubscribed = countValid + countScheduled + countToDo.", "checks": 310, "broken": False, "failures": []},
        {
            "name": "pagination_headers_match_body",
            "statement": "X-Pagination-Total-Count is the number of matching entities; <Page-Count> = ceil(total / per-page).",
            "checks": 77,
            "broken": True,
            "failures": [
                {
                    "test": "tests/contract/test_pagination.py::test_headers_match_body_on_any_index[action-paging0]",
                    "message": "X-Pagination-Page-Count is 2, expected 1 (total 1 < per-page 4)",
                    "exchange": "POST http://127.0.0.1:8080/v2/action/index\n{\"per-page\": 4}\n200 OK\nx-pagination-page-count: 2\n[{\"name\": \"<b>not bold</b>\"}]",
                    "curl": CURL,
                }
            ],
        },
        {"name": "no_server_error", "statement": "A request never answers a 5xx.", "checks": 1200, "broken": False, "failures": []},
    ],
    "failed_tests": [
        {"test": "tests/contract/test_pagination.py::test_headers_match_body_on_any_index[action-paging0]", "rules": ["pagination_headers_match_body"], "reason": "X-Pagination-Page-Count is 2"}
    ],
    "deselected_reasons": ["4 contract tests marked `whole_dataset` were deselected: run them afterwards on their own: -m whole_dataset"],
    "configuration_errors": [],
}


def test_the_report_opened_from_disk_shows_the_verdict_and_the_broken_rule_first(
        page: Any, tmp_path: Path, screenshots: Path) -> None:
    report = tmp_path / "report" / "index.html"
    write_report(RESULTS, report)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(report.as_uri())
    page.screenshot(path=str(screenshots / "contract-report.png"), full_page=True)

    verdict = page.locator("#verdict")
    assert verdict.inner_text() == "RED: 1 test failed, 1 rule broken"
    assert verdict.evaluate("element => getComputedStyle(element).color") == "rgb(130, 7, 30)"  # the red of .verdict.red

    rows = page.locator("table.rules tbody tr:not(.failures)")
    statuses = [text.strip() for text in rows.locator("td.status").all_inner_texts()]
    names = rows.locator("td:nth-child(2)").all_inner_texts()
    assert statuses == ["BROKEN", "held", "held"]
    assert names == ["pagination_headers_match_body", "counts_add_up", "no_server_error"]
    assert "<Page-Count>" in rows.first.inner_text()  # the statement's text, not markup

    curl = page.locator("pre.curl")
    assert curl.inner_text() == CURL  # as copied from the page
    assert curl.evaluate("element => getComputedStyle(element).userSelect") == "all"  # one click selects it whole
    assert "<b>not bold</b>" in page.locator("pre.exchange").inner_text()
    assert page.locator("pre.exchange b").count() == 0
    assert page.get_by_text("held", exact=True).count() == 2
    assert "-m whole_dataset" in page.locator("ul.deselected").inner_text()

    assert requested == [report.as_uri()]  # nothing fetched from elsewhere
    assert [line for line in page.console_lines if line.startswith(("error", "warning"))] == []


def test_a_green_report_prints_as_green(page: Any, tmp_path: Path, screenshots: Path) -> None:
    green = {**RESULTS, "tests": {"passed": 241, "failed": 0, "errors": 0, "deselected": 0}, "failed_tests": [], "deselected_reasons": []}
    green["rules"] = [{**rule, "broken": False, "failures": []} for rule in RESULTS["rules"]]
    report = tmp_path / "green.html"
    write_report(green, report)
    page.goto(report.as_uri())
    page.emulate_media(media="print")
    page.screenshot(path=str(screenshots / "contract-report-green-print.png"), full_page=True)
    verdict = page.locator("#verdict")
    assert verdict.inner_text() == "Green: no test failed, no rule broken"
    assert verdict.evaluate("element => getComputedStyle(element).backgroundColor") == "rgb(218, 251, 225)"
    assert page.locator("tr.broken").count() == 0
    assert page.console_lines == []
