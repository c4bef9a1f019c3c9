"""The README's examples for frontend developers run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from mockhttp import start_mock
from mockworld import REPO

README = REPO / "README.md"


def walkthrough() -> str:
    block = re.search(r"<!-- walkthrough -->\s*```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert block, "README.md has no block marked <!-- walkthrough -->"
    return block.group(1)


def expected_lines(script: str) -> list[str]:
    return [line.split("#=> ", 1)[1] for line in script.splitlines() if line.startswith("#=> ")]


@pytest.mark.http
def test_the_day_one_walkthrough_prints_what_the_readme_says() -> None:
    script = walkthrough()
    assert len(expected_lines(script)) >= 10
    mock = start_mock(today="2026-06-15")  # the bundled seed, as `.venv/bin/mock-4hse --today 2026-06-15`
    try:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, capture_output=True, text=True,
                                timeout=120, env={**os.environ, "MOCK": mock.url})
    finally:
        mock.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected_lines(script), result.stderr


def python_example(after_heading: str) -> str:
    text = README.read_text()
    section = text[text.index(after_heading):]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_in_process_example_runs() -> None:
    code = python_example("### The mock inside your Python tests")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
