"""Controls of the simulated network, under /__mock/ (scoped by `X-Mock-Workspace`):

GET    /__mock/faults    the workspace's fault rules
PUT    /__mock/faults    replace them: a JSON list of rules (400 names the field)
DELETE /__mock/faults    no fault rules
GET    /__mock/latency   the workspace's latency {"default": range|null, "operations": {opId: range}}
PUT    /__mock/latency   replace it (400 names the field)
DELETE /__mock/latency   no latency
GET    /__mock/webhooks  the receivers and the delivery log (every attempt and its status)
PUT    /__mock/webhooks  {"urls": [...], "secret": str|null}: the receivers from now on
"""

from __future__ import annotations

import json
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from .controls import AsciiJSONResponse, Endpoint, guarded, problem, small_body
from .network import NetworkStore, OperationFinder, parse_latency, parse_rules, workspace_of
from .state_format import StateError
from .webhooks import WebhookSender, parse_config

MAX_BODY_BYTES = 64 * 1024


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The JSON body, at most `limit` bytes (StateError naming `body` otherwise)."""
    body = await small_body(request, limit)
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StateError("body", "the body is not JSON") from None


def _settings_endpoint(read: Callable[[str], Any], write: Callable[[str, Any], None],
                       clear: Callable[[str], None]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        workspace = workspace_of(request.scope)
        try:
            if request.method == "PUT":
                write(workspace, await read_json(request))
            elif request.method == "DELETE":
                clear(workspace)
        except StateError as error:
            return problem(400, "Bad Request", f"{error.field}: {error.message}", error.field)
        return AsciiJSONResponse(read(workspace))

    return endpoint


def routes(store: NetworkStore, finder: OperationFinder, control_token: str | None,
           origin_allowed: Callable[[str], bool] = lambda origin: False) -> list[tuple[str, Endpoint, list[str]]]:
    operation_ids = finder.operation_ids
    faults = _settings_endpoint(
        read=lambda ws: [rule.document for rule in store.rules_for(ws)],
        write=lambda ws, document: store.set(ws, parse_rules(document, operation_ids)),
        clear=store.clear,
    )
    latency = _settings_endpoint(
        read=lambda ws: store.latency_for(ws).to_data(),
        write=lambda ws, document: store.set_latency(ws, parse_latency(document, operation_ids)),
        clear=lambda ws: store.set_latency(ws, parse_latency({}, operation_ids)),
    )
    endpoints = [
        ("/__mock/faults", faults, ["GET", "PUT", "DELETE"]),
        ("/__mock/latency", latency, ["GET", "PUT", "DELETE"]),
    ]
    return [(path, guarded(endpoint, control_token, origin_allowed), methods) for path, endpoint, methods in endpoints]


def webhook_routes(sender: WebhookSender, control_token: str | None,
                   origin_allowed: Callable[[str], bool] = lambda origin: False) -> list[tuple[str, Endpoint, list[str]]]:
    async def webhooks(request: Request) -> Response:
        if request.method == "PUT":
            try:
                urls, secret = parse_config(await read_json(request))
            except StateError as error:
                return problem(400, "Bad Request", f"{error.field}: {error.message}", error.field)
            sender.configure(urls, secret)
        return AsciiJSONResponse(sender.describe())

    return [("/__mock/webhooks", guarded(webhooks, control_token, origin_allowed), ["GET", "PUT"])]


def health_section(store: NetworkStore) -> Callable[[str], dict[str, Any]]:
    """For `/__mock/health` and the dashboard: the network settings of a workspace."""
    return lambda workspace: {"network": store.describe(workspace)}
