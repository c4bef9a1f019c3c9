"""The suite run in a pytest subprocess against a real server in front of the mock, for the tests
of the suite's own machinery: a gateway that loses create answers, a reverse proxy that hides the
mock's controls or serves it under a path prefix (tests/mock/mockhttp.py: the mock as a real
server, and that proxy)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

MOCK_TESTS = Path(__file__).resolve().parents[1] / "mock"
REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_MARKER = re.compile(r"ct[0-9a-f]{8}")  # every marker of the suite: `client.new_run_id` and what follows it
SUITE_TIMEOUT_S = 900


def mockhttp() -> ModuleType:
    """`tests/mock/mockhttp.py` (that folder's helpers for the mock as a real server)."""
    if str(MOCK_TESTS) not in sys.path:
        sys.path.append(str(MOCK_TESTS))
    import mockhttp as module

    return module


def start_mock(**options: Any) -> Any:
    """`mockhttp.start_mock`: the mock on a free loopback port, `python -m mock_server`."""
    return mockhttp().start_mock(**options)


def run_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pytest ARGS` from the project root (quiet, no cache), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S, env={**os.environ, **(env or {})},
    )
