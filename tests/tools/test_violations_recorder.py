"""The Prism step's recorder sends past Prism only what Prism cannot name in a header: a
query parameter of characters beyond U+00FF (seen in CI: Prism 5.14.2 stopped with "Invalid
character in header content" on a fuzzed query of the state machine). Its `--check` is the step's
verdict, and the JUnit report it writes says the same."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("violations_recorder", Path(__file__).with_name("violations_recorder.py"))
assert spec is not None and spec.loader is not None
recorder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recorder)

SEEN_IN_CI = b"%C2%BB%F1%92%85%8D%08%7D%05x%1FV%C2%93%F3%A5%BF%9C=-2.0675653207428224e%2B16"


@pytest.mark.parametrize(
    ("path", "query", "bypassed"),
    [
        (b"/v2/action-subscription/create", SEEN_IN_CI, True),
        (b"/v2/action/view/%E2%82%AC", b"", True),  # a euro sign in the path
        (b"/v2/action/index", b"per-page=5&sort=-name", False),
        (b"/v2/action/index", b"q=%C3%A9t%C3%A9%00%1F", False),  # Latin-1 and control characters: Prism copes
        (b"/v2/action/index", b"q=%FF%FE", True),  # not UTF-8: read as U+FFFD, which no header holds either
    ],
)
def test_requests_prism_cannot_name_go_past_it(path: bytes, query: bytes, bypassed: bool) -> None:
    assert recorder.prism_cannot_name(path, query) is bypassed


def exchange(method: str, path: str, status: int, violations: list[dict[str, object]] | None = None,
             by_prism: bool = False, bypassed: bool = False) -> str:
    return json.dumps({"method": method, "path": path, "status": status, "violations": violations or [],
                       "by_prism": by_prism, "bypassed": bypassed})


ABOUT_ANSWER = {"location": ["response", "body", "count"], "severity": "Error", "message": "must be integer"}
ABOUT_REQUEST = {"location": ["request", "body", "per-page"], "severity": "Error", "message": "must be <= 100"}
VIEW = "/v2/action/view/c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"


def check(tmp_path: Path, lines: list[str], *flags: str) -> tuple[int, ET.Element]:
    """`--check` over a record of these exchanges: its exit status and the JUnit report it wrote."""
    record, report = tmp_path / "violations.jsonl", tmp_path / "prism.xml"
    record.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    status = recorder.main(["--check", str(record), "--junit", str(report), *flags])
    return status, ET.parse(report).getroot()


def failed_cases(suite: ET.Element) -> dict[str, str]:
    return {case.get("name", ""): case.find("failure").get("message", "")  # type: ignore[union-attr]
            for case in suite.iter("testcase") if case.find("failure") is not None}


def test_the_report_fails_the_operations_whose_answers_break_the_spec(tmp_path: Path) -> None:
    status, suite = check(tmp_path, [
        exchange("POST", "/v2/action/index", 200),
        exchange("POST", "/v2/action/index", 200, [ABOUT_ANSWER]),
        exchange("GET", VIEW, 400, [ABOUT_REQUEST]),  # a malformed request, refused: not the mock's fault
        exchange("POST", "/v2/action/create", 400, by_prism=True),  # Prism's own answer: not judged
        exchange("GET", "/v2/certificate/view/%E2%82%AC", 404, bypassed=True),  # never seen by Prism
    ])
    assert status == 1
    names = {case.get("name") for case in suite.iter("testcase")}
    assert names == {"POST /v2/action/index", "GET /v2/action/view", "Prism judged the whole run"}
    assert failed_cases(suite) == {"POST /v2/action/index": "1 of 2 answer(s) against the spec"}
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")


def test_a_clean_run_passes(tmp_path: Path) -> None:
    status, suite = check(tmp_path, [exchange("POST", "/v2/action/index", 200), exchange("GET", VIEW, 400, [ABOUT_REQUEST])])
    assert status == 0
    assert failed_cases(suite) == {}
    assert (suite.get("tests"), suite.get("failures")) == ("3", "0")


@pytest.mark.parametrize(("lines", "flags", "message"), [
    ([exchange("POST", "/v2/action/index", 200)], ["--prism-stopped"], "Prism exited before the contract suite ended"),
    ([exchange("POST", "/v2/action/create", 400, by_prism=True)], [], "no answer of the mock went through Prism"),
    ([], [], "no answer of the mock went through Prism"),
], ids=["prism-stopped", "only-prism-answers", "empty"])
def test_a_run_prism_did_not_judge_through_fails(tmp_path: Path, lines: list[str], flags: list[str], message: str) -> None:
    status, suite = check(tmp_path, lines, *flags)
    assert status == 1
    assert failed_cases(suite) == {"Prism judged the whole run": message}


@pytest.mark.parametrize(
    ("body", "bypassed"),
    [
        ('{"name": "caf\\u00e9"}'.encode(), False),  # Latin-1, escaped or not: Prism copes
        ('{"\\ud83d\\ude00": 1}'.encode(), True),  # a key Prism would name in "additional property"
        ('{"name": "€"}'.encode(), True),
        (b"\xf0\x9f\x98\x80 not json", True),
        (b"", False),
    ],
)
def test_bodies_prism_cannot_name_go_past_it(body: bytes, bypassed: bool) -> None:
    assert recorder.prism_cannot_name(b"/v2/action/create", b"", body) is bypassed
