"""Test controls under /__mock/: outside /v2 and outside the API contract.

GET  /__mock/health   status, clock and how many entities each resource holds
POST /__mock/reset    back to the state loaded at start (the seed, re-dated to today)
GET  /__mock/state    the whole state as JSON (the seed format)
PUT  /__mock/state    replace the whole state (all or nothing; 400 names what broke)
GET  /__mock/clock    today's date as the mock sees it
PUT  /__mock/clock    {"today": "YYYY-MM-DD"} fixes it, {"today": null} follows the real date
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .domain.service import Domain


@dataclass
class MockState:
    domain: Domain
    initial: dict[str, Any]  # what reset loads again

    def reset(self) -> None:
        self.domain.load(self.initial)


def _error(message: str, field: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "Bad Request", "status": status, "detail": message, "field": field},
        status,
        media_type="application/problem+json",
    )


async def _json(request: Request) -> Any:
    return json.loads(await request.body() or b"null")


def routes(state: MockState) -> list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]]:
    domain = state.domain

    async def health(request: Request) -> Response:
        counts = {segment: len(table) for segment, table in domain.store.tables.items()}
        return JSONResponse({"status": "ok", "today": domain.clock.today().isoformat(), "entities": counts})

    async def reset(request: Request) -> Response:
        state.reset()
        return await health(request)

    async def state_(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(domain.export())
        try:
            data = await _json(request)
            if not isinstance(data, dict):
                return _error("the state is a JSON object with `directory` and `entities`", "body")
            domain.load(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return _error(str(error), "body")
        return await health(request)

    async def clock(request: Request) -> Response:
        if request.method == "PUT":
            try:
                data = await _json(request)
                today = data.get("today") if isinstance(data, dict) else None
                domain.clock.set(dt.date.fromisoformat(today) if today else None)
            except (ValueError, TypeError) as error:
                return _error(f"today must be YYYY-MM-DD or null: {error}", "today")
        return JSONResponse({"today": domain.clock.today().isoformat(), "fixed": domain.clock.fixed is not None})

    return [
        ("/__mock/health", health, ["GET"]),
        ("/__mock/reset", reset, ["POST"]),
        ("/__mock/state", state_, ["GET", "PUT"]),
        ("/__mock/clock", clock, ["GET", "PUT"]),
    ]
