"""A gateway in front of a started mock, as production's rate-limited front: it answers some
`/v2` requests itself with 429 or 503 and `Retry-After` (forwarding nothing, so the mock never
sees them), and logs every request it receives with the time it arrived.

The log is the oracle of the tests of the suite's politeness: what reached the target, when, and
what the gateway refused, counted outside the suite.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mock_server.testing import serving_on_loopback

from .suite_runs import mockhttp

REFUSED_BODY = b'{"title":"Too Many Requests","status":429}'


@dataclass(frozen=True)
class Passage:
    """One request as the gateway received it."""

    at: float  # time.monotonic() of its arrival (the gateway runs in the test's process)
    method: str
    path: str
    digest: str  # of method, path, query, Authorization and body: the same request sent again
    refused: int | None  # the status the gateway answered itself, None when forwarded
    retry_after: float | None


# (method, path, query, headers) -> (status, Retry-After seconds) to refuse with, or None to forward
Decide = Callable[[str, str, str, dict[str, str]], tuple[int, int] | None]


@dataclass
class SeededRefusals:
    """About `share` of the `/v2` requests, chosen by a seeded random (a repeatable run), refused
    with 429 or 503 and `Retry-After: seconds`."""

    share: float
    seed: int
    seconds: int = 1
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def __call__(self, method: str, path: str, query: str, headers: dict[str, str]) -> tuple[int, int] | None:
        if not path.startswith("/v2/"):
            return None
        with self._lock:
            if self._random.random() >= self.share:
                return None
            return self._random.choice((429, 503)), self.seconds


@dataclass
class Gateway:
    url: str
    passages: list[Passage]

    def refused(self, status: int | None = None) -> list[Passage]:
        return [p for p in self.passages if p.refused is not None and (status is None or p.refused == status)]

    def forwarded(self) -> list[Passage]:
        return [p for p in self.passages if p.refused is None]


def _digest(method: str, raw_path: str, query: bytes, authorization: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), raw_path.encode(), query, authorization.encode(), body])).hexdigest()


def gateway_app(upstream: str, decide: Decide, passages: list[Passage]) -> Any:
    """The ASGI app: `decide` for each request, the rest forwarded as the mock's own proxy does
    (tests/mock/mockhttp.py, the mock's controls left reachable)."""
    forward = mockhttp().reverse_proxy_app(upstream, hidden=())
    lock = threading.Lock()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await forward(scope, receive, send)
            return
        arrived = time.monotonic()
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        decision = decide(method, path, scope["query_string"].decode("latin-1"), headers)
        with lock:
            passages.append(Passage(
                arrived, method, path, _digest(method, scope["raw_path"].decode("latin-1"), scope["query_string"], headers.get("authorization", ""), body),
                None if decision is None else decision[0], None if decision is None else float(decision[1]),
            ))
        if decision is not None:
            status, seconds = decision
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/problem+json"), (b"retry-after", str(seconds).encode()),
                (b"content-length", str(len(REFUSED_BODY)).encode())]})
            await send({"type": "http.response.body", "body": REFUSED_BODY})
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await forward(scope, replay, send)

    return app


@contextmanager
def gateway(upstream: str, decide: Decide) -> Iterator[Gateway]:
    """`gateway_app` on a free loopback port until the block ends."""
    passages: list[Passage] = []
    with serving_on_loopback(gateway_app(upstream.rstrip("/"), decide, passages), name="gateway", lifespan="on") as url:
        yield Gateway(url, passages)


def resend_gaps(gateway: Gateway) -> list[tuple[Passage, float | None]]:
    """Each refused request, with the seconds until the same request next reached the gateway
    (None: it never came again)."""
    gaps = []
    ordered = sorted(gateway.passages, key=lambda passage: passage.at)
    for index, refused in enumerate(ordered):
        if refused.refused is None:
            continue
        later = next((p for p in ordered[index + 1:] if p.digest == refused.digest), None)
        gaps.append((refused, None if later is None else later.at - refused.at))
    return gaps
