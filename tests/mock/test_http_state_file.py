"""--state-file over a real server: the state survives a restart; a killed save leaves the old file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from mockhttp import REPO, RunningMock, start_mock
from mockworld import FIRE, SMALL_WORLD, TODAY, create_body

pytestmark = pytest.mark.http

# The mock with a hook in the save: between the temporary file's fsync and its rename, when the
# file `pause-saves` exists beside the state file, it writes `paused` there and waits.
PAUSING_SAVES = """
import sys, time
from pathlib import Path
import mock_server.persistence as persistence

def pause(path):
    if (path.parent / "pause-saves").exists():
        (path.parent / "paused").write_text("paused")
        time.sleep(120)

persistence.before_rename = pause
from mock_server.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def started(state_file: Path, *, pausing: bool = False) -> RunningMock:
    entry = ("-c", PAUSING_SAVES) if pausing else ("-m", "mock_server")
    return start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--state-file", str(state_file)), entry=entry)


def codes(mock: RunningMock) -> set[str]:
    with mock.client() as client:
        return {a["code"] for a in client.post("/v2/action/index", json={"per-page": 100}).json()}


def add_action(mock: RunningMock, code: str) -> None:
    with mock.client() as client:
        assert client.post("/v2/action/create", json={**create_body("action"), "code": code}).status_code == 201


def test_the_state_survives_a_restart_saved_on_request_and_on_shutdown(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    mock = started(state_file)
    try:
        add_action(mock, "SAVED-ON-REQUEST")
        with mock.client() as client:
            saved = client.post("/__mock/save")
        assert saved.status_code == 200, saved.text
        assert saved.json() == {"saved": str(state_file), "bytes": state_file.stat().st_size}
        assert "SAVED-ON-REQUEST" in {a["code"] for a in json.loads(state_file.read_bytes())["entities"]["action"]}
        add_action(mock, "SAVED-ON-SHUTDOWN")
    finally:
        mock.stop()  # SIGTERM: a graceful stop, which saves
    assert "SAVED-ON-SHUTDOWN" in {a["code"] for a in json.loads(state_file.read_bytes())["entities"]["action"]}

    again = started(state_file)
    try:
        assert {"SAVED-ON-REQUEST", "SAVED-ON-SHUTDOWN"} <= codes(again)
        with again.client() as client:  # reset goes back to the seed, not to the file
            client.post("/__mock/reset")
        assert not {"SAVED-ON-REQUEST", "SAVED-ON-SHUTDOWN"} & codes(again)
    finally:
        again.stop()


SAVES = "on shutdown and on POST /__mock/save"


def test_the_start_says_whether_it_loaded_the_state_file_or_starts_from_the_seed(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with started(state_file) as first:  # its lines before the URL are read by the time it listens
        assert f"4HSE mock: {state_file} does not exist yet: started from the seed; the state is saved there {SAVES}\n" \
            in first.log(), first.log()
        add_action(first, "COUNTED")
    entities = sum(len(rows) for rows in json.loads(state_file.read_bytes())["entities"].values())
    with started(state_file) as again:
        assert f"4HSE mock: state loaded from {state_file} ({entities} entities); saved there {SAVES}\n" \
            in again.log(), again.log()
        assert "COUNTED" in codes(again)


def test_a_process_killed_during_a_save_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    mock = started(state_file, pausing=True)
    try:
        add_action(mock, "FIRST-SAVE")
        with mock.client() as client:
            assert client.post("/__mock/save").status_code == 200
        previous = state_file.read_bytes()
        add_action(mock, "NEVER-SAVED")
        (tmp_path / "pause-saves").write_text("")

        def save() -> None:
            with mock.client() as client:
                try:
                    client.post("/__mock/save")
                except httpx.TransportError:
                    pass  # the server is killed meanwhile

        saving = threading.Thread(target=save)
        saving.start()
        deadline = time.monotonic() + 20
        while not (tmp_path / "paused").exists():
            assert time.monotonic() < deadline, "the save never reached the hook"
            time.sleep(0.02)
        written = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(written) == 1 and b"NEVER-SAVED" in written[0].read_bytes()  # the new state is on disk...
        os.kill(mock.process.pid, signal.SIGKILL)
        mock.process.wait(timeout=10)
        saving.join(timeout=10)
    finally:
        mock.stop()
    assert state_file.read_bytes() == previous  # ...but the file is the one of the first save

    (tmp_path / "pause-saves").unlink()
    again = started(state_file)
    try:
        assert "FIRST-SAVE" in codes(again) and "NEVER-SAVED" not in codes(again)
        with again.client() as client:
            assert client.post("/__mock/save").status_code == 200
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the killed save's file is gone
    finally:
        again.stop()


def test_a_state_file_that_does_not_load_stops_the_start(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"directory": {}, "entities": {"action": [42]}}')
    result = subprocess.run([sys.executable, "-m", "mock_server", "--port", "0", "--state-file", str(state_file)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot load the state file {state_file}" in result.stderr


def test_save_without_a_state_file_is_a_409(api: httpx.Client) -> None:
    response = api.post("/__mock/save")
    assert response.status_code == 409 and response.json()["field"] == "state-file"


def test_save_names_the_default_workspace_only(tmp_path: Path) -> None:
    mock = started(tmp_path / "state.json")
    try:
        with mock.client() as client:
            response = client.post("/__mock/save", headers={"X-Mock-Workspace": "job-1"})
            assert response.status_code == 400 and response.json()["field"] == "X-Mock-Workspace"
            assert not (tmp_path / "state.json").exists()
            assert client.get(f"/v2/action/view/{FIRE}").status_code == 200
    finally:
        mock.stop()
