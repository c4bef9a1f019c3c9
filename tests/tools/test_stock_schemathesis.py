"""The stock Schemathesis command line, as a user without this project's configuration runs it:
from an empty directory (no schemathesis.toml, no hooks), with only the token as a header and
every check on. Its only findings must be creates and updates that break a referential rule
(a parent that does not exist, a link that is already there, an id that differs from the path):
the API answers them 422, and no OpenAPI document can say which ids exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockhttp import TOKEN, RunningMock

pytestmark = pytest.mark.http

ST = Path(sys.executable).with_name("st")
ST_TIMEOUT_S = 900
# The rules of docs/DECISIONS.md that relate a request to stored data or to its own path: the
# only 422s a schema-valid request may get.
REFERENTIAL_MESSAGE = re.compile(
    r"does not exist|is not of (the )?project|already (enrolled|subscribed|linked|exists|taken)"
    r"|is already|cannot change"
)
CASE_START = re.compile(r"^\d+\. Test Case ID: ", re.MULTILINE)
CHECK_LINE = re.compile(r"^- (ST\d+) (.+)$", re.MULTILINE)
STATUS_LINE = re.compile(r"^\[(\d{3})\] ", re.MULTILINE)
BODY_LINE = re.compile(r"^    `(.*)`$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    operation: str
    code: str
    title: str
    status: int | None
    body: str


def findings_of(junit: Path) -> list[Finding]:
    """Every failing test case of st's JUnit report, one Finding per check that failed."""
    found = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failure in case.iter("failure"):
            for text in CASE_START.split(failure.text or "")[1:]:
                status = STATUS_LINE.search(text)
                body = BODY_LINE.search(text)
                for code, title in CHECK_LINE.findall(text):
                    found.append(Finding(case.get("name", ""), code, title.strip(),
                                         int(status.group(1)) if status else None, body.group(1) if body else ""))
    return found


def is_referential_rule(finding: Finding) -> bool:
    return (
        finding.code == "ST202"  # positive_data_acceptance: "Schema-valid request rejected"
        and finding.status == 422
        and bool(REFERENTIAL_MESSAGE.search(finding.body))
    )


def run_stock_st(mock: RunningMock, workdir: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    reports = workdir / "reports"
    command = [
        str(ST), "run", f"{mock.url}/openapi.json",
        "-H", f"Authorization: Bearer {TOKEN}",
        "--checks", "all", "--max-examples", "20", "--seed", "1", "--continue-on-failure",
        "--report", "junit", "--report-dir", str(reports),
    ]
    # nothing of the project's: no hooks, no config file, no token variable it would read
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMATHESIS_", "CONTRACT_"))}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=ST_TIMEOUT_S)
    junits = sorted(reports.glob("junit*.xml"))
    assert junits, f"st wrote no JUnit report (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    return done, junits[-1]


def test_stock_st_finds_only_referential_rules(seeded_mock: RunningMock, tmp_path: Path) -> None:
    done, junit = run_stock_st(seeded_mock, tmp_path)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    findings = findings_of(junit)
    others = [f for f in findings if not is_referential_rule(f)]
    assert not others, "stock st found more than referential rules:\n" + "\n".join(
        f"  {f.operation}: {f.code} {f.title} [{f.status}] {f.body[:300]}" for f in others
    )
    # the run did reach the API: it tested every operation and judged answers
    assert "Tested: 35" in done.stdout, done.stdout[-3000:]


def test_findings_are_read_from_the_junit_report(tmp_path: Path) -> None:
    """The parser above sees each check of each case (so an unexpected finding cannot hide)."""
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="schemathesis">'
        '<testcase name="POST /v2/action/create"><failure type="failure" message="ST202">'
        "1. Test Case ID: a\n\n- ST202 Schema-valid request rejected\n\n[422] Unprocessable Content:\n\n"
        '    `[{"field": "tenant_id", "message": "project x does not exist"}]`\n\n'
        "2. Test Case ID: b\n\n- ST105 Undocumented Content-Type\n\n- ST202 Schema-valid request rejected\n\n"
        '[400] Bad Request:\n\n    `{"field": "body"}`\n'
        "</failure></testcase><testcase name=\"GET /v2/action/view/{id}\" /></testsuite></testsuites>",
        encoding="utf-8",
    )
    findings = findings_of(junit)
    assert [(f.code, f.status) for f in findings] == [("ST202", 422), ("ST105", 400), ("ST202", 400)]
    assert [is_referential_rule(f) for f in findings] == [True, False, False]
