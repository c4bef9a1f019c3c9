"""The two reference servers the benchmark compares the mock with.

* ``empty-connexion``: a Connexion ``AsyncApp`` with the mock's middleware and settings (its
  security handlers, its validator map, ``strict_validation=True``) over a minimal spec: one
  view-like ``GET`` and one index-like ``POST``, both answering a constant JSON document. What
  it costs is what Connexion itself costs per request.
* ``starlette``: bare Starlette routes at the same URLs answering the same constants: what the
  ASGI server and the framework's routing cost.

Both are served exactly as the mock's command line serves the mock (uvicorn, one process,
socket bound first so ``--port 0`` works, access log off)::

    python -m bench.baselines empty-connexion --port 0 --log-level warning
    python -m bench.baselines starlette --port 0 --log-level warning
"""

from __future__ import annotations

import argparse
import socket
import sys
import warnings
from collections.abc import Callable
from typing import Any

VIEW_PATH = "/v2/bench/view/{id}"
INDEX_PATH = "/v2/bench/index"
DEFAULT_TOKEN = "mock-token"

# What the constant endpoints answer: an entity-sized object, and a one-item page.
CONSTANT_ENTITY: dict[str, Any] = {
    "id": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f",
    "name": "Fire Safety Training Medium Risk",
    "subtenant_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "tenant_id": "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01",
}
CONSTANT_PAGE: list[dict[str, Any]] = [CONSTANT_ENTITY]
PAGE_HEADERS = {
    "X-Pagination-Current-Page": "1",
    "X-Pagination-Page-Count": "1",
    "X-Pagination-Per-Page": "100",
    "X-Pagination-Total-Count": "1",
}

# --- the minimal spec -----------------------------------------------------------------------


def _security_schemes() -> dict[str, Any]:
    """The same two schemes as the mock's spec (Bearer token, or `access-token` in the query)."""
    return {
        "oauth2": {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "/realms/4hse/protocol/openid-connect/token", "scopes": {}}},
        },
        "accessToken": {"type": "apiKey", "in": "query", "name": "access-token"},
    }


def _index_request_schema() -> dict[str, Any]:
    """Shaped like the mock's `XIndexRequest`. Unknown top-level keys are allowed so that the
    create scenario's body can be posted here too (the mock's create bodies allow them)."""
    return {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
            },
            "per-page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            "page": {"type": "integer", "minimum": 1, "default": 1},
            "sort": {"type": "string", "enum": ["name", "-name"]},
            "history": {"type": "boolean"},
        },
    }


def minimal_spec() -> dict[str, Any]:
    entity = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}
    ok = {"description": "constant", "content": {"application/json": {"schema": entity}}}
    page = {"description": "constant", "content": {"application/json": {"schema": {"type": "array", "items": entity}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "benchmark baseline", "version": "1.0.0"},
        "security": [{"oauth2": []}, {"accessToken": []}],
        "paths": {
            VIEW_PATH: {
                "get": {
                    "operationId": "bench_view",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
                    ],
                    "responses": {"200": ok},
                }
            },
            INDEX_PATH: {
                "post": {
                    "operationId": "bench_index",
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _index_request_schema()}},
                    },
                    "responses": {"200": page},
                }
            },
        },
        "components": {"securitySchemes": _security_schemes()},
    }


# --- the two apps ---------------------------------------------------------------------------


async def _view(id: str) -> tuple[dict[str, Any], int]:  # noqa: A002 - the path parameter's name
    return CONSTANT_ENTITY, 200


async def _index(body: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    return CONSTANT_PAGE, 200, PAGE_HEADERS


def empty_connexion_app(tokens: tuple[str, ...] = (DEFAULT_TOKEN,)) -> Any:
    """Connexion AsyncApp with the mock's security handlers, validators and strictness."""
    from connexion import AsyncApp
    from connexion.resolver import Resolver

    from mock_server import security
    from mock_server.validation import validator_map

    functions: dict[str, Callable[..., Any]] = {"bench_view": _view, "bench_index": _index}
    app = AsyncApp(__name__)
    app.add_api(
        minimal_spec(),
        resolver=Resolver(function_resolver=functions.__getitem__),
        strict_validation=True,
        validate_responses=False,
        validator_map=validator_map(),
        security_map=security.security_map(security.Tokens(tokens, {})),
    )
    return app


def starlette_app() -> Any:
    """Bare Starlette: the same URLs, the same constants, no validation and no security."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def view(request: Request) -> JSONResponse:
        return JSONResponse(CONSTANT_ENTITY)

    async def index(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(CONSTANT_PAGE, headers=PAGE_HEADERS)

    return Starlette(routes=[Route(VIEW_PATH, view, methods=["GET"]), Route(INDEX_PATH, index, methods=["POST"])])


APPS: dict[str, Callable[[], Any]] = {"empty-connexion": empty_connexion_app, "starlette": starlette_app}


# --- serving, as mock_server.__main__ does ---------------------------------------------------


def serve(app: Any, host: str, port: int, log_level: str) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"baseline listening on http://{bound_host}:{bound_port}", flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=log_level == "debug")
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines", description=__doc__.split("\n\n")[0])
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    serve(APPS[args.app](), args.host, args.port, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
