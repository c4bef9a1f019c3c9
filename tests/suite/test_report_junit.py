"""merge_junit (support/report_junit.py) on the JUnit files of two real pytest runs, made in child
processes from small test files whose outcomes are known."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from contract.support.report_junit import merge_junit

# phase 1: 2 passed, 1 failed, 1 skipped; phase 2: 1 passed, 1 error (a fixture that raises)
PHASE_ONE = """
import pytest
def test_one(): pass
def test_two(): pass
def test_broken(): assert 1 == 2, "count off <by> one & more"
@pytest.mark.skip(reason="made up")
def test_left_out(): pass
"""
PHASE_TWO = """
import pytest
@pytest.fixture
def failing(): raise RuntimeError("no target")
def test_reads(): pass
def test_needs_it(failing): pass
"""


def junit_of(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(source, encoding="utf-8")
    report = folder / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", str(folder), f"--junitxml={report}", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=folder, capture_output=True, text=True, check=False, timeout=120,
    )
    assert report.exists()
    return report


def test_merged_file_holds_every_testcase_with_summed_totals(tmp_path: Path) -> None:
    paths = [junit_of(tmp_path, "writes", PHASE_ONE), junit_of(tmp_path, "whole", PHASE_TWO)]
    out = tmp_path / "out" / "contract.xml"
    merge_junit(paths, out)
    root = ElementTree.parse(out).getroot()
    assert root.tag == "testsuites"
    assert {name: root.get(name) for name in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6", "failures": "1", "errors": "1", "skipped": "1",
    }
    inputs_time = sum(float(s.get("time")) for p in paths for s in ElementTree.parse(p).getroot().iter("testsuite"))
    assert float(root.get("time")) == round(inputs_time, 3)
    assert len(root.findall("testsuite")) == 2
    names = sorted(case.get("name") for case in root.iter("testcase"))
    assert names == ["test_broken", "test_left_out", "test_needs_it", "test_one", "test_reads", "test_two"]
    failure = next(case for case in root.iter("testcase") if case.get("name") == "test_broken").find("failure")
    assert failure is not None and "count off <by> one & more" in (failure.get("message") or "") + (failure.text or "")
    error = next(case for case in root.iter("testcase") if case.get("name") == "test_needs_it").find("error")
    assert error is not None and "no target" in (error.text or "")


def test_a_file_whose_root_is_one_testsuite_is_read_too(tmp_path: Path) -> None:
    single = tmp_path / "single.xml"
    single.write_text(
        '<testsuite name="other" tests="2" failures="0" errors="0" skipped="1" time="1.5">'
        '<testcase classname="a" name="x" time="1"/><testcase classname="a" name="y" time="0.5"><skipped/></testcase>'
        "</testsuite>",
        encoding="utf-8",
    )
    other = junit_of(tmp_path, "writes", PHASE_ONE)
    out = tmp_path / "merged.xml"
    merge_junit([single, other], out)
    root = ElementTree.parse(out).getroot()
    assert (root.get("tests"), root.get("skipped"), root.get("failures")) == ("6", "2", "1")
    assert [case.get("name") for case in root.iter("testcase")][:2] == ["x", "y"]
