"""mock_server.testing: the context manager and the pytest fixtures another project's tests use."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mock_server.testing import InProcessMock, running_mock
from mockworld import FIRE, REPO, SMALL_WORLD


def test_running_mock_serves_over_http_with_its_own_state() -> None:
    with running_mock(today="2026-06-15", seed=SMALL_WORLD) as first, running_mock(today="2026-06-15", seed=SMALL_WORLD) as second:
        assert first.url != second.url
        with httpx.Client(base_url=first.url, headers=first.auth, trust_env=False) as client:
            assert client.delete(f"/v2/action/delete/{FIRE}", params={"force": "true"}).status_code == 204
            assert client.get(f"/v2/action/view/{FIRE}").status_code == 404
        with httpx.Client(base_url=second.url, headers=second.auth, trust_env=False) as client:
            assert client.get(f"/v2/action/view/{FIRE}").status_code == 200
            assert client.get("/__mock/clock").json() == {"today": "2026-06-15", "fixed": True}
        url = first.url
    with pytest.raises(httpx.TransportError):  # stopped on exit
        httpx.get(f"{url}/__mock/health", timeout=2, trust_env=False)


def test_running_mock_gives_the_asgi_app_for_an_asgi_transport() -> None:
    async def view_in_process(mock: InProcessMock) -> httpx.Response:
        transport = httpx.ASGITransport(app=mock.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=mock.auth) as client:
            return await client.get(f"/v2/action/view/{FIRE}")

    with running_mock(today="2026-06-15", seed=SMALL_WORLD) as mock:
        # A thread of its own: another test's framework (Playwright) may hold a loop in this one.
        with ThreadPoolExecutor(1) as executor:
            response = executor.submit(asyncio.run, view_in_process(mock)).result(timeout=60)
    assert response.status_code == 200 and response.json()["countSubscribed"] == 3


def test_the_fixtures_work_as_a_plugin_of_another_project(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["mock_server.testing"]\n')
    (tmp_path / "test_frontend.py").write_text(textwrap.dedent('''
        import httpx

        def test_writes(mock_4hse):
            answer = httpx.post(f"{mock_4hse.url}/v2/action/create", headers=mock_4hse.auth, json={
                "action_type": "CHECK", "code": "PLUGIN-1", "name": "Made by a test",
                "tenant_id": "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01",
                "subtenant_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890"})
            assert answer.status_code == 201, answer.text
            httpx.put(f"{mock_4hse.url}/__mock/clock", json={"today": "2031-01-01"})

        def test_starts_from_the_seed_again(mock_4hse):
            found = httpx.post(f"{mock_4hse.url}/v2/action/index", headers=mock_4hse.auth,
                               json={"filter": {"code": "PLUGIN-1"}})
            assert found.status_code == 200 and found.json() == []
            assert httpx.get(f"{mock_4hse.url}/__mock/clock").json() == {"today": "2026-06-15", "fixed": True}
            logged = httpx.get(f"{mock_4hse.url}/__mock/requests").json()
            assert [(e["method"], e["path"]) for e in logged] == [("POST", "/v2/action/index")]  # this test's only
    '''))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path, env={"PYTHONPATH": str(REPO), "MOCK_4HSE_TODAY": "2026-06-15", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
