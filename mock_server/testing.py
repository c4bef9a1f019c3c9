"""The mock inside another project's Python tests, with no subprocess of their own.

    from mock_server.testing import running_mock

    with running_mock(today="2026-06-15") as mock:
        httpx.post(f"{mock.url}/v2/action/index", json={}, headers=mock.auth)   # over HTTP
        httpx.AsyncClient(transport=httpx.ASGITransport(app=mock.app), base_url="http://mock")  # in-process

`running_mock` starts a uvicorn server with a state of its own on a free loopback port, in a
thread of this process, and stops it on exit. As a pytest plugin (`pytest_plugins =
["mock_server.testing"]` in a conftest.py) it gives two fixtures:

- `mock_4hse_server`: one such server for the whole session;
- `mock_4hse`: that server, its default workspace reset to the seed (data, clock and request log)
  before each test, so that every test starts from the same state.

Settings: `MOCK_4HSE_TODAY` (YYYY-MM-DD) fixes the clock of the fixtures' server.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import DEFAULT_TOKEN, MockConfig

START_TIMEOUT_S = 30.0


@dataclass
class InProcessMock:
    url: str  # e.g. http://127.0.0.1:41235
    app: Any  # the ASGI app (a Connexion AsyncApp), for httpx.ASGITransport
    token: str  # a valid API token

    @property
    def auth(self) -> dict[str, str]:
        """The header that authorizes a /v2 call."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def workspaces(self) -> Any:
        return self.app.mock_workspaces

    def reset(self) -> None:
        """The default workspace back to the seed, on the start-up clock, with an empty request log."""
        default = self.workspaces.default
        default.state.domain.clock.set(self.app.mock_config.today)
        default.state.reset()
        default.requests.clear()


def _today(value: str | dt.date | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@contextmanager
def serving_on_loopback(app: Any, *, name: str = "asgi", lifespan: str = "off") -> Iterator[str]:
    """An ASGI app served by uvicorn on 127.0.0.1 at a free port, in a thread of this process,
    until the block ends; yields its URL (e.g. http://127.0.0.1:41235)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"{name}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{name} did not start on 127.0.0.1")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_mock(*, today: str | dt.date | None = None, seed: str | Path | None = None, empty: bool = False,
                 config: MockConfig | None = None) -> Iterator[InProcessMock]:
    """A mock serving on 127.0.0.1 at a free port until the block ends. `config` replaces the
    other arguments."""
    from .app import create_app

    config = config or MockConfig(today=_today(today), seed_path=Path(seed) if seed else None, empty=empty)
    app = create_app(config)
    with serving_on_loopback(app, name="mock-4hse") as url:
        yield InProcessMock(url=url, app=app, token=config.tokens[0] if config.tokens else DEFAULT_TOKEN)


try:
    import pytest
except ImportError:  # the context manager works without pytest; the fixtures need it
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    @pytest.fixture(scope="session")
    def mock_4hse_server() -> Iterator[InProcessMock]:
        """One in-process mock for the whole test session (see the module's doc)."""
        with running_mock(today=os.environ.get("MOCK_4HSE_TODAY") or None) as mock:
            yield mock

    @pytest.fixture
    def mock_4hse(mock_4hse_server: InProcessMock) -> InProcessMock:
        """The session's mock, its default workspace reset to the seed before the test."""
        mock_4hse_server.reset()
        return mock_4hse_server
