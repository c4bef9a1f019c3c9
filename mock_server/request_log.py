"""The request log of a workspace: the recent API requests with their answers.

A bounded ring (REQUEST_LOG_SIZE entries, the oldest dropped first), listed newest first by
`GET /__mock/requests`. Bodies are kept as excerpts: at most BODY_EXCERPT_BYTES of each body are
held while the request runs, so a large upload or answer costs no memory here. A request body the
app answered without reading is read (and counted) before the answer goes out, up to
UNREAD_BODY_BYTES: a longer one is logged with the size its Content-Length declares (without one,
with the bytes read, marked as at least that many).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from starlette.types import Message, Receive, Scope, Send

REQUEST_LOG_SIZE = 500  # entries per workspace
BODY_EXCERPT_BYTES = 512  # of each request and response body
MAX_LISTED = 500  # entries one listing answers at most (?limit=)
# Of a request body the app answered without reading: read so that the log shows its size and
# excerpt, but no further, so that a large or slow upload refused unread (a 401) is answered
# without waiting for the rest of it (/v2 has no body limit).
UNREAD_BODY_BYTES = 64 * 1024

_sequence = itertools.count(1)  # one numbering for every workspace: ids order all requests

# Secrets a request carries in a query or a login form: shown as *** (the log is for reading
# what an app sent, and the dashboard shows it to whoever opens it).
_SECRET = re.compile(r"(?<![^&?\s])(access-token|password|client_secret|refresh_token)=[^&\s]*")


def redacted(text: str) -> str:
    return _SECRET.sub(r"\1=***", text)


@dataclass(slots=True)
class LoggedRequest:
    """One request and its answer. The bodies are kept as their first bytes, turned into text
    only when listed: recording stays cheap on the request's path."""

    id: int
    time: float  # seconds since the epoch, when the answer ended
    workspace: str
    method: str
    path: str
    query: str
    request_head: bytes
    request_bytes: int
    status: int
    response_head: bytes
    response_bytes: int
    duration_ms: float
    request_bytes_at_least: bool = False  # the body was not read to its end, and no Content-Length said its size

    def as_json(self) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.time)) + f".{int(self.time % 1 * 1000):03d}Z"
        request_body = body_excerpt(self.request_head, self.request_bytes, self.request_bytes_at_least)
        return {
            "id": self.id, "time": stamp, "workspace": self.workspace, "method": self.method, "path": self.path,
            "query": redacted(self.query), "request_body": redacted(request_body),
            "request_bytes": self.request_bytes, "request_bytes_at_least": self.request_bytes_at_least,
            "status": self.status,
            "response_body": body_excerpt(self.response_head, self.response_bytes),
            "response_bytes": self.response_bytes, "duration_ms": self.duration_ms,
        }


def body_excerpt(head: bytes, total: int, at_least: bool = False) -> str:
    """The first bytes of a body as text (invalid UTF-8 replaced), saying when it was cut."""
    text = head.decode("utf-8", "replace")
    if total > len(head):
        text += f"... (at least {total} bytes)" if at_least else f"... ({total} bytes)"
    return text


class _Capture:
    """The first BODY_EXCERPT_BYTES of a body and its length."""

    def __init__(self) -> None:
        self.head = b""
        self.total = 0

    def take(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if len(self.head) < BODY_EXCERPT_BYTES:
            self.head += chunk[: BODY_EXCERPT_BYTES - len(self.head)]


class Recorder:
    """Wraps an ASGI request's receive and send to keep what the log shows of it."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, log: Callable[[Recorder], None]) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._log = log
        self._logged = False
        self._request = _Capture()
        self._response = _Capture()
        self._request_ended = False  # its last body message (or the client's disconnect) was received
        self._unread_left = False  # the body answered unread was longer than UNREAD_BODY_BYTES
        self.status = 0

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._request.take(message.get("body", b""))
            self._request_ended = not message.get("more_body", False)
        else:
            self._request_ended = True
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            await self._read_the_unread_body()
        elif message["type"] == "http.response.body":
            self._response.take(message.get("body", b""))
            if not message.get("more_body", False):
                # logged before the answer's last bytes leave: a client that has its whole answer
                # finds the request in the log
                self.log_once()
        await self._send(message)

    def log_once(self) -> None:
        """Add this request to the log, once (when its answer ends, or when the app stops without one)."""
        if not self._logged:
            self._logged = True
            self._log(self)

    async def _read_the_unread_body(self) -> None:
        """Read what the app left of the request body before answering (a 401, a parameter's
        400, an injected fault answer before reading it), so that the log shows the bytes the
        client sent whatever the answer; once the answer is sent, the server gives no more of it.
        At most UNREAD_BODY_BYTES in all: the refusal of a larger body does not wait for it.
        Not for a client that waits for `100 Continue`: it sends no body to a refusal."""
        if self._expects_continue():
            return
        while not self._request_ended and self._request.total < UNREAD_BODY_BYTES:
            await self.receive()
        self._unread_left = not self._request_ended

    def _expects_continue(self) -> bool:
        return any(key == b"expect" and value.lower() == b"100-continue" for key, value in self._scope["headers"])

    def _request_size(self) -> tuple[int, bool]:
        """The request body's size, and whether it is a lower bound only: a body left unread
        past UNREAD_BODY_BYTES is as long as its Content-Length says, else at least what was read."""
        read = self._request.total
        if not self._unread_left:
            return read, False
        for key, value in self._scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) >= read:
                return int(value), False
        return read, True

    def entry(self, workspace: str, seconds: float) -> LoggedRequest:
        scope = self._scope
        request_bytes, at_least = self._request_size()
        return LoggedRequest(
            id=next(_sequence), time=time.time(), workspace=workspace, method=scope["method"],
            path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
            request_head=self._request.head, request_bytes=request_bytes,
            status=self.status or 500,  # no answer started: the server failed
            response_head=self._response.head, response_bytes=self._response.total,
            duration_ms=round(seconds * 1000, 3), request_bytes_at_least=at_least,
        )


@dataclass(frozen=True)
class RequestFilter:
    path: str | None = None  # a substring of the path
    status: int | None = None  # an exact status, or a class: 4 for every 4xx
    method: str | None = None

    def matches(self, entry: LoggedRequest) -> bool:
        if self.path is not None and self.path not in entry.path:
            return False
        if self.method is not None and entry.method != self.method:
            return False
        if self.status is not None:
            if self.status < 10:
                return entry.status // 100 == self.status
            return entry.status == self.status
        return True


class RequestLog:
    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def newest_first(self, wanted: RequestFilter | None = None, limit: int = MAX_LISTED) -> list[LoggedRequest]:
        with self._lock:
            entries: Iterable[LoggedRequest] = reversed(list(self._entries))
        found = []
        for entry in entries:
            if wanted is None or wanted.matches(entry):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    def __len__(self) -> int:
        return len(self._entries)
