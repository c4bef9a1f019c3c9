"""The mock started as a real server (`python -m mock_server`) on loopback, and httpx clients."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mockworld import REPO, spec

from mock_server.testing import serving_on_loopback

TOKEN = "mock-token"
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT_S = 30.0


@dataclass
class RunningMock:
    process: subprocess.Popen[str]
    url: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def client(self, token: str | None = TOKEN, timeout: httpx.Timeout | float = 15.0) -> httpx.Client:
        """A client that sends `token` as `Authorization: Bearer` (none when None); what it
        exchanges goes to the recorders (tests/mock/openapi_core_check.py)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout, trust_env=False,
                            event_hooks={"response": [_record]})

    def __enter__(self) -> RunningMock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return "".join(self.output)


# Lists that collect every answer (with its request) of the clients above while they are here.
RECORDERS: list[list[httpx.Response]] = []


def _record(response: httpx.Response) -> None:
    if RECORDERS:
        response.read()
        for recorder in RECORDERS:
            recorder.append(response)


def _drain(stream: Any, sink: deque[str]) -> None:
    for line in stream:
        sink.append(line)


def start_mock(*, today: str = "2026-06-15", seed: Path | None = None, extra: tuple[str, ...] = (),
               control_token: str | None = None, entry: tuple[str, ...] = ("-m", "mock_server")) -> RunningMock:
    """Start the mock on a free loopback port; answers once /__mock/health says ok.
    `control_token`: started with `--control-token`, which the health check then sends.
    `entry`: how Python starts it (`-c CODE` that calls mock_server.__main__.main, for a test hook)."""
    command = [sys.executable, *entry, "--host", "127.0.0.1", "--port", "0",
               "--today", today, "--log-level", "warning"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if control_token is not None:
        command += ["--control-token", control_token]
    command += list(extra)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1)
    output: deque[str] = deque(maxlen=200)
    deadline = time.monotonic() + START_TIMEOUT_S
    url = None
    assert process.stdout is not None
    while url is None:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=5)
            raise RuntimeError(f"the mock exited ({process.returncode}) before listening:\n{''.join(output)}")
        output.append(line)
        match = LISTENING.search(line)
        if match:
            url = match.group(1)
        elif time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the mock printed no URL within {START_TIMEOUT_S}s:\n{''.join(output)}")
    # Keep reading its output, so that a chatty server never blocks on a full pipe.
    threading.Thread(target=_drain, args=(process.stdout, output), daemon=True).start()
    mock = RunningMock(process, url, output)
    control_headers = {"X-Mock-Control-Token": control_token} if control_token is not None else {}
    with httpx.Client(base_url=url, timeout=2.0, trust_env=False, headers=control_headers) as client:
        while True:
            try:
                if client.get("/__mock/health").json().get("status") == "ok":
                    return mock
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                mock.stop()
                raise RuntimeError(f"/__mock/health did not answer within {START_TIMEOUT_S}s:\n{mock.log()}")
            time.sleep(0.05)


# --- a reverse proxy in front of a started mock ---------------------------------------------

CONTROL_PREFIX = "/__mock"  # the mock's own controls: production has none
# Not passed on: hop-by-hop headers, and encodings (the upstream is asked for identity, so the
# body passed on is the one it sent).
NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "accept-encoding", "content-encoding"}
NOT_FOUND_BODY = b'{"title":"Not Found","status":404}'


def _upstream_path(raw_path: str, prefix: str, hidden: tuple[str, ...]) -> str | None:
    """The path the upstream serves for `raw_path` under `prefix`, or None: outside the prefix,
    or one of the hidden paths."""
    if prefix and not raw_path.startswith(prefix + "/"):
        return None
    inner = raw_path[len(prefix):]
    if any(inner == path or inner.startswith(path + "/") for path in hidden):
        return None
    return inner


def reverse_proxy_app(upstream: str, *, prefix: str = "", hidden: tuple[str, ...] = (CONTROL_PREFIX,)) -> Any:
    """An ASGI app that forwards `{prefix}/...` to `{upstream}/...` as sent (still percent-encoded)
    and answers 404 for every other path and for the `hidden` ones, as a gateway in front of a
    production server would."""
    client = httpx.AsyncClient(timeout=60.0, trust_env=False)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        inner = _upstream_path(scope["raw_path"].decode("latin-1"), prefix, hidden)
        if inner is None:
            status, headers, content = 404, [(b"content-type", b"application/json")], NOT_FOUND_BODY
        else:
            query = scope["query_string"].decode("latin-1")
            sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.decode("latin-1").lower() not in NOT_FORWARDED]
            url = httpx.URL(upstream + inner + (f"?{query}" if query else ""))
            answer = await client.request(scope["method"], url, headers=[*sent, ("accept-encoding", "identity")], content=body)
            status, content = answer.status_code, answer.content
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.multi_items() if k.lower() not in NOT_FORWARDED]
        await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})

    return app


@contextmanager
def reverse_proxy(upstream: str, *, prefix: str = "") -> Iterator[str]:
    """`reverse_proxy_app` on a free loopback port until the block ends; yields the URL its
    clients use (the prefix included), e.g. http://127.0.0.1:41236/api."""
    with serving_on_loopback(reverse_proxy_app(upstream.rstrip("/"), prefix=prefix.rstrip("/")), name="reverse-proxy", lifespan="on") as url:
        yield url + prefix.rstrip("/")


# --- small helpers over a client ---------------------------------------------------------------

def documented_media_type(response: httpx.Response) -> str:
    """The one media type the spec documents for this answer's operation and status (a delete's
    400 is `application/json`, other problems `application/problem+json`)."""
    method, path = response.request.method.lower(), response.request.url.path
    for template, item in spec()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in item:
            answer = item[method]["responses"][str(response.status_code)]
            if "$ref" in answer:  # `#/components/responses/<name>`
                answer = spec()["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
            content = answer["content"]
            (media_type,) = content
            return media_type
    raise AssertionError(f"{method.upper()} {path} is no operation of the spec")



def index_all(client: httpx.Client, segment: str, filter_: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every entity matching `filter_`, walking the pages of 100."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body: dict[str, Any] = {"per-page": 100, "page": page}
        if filter_:
            body["filter"] = filter_
        response = client.post(f"/v2/{segment}/index", json=body)
        assert response.status_code == 200, response.text
        items += response.json()
        if page >= int(response.headers["X-Pagination-Page-Count"]):
            return items
        page += 1


def view(client: httpx.Client, segment: str, entity_id: str) -> dict[str, Any]:
    response = client.get(f"/v2/{segment}/view/{entity_id}")
    assert response.status_code == 200, response.text
    return response.json()


def create(client: httpx.Client, segment: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v2/{segment}/create", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def status_of(client: httpx.Client, segment: str, entity_id: str) -> int:
    return client.get(f"/v2/{segment}/view/{entity_id}").status_code
