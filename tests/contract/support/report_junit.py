"""One JUnit file of several pytest runs (the command's two phases): their test suites side by side
under one <testsuites>, whose totals are the sums of theirs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

COUNTS = ("tests", "failures", "errors", "skipped")


def _suites(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def merge_junit(paths: list[Path], out: Path) -> None:
    """Write to `out` the test suites of every file in `paths` (those that exist), in order."""
    merged = ET.Element("testsuites")
    totals = dict.fromkeys(COUNTS, 0)
    seconds = 0.0
    for path in paths:
        if not path.is_file():
            continue
        for suite in _suites(path):
            merged.append(suite)
            for key in COUNTS:
                totals[key] += int(suite.get(key, 0))
            seconds += float(suite.get("time", 0.0))
    for key, value in totals.items():
        merged.set(key, str(value))
    merged.set("time", f"{seconds:.3f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)
