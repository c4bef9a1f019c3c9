"""CORS, so that a browser app served from another origin can call the mock.

Starlette's CORSMiddleware, placed outside Connexion's exception, routing, security and
validation layers: a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
there, for every path (/v2, the token URL, /__mock/), before any of them sees it.

- Default origins: `http://localhost:PORT` and `http://127.0.0.1:PORT`, any port (and `[::1]`).
- `--cors-origin ORIGIN` (repeatable) lists origins instead; `*` allows every origin.
- `--no-cors`: no CORS headers at all (the browser's same-origin policy applies).
- Credentials (cookies, Authorization) are allowed for the allowed origins; with `*` the
  middleware then answers the request's own origin, never a literal `*`, as browsers require.
- `Access-Control-Expose-Headers` lists every response header the spec documents (the
  `X-Pagination-*` ones, `WWW-Authenticate` of a 401) and the ones the simulated network adds
  (`X-Mock-Fault`, `Retry-After` of an injected 503 or 429), and `Allow` of a 405, so browser
  code can read them.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from connexion.middleware import MiddlewarePosition
from starlette.middleware.cors import CORSMiddleware

from . import network

# Headers of answers that neither the spec nor a layer of the mock declares: Starlette's routing
# names a route's methods in the `Allow` of a 405.
ROUTING_HEADERS = ("Allow",)
LOCAL_ORIGINS = r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"
PREFLIGHT_MAX_AGE_S = 600


def documented_response_headers(spec: dict[str, Any]) -> set[str]:
    """The names of the response headers the spec documents: its reusable headers and the
    headers of every response, of the operations and of components.responses."""
    components = spec.get("components", {})
    responses = list(components.get("responses", {}).values())
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                responses.extend(operation.get("responses", {}).values())
    names = set(components.get("headers", {}))
    for response in responses:  # a `$ref` response has no headers of its own: they are its target's
        names.update(response.get("headers", {}))
    return names


def exposed_headers(spec: dict[str, Any]) -> list[str]:
    """The headers a page of an allowed origin may read: every response header the spec
    documents, those the simulated network adds to its answers and the routing's, sorted."""
    return sorted(documented_response_headers(spec) | set(network.ANSWER_HEADERS) | set(ROUTING_HEADERS))


def cors_options(origins: Iterable[str] | None, spec: dict[str, Any]) -> dict[str, Any]:
    """CORSMiddleware's options: `origins` None means the local origins of any port."""
    listed = list(origins) if origins is not None else []
    return {
        "allow_origins": listed,
        "allow_origin_regex": LOCAL_ORIGINS if origins is None else None,
        "allow_methods": ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
        "allow_headers": ["*"],  # mirrored back: Authorization, Content-Type, X-Mock-Workspace...
        "allow_credentials": True,
        "expose_headers": exposed_headers(spec),
        "max_age": PREFLIGHT_MAX_AGE_S,
    }


def origin_policy(enabled: bool, origins: Iterable[str] | None) -> Callable[[str], bool]:
    """Whether CORS lets a page of `origin` call the mock (the same rule as the middleware's)."""
    if not enabled:
        return lambda origin: False
    if origins is None:
        local = re.compile(LOCAL_ORIGINS)
        return lambda origin: local.fullmatch(origin) is not None
    listed = frozenset(origins)
    return lambda origin: "*" in listed or origin in listed


def add_cors(app: Any, origins: Iterable[str] | None, spec: dict[str, Any]) -> None:
    """Add CORS to a Connexion AsyncApp; call it before any other BEFORE_EXCEPTION middleware, so
    that it is the outermost (the others' answers, a 400 among them, carry its headers)."""
    app.add_middleware(CORSMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, **cors_options(origins, spec))
