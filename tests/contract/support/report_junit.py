"""One JUnit file of a run made of several pytest runs (the run's phases: the tests that write,
then the whole-data-set reads), for CI systems that read one file per job.

Each input's `<testsuite>` elements are kept as they are (so the phases stay apart, and every
`<testcase>` with its failure text is there), under one `<testsuites>` root whose totals are the
sums of theirs. Standard library XML only: the inputs are pytest's own files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

COUNTED = ("tests", "failures", "errors", "skipped")


def _suites(path: Path) -> list[ElementTree.Element]:
    """The `<testsuite>` elements of a JUnit file: pytest writes them under `<testsuites>`, older
    writers as the root."""
    root = ElementTree.parse(path).getroot()
    if root.tag == "testsuite":
        return [root]
    if root.tag != "testsuites":
        raise ValueError(f"{path}: not a JUnit file (root element <{root.tag}>)")
    return list(root.iter("testsuite"))


def merge_junit(paths: list[Path], out: Path) -> None:
    """Write OUT: one `<testsuites>` holding every testsuite (and so every testcase) of PATHS, in
    their order, with tests, failures, errors, skipped and time summed. A path that does not exist
    is a phase that never ran (the run stopped before it) and adds nothing."""
    merged = ElementTree.Element("testsuites", name="contract")
    totals = dict.fromkeys(COUNTED, 0)
    seconds = 0.0
    for path in paths:
        if not path.exists():
            continue
        for suite in _suites(path):
            for name in COUNTED:
                totals[name] += int(suite.get(name, "0"))
            seconds += float(suite.get("time", "0") or 0)
            merged.append(suite)
    for name in COUNTED:
        merged.set(name, str(totals[name]))
    merged.set("time", f"{seconds:.3f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)
