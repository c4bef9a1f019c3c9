"""CORS, so that a browser app served from another origin can call the mock.

Starlette's CORSMiddleware, placed outside Connexion's exception, routing, security and
validation layers: a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
there, for every path (/v2, the token URL, /__mock/), before any of them sees it.

- Default origins: `http://localhost:PORT` and `http://127.0.0.1:PORT`, any port (and `[::1]`).
- `--cors-origin ORIGIN` (repeatable) lists origins instead; `*` allows every origin.
- `--no-cors`: no CORS headers at all (the browser's same-origin policy applies).
- Credentials (cookies, Authorization) are allowed for the allowed origins; with `*` the
  middleware then answers the request's own origin, never a literal `*`, as browsers require.
- `Access-Control-Expose-Headers` lists every response header the spec declares (the
  `X-Pagination-*` ones), so browser code can read them.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from connexion.middleware import MiddlewarePosition
from starlette.middleware.cors import CORSMiddleware

LOCAL_ORIGINS = r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"
PREFLIGHT_MAX_AGE_S = 600


def exposed_headers(spec: dict[str, Any]) -> list[str]:
    """The response headers the spec declares (components.headers), sorted."""
    return sorted(spec.get("components", {}).get("headers", {}))


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
