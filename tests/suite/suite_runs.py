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



def mock_entry(apply: str) -> str:
    """`python -c` code that starts the mock (`start_mock(entry=("-c", ...))`) after `apply`:
    code that patches it through a MonkeyPatch named `patch` (a faulty variant, a gateway)."""
    return (
        "import sys\nfrom pytest import MonkeyPatch\npatch = MonkeyPatch()\n"
        f"{apply}\nfrom mock_server.__main__ import main\nsys.exit(main(sys.argv[1:]))\n"
    )

# Settings of the run that starts the child, which the child must not inherit: the target's
# (a conformance job exports a production token and ids) and pytest-xdist's (a child of a worker
# would count its parent's workers as its own).
PARENT_ONLY_PREFIXES = ("CONTRACT_", "PYTEST_XDIST_", "PYTEST_CURRENT_TEST")


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(PARENT_ONLY_PREFIXES)}
    return {**inherited, **(extra or {})}


def run_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pytest ARGS` from the project root (quiet, no cache), its output captured; the
    child gets only the target settings given in ARGS and ENV."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S, env=child_environment(env),
    )


def command(*args: str, cwd: Path, timeout: float = SUITE_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """`python -m tests.contract ARGS` (the command from a checkout), from a directory outside it."""
    return subprocess.run(
        [sys.executable, "-m", "tests.contract", *args], check=False, cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env=child_environment({"PYTHONPATH": str(REPO_ROOT)}),
    )


def entity_counts(url: str, token: str = "mock-token") -> dict[str, int]:
    """How many entities of each resource the target holds, as its index answers say (the
    suite's tests compare them before and after a run: a run leaves nothing behind)."""
    import httpx

    from mock_server.resources import SEGMENTS

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=60.0) as client:
        counts = {}
        for segment in SEGMENTS:
            answer = client.post(f"/v2/{segment}/index", json={"per-page": 1})
            assert answer.status_code == 200, answer.text
            counts[segment] = int(answer.headers["X-Pagination-Total-Count"])
        return counts
