"""Isolated workspaces: one state (domain, clock, request log) per name.

A request names its workspace with the header `X-Mock-Workspace: NAME`; without it, it works on
the default workspace (the state the mock started with). A workspace is created from the loaded
seed, on the mock's start-up clock, the first time a request names it; at most MAX_WORKSPACES
exist at once (the default one included), `DELETE /__mock/workspaces/NAME` drops one.

`WorkspaceMiddleware` (pure ASGI, so a request costs one header lookup and a contextvar set)
selects the workspace, records the request in its log and writes the access log line.
Handlers reach the domain through `DomainRouter`, a Domain-like object that forwards each call
to the domain of the current request's workspace: handlers run in the thread pool, and
Starlette's `run_in_threadpool` (anyio's `to_thread.run_sync`) runs them in a copy of the
request's context, so the contextvar set here is the one they read.

A Workspace is the place per-workspace settings live (its log today; later e.g. its faults).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .domain.service import Domain
from .problems import bounded, escape_controls
from .request_log import RequestLog, Recorder

if TYPE_CHECKING:  # controls imports this module
    from .controls import MockState

WORKSPACE_HEADER = "X-Mock-Workspace"
_HEADER_KEY = WORKSPACE_HEADER.lower().encode("ascii")  # ASGI header names are lower-case bytes
DEFAULT_WORKSPACE = "default"
MAX_WORKSPACES = 32  # the default one included; each holds a copy of the seed's state
WORKSPACE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
NAME_RULE = "1 to 64 characters among A-Z a-z 0-9 . _ -"

access_logger = logging.getLogger("mock_server.access")


class WorkspaceError(ValueError):
    """A workspace name that is not valid, or one workspace too many (answered 400)."""


@dataclass
class Workspace:
    name: str
    state: MockState
    requests: RequestLog = field(default_factory=RequestLog)
    created: float = field(default_factory=time.time)

    @property
    def domain(self) -> Domain:
        return self.state.domain


def check_name(name: str) -> str:
    if not WORKSPACE_NAME.match(name):
        raise WorkspaceError(f"a workspace name is {NAME_RULE}, not {bounded(repr(name), 80)}")
    return name


class Workspaces:
    """The workspaces by name; `make_state` builds the state of a new one (from the seed)."""

    def __init__(self, default: MockState, make_state: Callable[[str], MockState], limit: int = MAX_WORKSPACES,
                 on_delete: Callable[[str], None] | None = None) -> None:
        self._make_state = make_state
        self._on_delete = on_delete  # what else keeps settings per workspace forgets them
        self.limit = limit
        self._by_name: dict[str, Workspace] = {DEFAULT_WORKSPACE: Workspace(DEFAULT_WORKSPACE, default)}
        self._lock = threading.Lock()  # guards _by_name
        self._creating = threading.Lock()  # one creation at a time: the bound holds

    @property
    def default(self) -> Workspace:
        return self._by_name[DEFAULT_WORKSPACE]

    def get(self, name: str) -> Workspace | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._by_name)

    def all(self) -> list[Workspace]:
        with self._lock:
            return list(self._by_name.values())

    def obtain(self, name: str) -> Workspace:
        """The workspace `name`, created from the seed when it does not exist (slow: run it in a
        worker thread). WorkspaceError past the bound."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        with self._creating:
            found = self._by_name.get(name)
            if found is not None:
                return found
            if len(self._by_name) >= self.limit:
                raise WorkspaceError(
                    f"the mock holds {self.limit} workspaces, its limit: delete one with "
                    f"DELETE /__mock/workspaces/NAME before using a new name")
            workspace = Workspace(name, self._make_state(name))
            with self._lock:
                self._by_name[name] = workspace
            return workspace

    def delete(self, name: str) -> bool:
        """Drop `name`; False when it does not exist. The default workspace cannot be dropped."""
        if name == DEFAULT_WORKSPACE:
            raise WorkspaceError("the default workspace cannot be deleted (POST /__mock/reset resets it)")
        with self._lock:
            dropped = self._by_name.pop(name, None) is not None
        if dropped and self._on_delete is not None:
            self._on_delete(name)
        return dropped


_current: contextvars.ContextVar[Workspace] = contextvars.ContextVar("mock_workspace")


def current_workspace() -> Workspace:
    """The workspace of the request being answered."""
    return _current.get()


def use_workspace(workspace: Workspace) -> contextvars.Token[Workspace]:
    """Make `workspace` the current one (for code that runs outside a request, e.g. tests)."""
    return _current.set(workspace)


class DomainRouter:
    """Stands for the Domain of the current request's workspace: `router.search(...)` is
    `current_workspace().domain.search(...)`. Handlers are bound to it once, at resolve time."""

    def __init__(self, fallback: Callable[[], Workspace]) -> None:
        self._fallback = fallback  # outside a request (never in the server): the default one

    def __getattr__(self, name: str) -> Any:
        workspace = _current.get(None) or self._fallback()
        return getattr(workspace.state.domain, name)


def logged_path(path: str, token_path: str) -> bool:
    """Whether a request goes to the request log: the API a frontend calls (/v2 and the token
    URL); the controls, the dashboard and the docs are not recorded."""
    return path.startswith("/v2/") or path == token_path


class WorkspaceMiddleware:
    """Select the request's workspace, record the request in its log, write the access line."""

    def __init__(self, app: ASGIApp, workspaces: Workspaces, token_path: str) -> None:
        self.app = app
        self.workspaces = workspaces
        self.token_path = token_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        name = None
        for key, value in scope["headers"]:  # a scan of the raw list: cheaper than Headers()
            if key == _HEADER_KEY:
                name = value.decode("latin-1")
                break
        try:
            workspace = await self._workspace(name)
        except WorkspaceError as error:
            from .controls import problem

            response = problem(400, "Bad Request", f"{WORKSPACE_HEADER}: {error}", WORKSPACE_HEADER)
            await response(scope, receive, send)
            _access_line(scope, 400, started, name or DEFAULT_WORKSPACE)
            return
        token = _current.set(workspace)
        try:
            if logged_path(scope["path"], self.token_path):
                def log(answered: Recorder) -> None:
                    workspace.requests.add(answered.entry(workspace.name, time.perf_counter() - started))

                recorder = Recorder(scope, receive, send, log)
                try:
                    await self.app(scope, recorder.receive, recorder.send)
                finally:
                    recorder.log_once()  # an app that failed before its answer ended is logged too
                status = recorder.status
            else:
                status_box: list[int] = [0]

                async def send_status(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        status_box[0] = message["status"]
                    await send(message)

                await self.app(scope, receive, send_status)
                status = status_box[0]
        finally:
            _current.reset(token)
        _access_line(scope, status, started, workspace.name)

    async def _workspace(self, name: str | None) -> Workspace:
        if name is None:
            return self.workspaces.default
        found = self.workspaces.get(name)
        if found is not None:
            return found
        check_name(name)
        return await run_in_threadpool(self.workspaces.obtain, name)


def _access_line(scope: Scope, status: int, started: float, workspace: str) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    query = scope.get("query_string", b"").decode("latin-1")
    target = escape_controls(scope["path"] + (f"?{query}" if query else ""))
    where = "" if workspace == DEFAULT_WORKSPACE else f" [workspace {workspace}]"
    access_logger.info("%s %s -> %d (%.1f ms)%s", scope["method"], bounded(target, 300), status,
                       (time.perf_counter() - started) * 1000, where)

