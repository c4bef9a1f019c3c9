"""Test controls under /__mock/: outside /v2 and outside the API contract.

GET  /__mock/health   status, clock and how many entities each resource holds
POST /__mock/reset    back to the seed, its relative dates resolved for the clock's today
GET  /__mock/state    the whole state as JSON (the seed format)
PUT  /__mock/state    replace the whole state (checked whole first; 400 names the field)
GET  /__mock/clock    today's date as the mock sees it
PUT  /__mock/clock    {"today": "YYYY-MM-DD"} fixes it, {"today": null} follows the real date
GET  /__mock/directory           projects, offices and resources (people, equipment) with their ids
GET  /__mock/requests            the request log, newest first (?path= ?status= ?method= ?workspace= ?limit=)
DELETE /__mock/requests          empty it
GET  /__mock/workspaces          the workspaces; DELETE /__mock/workspaces/NAME drops one
POST /__mock/save                write the default workspace to the --state-file

Each acts on the workspace the request names (X-Mock-Workspace, see workspaces.py).

Imports, exports and resets parse, build and write in a worker thread, off to the side of the
live state (see Domain.build), so health and /v2 requests are answered meanwhile; health never
takes the domain's lock. With a control token (`--control-token`) every call needs it.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .domain.service import Domain
from .request_log import MAX_LISTED, RequestFilter
from .seed import resolve_seed
from .state_format import StateChecker, StateError, excerpt, parse_state, path_text, serialize_state, value_excerpt
from .workspaces import (DEFAULT_WORKSPACE, WORKSPACE_HEADER, Workspace, WorkspaceError, Workspaces, check_name,
                         current_workspace)

Endpoint = Callable[[Request], Awaitable[Response]]

CONTROL_TOKEN_HEADER = "X-Mock-Control-Token"
MAX_CLOCK_BODY_BYTES = 1024  # `{"today": "YYYY-MM-DD"}` is 23
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # ASCII digits, no trailing newline
CHECKED_DATES_KEPT = 1024  # clock dates at which the reset seed is known to load


@dataclass
class MockState:
    domain: Domain
    seed: dict[str, Any]  # what reset loads again, its relative dates unresolved
    checker: StateChecker
    control_token: str | None = None
    # Sections other modules add to /__mock/health and the dashboard: for a workspace's name, a
    # dict of top-level keys.
    health_sections: list[Callable[[str], dict[str, Any]]] = field(default_factory=list)
    _loadable_dates: OrderedDict[dt.date, None] = field(default_factory=OrderedDict)
    _dates_lock: threading.Lock = field(default_factory=threading.Lock)  # worker threads share them

    def _build_and_adopt(self, make: Callable[[], dict[str, Any]]) -> None:
        with collector_paused():
            self.domain.adopt(self.domain.build(make()))

    def _seed_for(self, today: dt.date) -> dict[str, Any]:
        data = resolve_seed(self.seed, today)
        self.checker.check_state(data)
        return data

    def reset(self) -> None:
        """Load the seed again, its relative dates resolved for the clock's today."""
        today = self.domain.clock.today()
        self._build_and_adopt(lambda: self._seed_for(today))
        self._remember(today)

    def check_seed_loads_at(self, today: dt.date) -> None:
        """StateError unless a reset at `today` would load the seed (tried off to the side)."""
        with self._dates_lock:
            if today in self._loadable_dates:
                return
        with collector_paused():
            self.domain.build(self._seed_for(today), today)
        self._remember(today)

    def _remember(self, today: dt.date) -> None:
        with self._dates_lock:
            self._loadable_dates[today] = None
            self._loadable_dates.move_to_end(today)
            while len(self._loadable_dates) > CHECKED_DATES_KEPT:
                self._loadable_dates.popitem(last=False)

    def import_state(self, raw: bytes) -> None:
        """Replace the state by a JSON document in the seed format, taken as it is."""
        def checked() -> dict[str, Any]:
            document = parse_state(raw)
            self.checker.check_state(document)
            return document

        self._build_and_adopt(checked)


_paused_builds = 0
_paused_builds_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a state is parsed and built. Building
    creates a million objects, and each full collection meanwhile walks every object of the
    process holding the GIL (a quarter of a second and more with a 50 MB state), which keeps every
    other request waiting; state rows hold no reference cycles, reference counting frees them."""
    global _paused_builds
    with _paused_builds_lock:
        _paused_builds += 1
        gc.disable()
    try:
        yield
    finally:
        with _paused_builds_lock:
            _paused_builds -= 1
            if _paused_builds == 0:
                gc.enable()


class AsciiJSONResponse(Response):
    """JSON with every non-ASCII character escaped: a lone surrogate quoted from a client key
    cannot make the answer fail."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem(status: int, title: str, detail: str, field: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "field": field}
    response = AsciiJSONResponse(body, status, headers=headers)
    response.headers["Content-Type"] = "application/problem+json"
    return response


def _bad_request(error: StateError) -> Response:
    return problem(400, "Bad Request", f"{error.field}: {error.message}", error.field)


def _presents_token(request: Request, token: str) -> bool:
    """The control token as `X-Mock-Control-Token: T` or `Authorization: Bearer T`."""
    candidates = [request.headers.get(CONTROL_TOKEN_HEADER, "")]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        candidates.append(credentials.strip())
    return any(secrets.compare_digest(c.encode("utf-8", "replace"), token.encode("utf-8")) for c in candidates if c)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def foreign_write(request: Request, origin_allowed: Callable[[str], bool]) -> bool:
    """A write sent by a page of an origin that is neither the mock's own nor one CORS allows.
    A browser sends a form post or a simple fetch whatever CORS says (CORS only hides the
    answer), so the controls refuse it themselves; clients that are not browsers send no Origin."""
    if request.method not in UNSAFE_METHODS:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin != "null" and urlsplit(origin).netloc == request.headers.get("host", ""):
        return False  # the mock's own pages (the dashboard, Swagger UI)
    return not origin_allowed(origin)


def guarded(endpoint: Endpoint, token: str | None,
            origin_allowed: Callable[[str], bool] = lambda origin: False) -> Endpoint:
    """`endpoint` behind the control token (when set) and the refusal of foreign writes."""

    async def checked(request: Request) -> Response:
        if token is not None and not _presents_token(request, token):
            return problem(
                401, "Unauthorized",
                f"the test controls need the mock's control token, as {CONTROL_TOKEN_HEADER}: TOKEN or Authorization: Bearer TOKEN",
                CONTROL_TOKEN_HEADER, headers={"WWW-Authenticate": 'Bearer realm="mock-controls"'},
            )
        if foreign_write(request, origin_allowed):
            return problem(403, "Forbidden", "the controls refuse writes from pages of origins that CORS does not allow "
                                             f"(Origin {value_excerpt(request.headers.get('origin'))})", "Origin")
        return await endpoint(request)

    return checked


def clock_date(document: Any) -> dt.date | None:
    """The date of a clock body: exactly `{"today": "YYYY-MM-DD"}` or `{"today": null}`."""
    if not isinstance(document, dict):
        raise StateError("body", f'the body is {{"today": "YYYY-MM-DD"}} or {{"today": null}}, not {value_excerpt(document)}')
    unknown = [key for key in document if key != "today"]
    if unknown:
        raise StateError(path_text([unknown[0]]), 'is not a field of the clock (only "today")')
    if "today" not in document:
        raise StateError("today", 'is required: a date "YYYY-MM-DD", or null for the real date')
    today = document["today"]
    if today is None:
        return None
    if not isinstance(today, str) or not _ISO_DATE.match(today):
        raise StateError("today", f"must be a date YYYY-MM-DD or null, not {value_excerpt(today)}")
    try:
        return dt.date.fromisoformat(today)
    except ValueError:
        raise StateError("today", f"is not a day of the calendar: {value_excerpt(today)}") from None


async def small_body(request: Request, limit: int, what: str = "body here") -> bytes:
    """The body, read no further than `limit` bytes (StateError naming `body` past it)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise StateError("body", f"a {what} has at most {limit} bytes")
    return body


def _parse_clock_body(raw: bytes) -> dt.date | None:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StateError("body", 'the body is not JSON: send {"today": "YYYY-MM-DD"} or {"today": null}') from None
    return clock_date(document)


def _workspace_problem(error: Exception) -> Response:
    return problem(400, "Bad Request", str(error), WORKSPACE_HEADER)


def _query_problem(name: str, message: str) -> Response:
    return problem(400, "Bad Request", f"{name}: {message}", name)


def _int_param(request: Request, name: str, low: int, high: int) -> int | None:
    """Query parameter `name` as an integer in low..high (None when absent); ValueError naming it."""
    text = request.query_params.get(name)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"must be an integer from {low} to {high}, not {value_excerpt(text)}")
    return int(text)


REQUESTS_PARAMETERS = frozenset({"path", "status", "method", "workspace", "limit"})


def requests_query(request: Request) -> tuple[RequestFilter, str | None, int]:
    """The filter, the workspace (None: the request's own; "*": all) and the limit of
    `GET /__mock/requests`; (name, message) in a ValueError for a bad parameter."""
    unknown = sorted(set(request.query_params) - REQUESTS_PARAMETERS)
    if unknown:
        raise ValueError(unknown[0], f"is not a parameter of /__mock/requests (only {', '.join(sorted(REQUESTS_PARAMETERS))})")
    try:
        status = _int_param(request, "status", 1, 599)
    except ValueError as error:
        raise ValueError("status", f"{error} (1-5 for a class: 4 is every 4xx)") from None
    if status is not None and 5 < status < 100:
        raise ValueError("status", "is a class 1-5 or a status 100-599")
    try:
        limit = _int_param(request, "limit", 1, MAX_LISTED) or MAX_LISTED
    except ValueError as error:
        raise ValueError("limit", str(error)) from None
    method = request.query_params.get("method")
    wanted = RequestFilter(path=request.query_params.get("path"), status=status,
                           method=method.upper() if method else None)
    return wanted, request.query_params.get("workspace"), limit


def counts_of(workspace: Workspace) -> dict[str, Any]:
    # No lock: one read of the store reference, then the length of each of its tables.
    domain = workspace.domain
    store = domain.store
    return {"status": "ok", "today": domain.clock.today().isoformat(),
            "entities": {segment: len(table) for segment, table in store.tables.items()}}


def clock_answer(domain: Domain) -> dict[str, Any]:
    return {"today": domain.clock.today().isoformat(), "fixed": domain.clock.fixed is not None}


async def set_clock(state: MockState, today: dt.date | None) -> Response | None:
    """Move the workspace's clock to `today` (None: the real date); a 400 when the seed that
    reset loads would not load on that day."""
    day = today or dt.date.today()
    try:
        await run_in_threadpool(state.check_seed_loads_at, day)
    except StateError as error:
        detail = f"on {day.isoformat()} the seed that reset loads would not load: {error.field}: {error.message}"
        return problem(400, "Bad Request", excerpt(detail, 400), "today")
    state.domain.clock.set(today)
    return None


async def reset_workspace(state: MockState) -> Response | None:
    try:
        await run_in_threadpool(state.reset)
    except StateError as error:
        # Only a clock that follows the real date can reach a day the seed was not checked on.
        detail = f"the seed does not load on {state.domain.clock.today().isoformat()}: {error.field}: {error.message}"
        return problem(409, "Conflict", excerpt(detail, 400), "today")
    return None


def routes(registry: Workspaces, saver: Callable[[], Awaitable[Response]] | None = None,
           origin_allowed: Callable[[str], bool] = lambda origin: False) -> list[tuple[str, Endpoint, list[str]]]:
    """The control endpoints; each acts on the workspace of the request (X-Mock-Workspace).
    `saver`: answers `POST /__mock/save` (None: the mock has no state file). `origin_allowed`:
    the CORS rule, for the refusal of writes from foreign pages."""

    def here() -> Workspace:
        return current_workspace()

    async def health(request: Request) -> Response:
        workspace = here()
        body = counts_of(workspace)
        for section in workspace.state.health_sections:
            body.update(section(workspace.name))
        return AsciiJSONResponse(body)

    async def reset(request: Request) -> Response:
        workspace = here()
        failed = await reset_workspace(workspace.state)
        return failed or AsciiJSONResponse(counts_of(workspace))

    async def export_state(request: Request) -> Response:
        domain = here().domain
        field_order = {segment: resource.stored for segment, resource in domain.resources.items()}
        snapshot = domain.snapshot()  # under the lock, fast; writing it is not
        body = await run_in_threadpool(
            lambda: serialize_state(snapshot.directory.to_data(), snapshot.entities, field_order))
        return Response(body, media_type="application/json")

    async def import_state(request: Request) -> Response:
        workspace = here()
        raw = await request.body()
        try:
            await run_in_threadpool(workspace.state.import_state, raw)
        except StateError as error:
            return _bad_request(error)
        return AsciiJSONResponse(counts_of(workspace))

    async def state_(request: Request) -> Response:
        return await (export_state if request.method == "GET" else import_state)(request)

    async def clock(request: Request) -> Response:
        state = here().state
        if request.method == "PUT":
            try:
                today = _parse_clock_body(await small_body(request, MAX_CLOCK_BODY_BYTES, "clock body"))
            except StateError as error:
                return _bad_request(error)
            failed = await set_clock(state, today)
            if failed:
                return failed
        return AsciiJSONResponse(clock_answer(state.domain))

    async def directory(request: Request) -> Response:
        return AsciiJSONResponse(here().domain.directory.to_data())

    async def requests_(request: Request) -> Response:
        if request.method == "DELETE":
            here().requests.clear()
            return Response(status_code=204)
        try:
            wanted, name, limit = requests_query(request)
        except ValueError as error:
            return _query_problem(*error.args)
        if name == "*":
            sources = registry.all()
        elif name is not None:
            found = registry.get(name)
            if found is None:
                return problem(404, "Not Found", f"no workspace {value_excerpt(name)}", "workspace")
            sources = [found]
        else:
            sources = [here()]
        entries = [entry for source in sources for entry in source.requests.newest_first(wanted, limit)]
        entries.sort(key=lambda entry: entry.id, reverse=True)
        return AsciiJSONResponse([entry.as_json() for entry in entries[:limit]])

    async def workspaces(request: Request) -> Response:
        listed = [{"name": w.name, "today": w.domain.clock.today().isoformat(), "fixed": w.domain.clock.fixed is not None,
                   "entities": sum(len(table) for table in w.domain.store.tables.values()),
                   "requests": len(w.requests)} for w in registry.all()]
        return AsciiJSONResponse({"limit": registry.limit, "workspaces": listed})

    async def workspace(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            deleted = registry.delete(check_name(name))
        except WorkspaceError as error:
            return problem(400, "Bad Request", str(error), "name")
        if not deleted:
            return problem(404, "Not Found", f"no workspace {value_excerpt(name)}", "name")
        return Response(status_code=204)

    async def save(request: Request) -> Response:
        if saver is None:
            return problem(409, "Conflict", "the mock was started without --state-file: there is nothing to save to",
                           "state-file")
        if here().name != DEFAULT_WORKSPACE:
            return _workspace_problem(f"{WORKSPACE_HEADER}: only the default workspace is saved to the state file")
        return await saver()

    endpoints: list[tuple[str, Endpoint, list[str]]] = [
        ("/__mock/health", health, ["GET"]),
        ("/__mock/reset", reset, ["POST"]),
        ("/__mock/state", state_, ["GET", "PUT"]),
        ("/__mock/clock", clock, ["GET", "PUT"]),
        ("/__mock/directory", directory, ["GET"]),
        ("/__mock/requests", requests_, ["GET", "DELETE"]),
        ("/__mock/workspaces", workspaces, ["GET"]),
        ("/__mock/workspaces/{name}", workspace, ["DELETE"]),
        ("/__mock/save", save, ["POST"]),
    ]
    token = registry.default.state.control_token
    return [(path, guarded(endpoint, token, origin_allowed), methods) for path, endpoint, methods in endpoints]
