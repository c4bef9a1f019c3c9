"""Test controls under /__mock/: outside /v2 and outside the API contract.

GET  /__mock/health   status, clock and how many entities each resource holds
POST /__mock/reset    back to the seed, its relative dates resolved for the clock's today
GET  /__mock/state    the whole state as JSON (the seed format)
PUT  /__mock/state    replace the whole state (checked whole first; 400 names the field)
GET  /__mock/clock    today's date as the mock sees it
PUT  /__mock/clock    {"today": "YYYY-MM-DD"} fixes it, {"today": null} follows the real date

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

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .domain.service import Domain
from .seed import resolve_seed
from .state_format import StateChecker, StateError, excerpt, parse_state, path_text, serialize_state, value_excerpt

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
    # Sections other modules add to /__mock/health (each answers a dict of top-level keys).
    health_sections: list[Callable[[Request], dict[str, Any]]] = field(default_factory=list)
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


def _guarded(endpoint: Endpoint, token: str | None) -> Endpoint:
    if token is None:
        return endpoint

    async def guarded(request: Request) -> Response:
        if not _presents_token(request, token):
            return problem(
                401, "Unauthorized",
                f"the test controls need the mock's control token, as {CONTROL_TOKEN_HEADER}: TOKEN or Authorization: Bearer TOKEN",
                CONTROL_TOKEN_HEADER, headers={"WWW-Authenticate": 'Bearer realm="mock-controls"'},
            )
        return await endpoint(request)

    return guarded


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


async def _small_body(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes (StateError past it)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise StateError("body", f"a clock body has at most {limit} bytes")
    return body


def _parse_clock_body(raw: bytes) -> dt.date | None:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StateError("body", 'the body is not JSON: send {"today": "YYYY-MM-DD"} or {"today": null}') from None
    return clock_date(document)


def routes(state: MockState) -> list[tuple[str, Endpoint, list[str]]]:
    domain = state.domain
    field_order = {segment: resource.stored for segment, resource in domain.resources.items()}

    def counts() -> dict[str, Any]:
        # No lock: one read of the store reference, then the length of each of its tables.
        store = domain.store
        return {"status": "ok", "today": domain.clock.today().isoformat(),
                "entities": {segment: len(table) for segment, table in store.tables.items()}}

    async def health(request: Request) -> Response:
        body = counts()
        for section in state.health_sections:
            body.update(section(request))
        return AsciiJSONResponse(body)

    async def reset(request: Request) -> Response:
        try:
            await run_in_threadpool(state.reset)
        except StateError as error:
            # Only a clock that follows the real date can reach a day the seed was not checked on.
            detail = f"the seed does not load on {domain.clock.today().isoformat()}: {error.field}: {error.message}"
            return problem(409, "Conflict", excerpt(detail, 400), "today")
        return AsciiJSONResponse(counts())

    async def export_state(request: Request) -> Response:
        snapshot = domain.snapshot()  # under the lock, fast; writing it is not
        body = await run_in_threadpool(
            lambda: serialize_state(snapshot.directory.to_data(), snapshot.entities, field_order))
        return Response(body, media_type="application/json")

    async def import_state(request: Request) -> Response:
        raw = await request.body()
        try:
            await run_in_threadpool(state.import_state, raw)
        except StateError as error:
            return _bad_request(error)
        return AsciiJSONResponse(counts())

    async def state_(request: Request) -> Response:
        return await (export_state if request.method == "GET" else import_state)(request)

    async def clock(request: Request) -> Response:
        if request.method == "PUT":
            try:
                today = _parse_clock_body(await _small_body(request, MAX_CLOCK_BODY_BYTES))
            except StateError as error:
                return _bad_request(error)
            day = today or dt.date.today()
            try:
                await run_in_threadpool(state.check_seed_loads_at, day)
            except StateError as error:
                detail = f"on {day.isoformat()} the seed that reset loads would not load: {error.field}: {error.message}"
                return problem(400, "Bad Request", excerpt(detail, 400), "today")
            domain.clock.set(today)
        return AsciiJSONResponse({"today": domain.clock.today().isoformat(), "fixed": domain.clock.fixed is not None})

    endpoints: list[tuple[str, Endpoint, list[str]]] = [
        ("/__mock/health", health, ["GET"]),
        ("/__mock/reset", reset, ["POST"]),
        ("/__mock/state", state_, ["GET", "PUT"]),
        ("/__mock/clock", clock, ["GET", "PUT"]),
    ]
    return [(path, _guarded(endpoint, state.control_token), methods) for path, endpoint, methods in endpoints]

