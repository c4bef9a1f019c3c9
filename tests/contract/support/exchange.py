"""One request and its response, transport-neutral, and how to show it in a failure report.

Rules read `Exchange` objects only, so the same rule can judge an httpx answer (this suite) or a
Schemathesis `Response` (see `from_schemathesis`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

TOKEN_PLACEHOLDER = "$TOKEN"
SHOWN_BODY_CHARS = 1200


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str]  # lowercase names
    response_body: bytes
    label: str = field(default="", compare=False)

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None

    def request_json(self) -> Any:
        if not self.request_body:
            return None
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def from_httpx(response: httpx.Response, label: str = "") -> Exchange:
    request = response.request
    return Exchange(
        method=request.method,
        url=str(request.url),
        request_headers={k.lower(): v for k, v in request.headers.items()},
        request_body=request.content or None,
        status=response.status_code,
        response_headers={k.lower(): v for k, v in response.headers.items()},
        response_body=response.content,
        label=label,
    )


def from_schemathesis(response: Any) -> Exchange:
    """Adapter for `schemathesis.Response` (headers are lowercase names with list values)."""
    request = response.request
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    return Exchange(
        method=str(request.method),
        url=str(request.url),
        request_headers={k.lower(): v for k, v in request.headers.items()},
        request_body=body or None,
        status=response.status_code,
        response_headers={k.lower(): ", ".join(v) for k, v in response.headers.items()},
        response_body=response.content,
    )


def _redacted_url(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, TOKEN_PLACEHOLDER if k == "access-token" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    # keep $TOKEN readable for the shell instead of percent-encoding it
    encoded = urlencode(query, safe="$")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, encoded, parts.fragment))


def _truncated(text: str, limit: int = SHOWN_BODY_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more chars]"


def _body_text(body: bytes | None) -> str:
    if not body:
        return "(empty)"
    return _truncated(body.decode("utf-8", errors="replace"))


def curl_line(exchange: Exchange) -> str:
    """A shell line that repeats the request; the token is left as $TOKEN."""
    parts = ["curl", "-sS", "-i", "-X", exchange.method]
    url = _redacted_url(exchange.url)
    # double quotes so that the shell expands $TOKEN
    parts.append(f'"{url}"')
    authorization = exchange.request_headers.get("authorization")
    if authorization is not None:
        scheme = authorization.split(" ", 1)[0] if " " in authorization else ""
        value = f"{scheme} {TOKEN_PLACEHOLDER}" if scheme else TOKEN_PLACEHOLDER
        parts += ["-H", f'"Authorization: {value}"']
    content_type = exchange.request_headers.get("content-type")
    if content_type:
        parts += ["-H", shlex.quote(f"Content-Type: {content_type}")]
    if exchange.request_body:
        parts += ["--data-raw", shlex.quote(exchange.request_body.decode("utf-8", errors="replace"))]
    return " ".join(parts)


def render(exchange: Exchange) -> str:
    shown_headers = {k: v for k, v in exchange.response_headers.items() if k.startswith("x-pagination") or k == "content-type"}
    lines = [
        f"Request: {exchange.method} {_redacted_url(exchange.url)}" + (f"   ({exchange.label})" if exchange.label else ""),
        f"  body: {_body_text(exchange.request_body)}",
        f"Response: {exchange.status}",
        f"  headers: {json.dumps(shown_headers, sort_keys=True)}",
        f"  body: {_body_text(exchange.response_body)}",
        f"Reproduce: {curl_line(exchange)}",
    ]
    return "\n".join(lines)
