"""The mock's log over a real server: an access line per request, 4xx at INFO, --quiet."""

from __future__ import annotations

import time

import pytest

from mockhttp import RunningMock, start_mock
from mockworld import FIRE, SMALL_WORLD, TODAY

pytestmark = pytest.mark.http


def _log_after(mock: RunningMock, marker: str, wait_s: float = 5.0) -> str:
    """The mock's output once `marker` appears in it (it is read by a thread)."""
    deadline = time.monotonic() + wait_s
    while marker not in mock.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    return mock.log()


def test_every_request_has_an_access_line_and_a_4xx_is_info() -> None:
    mock = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--log-level", "info"))
    try:
        with mock.client() as client:
            assert client.get(f"/v2/action/view/{FIRE}").status_code == 200
            assert client.get("/v2/action/view/not-a-uuid", headers={"X-Mock-Workspace": "job-1"}).status_code == 400
            assert client.get("/__mock/health").status_code == 200
        log = _log_after(mock, "GET /__mock/health -> 200")
    finally:
        mock.stop()
    lines = log.splitlines()
    assert any(line.startswith(f"INFO mock_server.access: GET /v2/action/view/{FIRE} -> 200 (") for line in lines), log
    assert any(line.startswith("INFO mock_server.access: GET /v2/action/view/not-a-uuid -> 400 (")
               and line.endswith("[workspace job-1]") for line in lines), log
    assert not [line for line in lines if line.startswith("WARNING")], log


def test_quiet_writes_no_access_line() -> None:
    mock = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--log-level", "info", "--quiet"))
    try:
        with mock.client() as client:
            assert client.get("/v2/action/view/not-a-uuid").status_code == 400
            assert client.get(f"/v2/action/view/{FIRE}").status_code == 200
        time.sleep(0.5)
        log = mock.log()
    finally:
        mock.stop()
    assert "mock_server.access" not in log
    assert "INFO mock_server.problems: GET /v2/action/view/not-a-uuid -> 400" in log  # the problem line stays
