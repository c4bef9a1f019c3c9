"""A simulated network in front of `/v2`: latency and injected faults.

An ASGI middleware (before Connexion's routing, security and validation) that, per request:
1. waits the configured latency (the operation's own, else the workspace's default range);
2. draws the fault rules that match the request, in order (one draw per matching rule, from
   the workspace's seeded `random.Random`); the first that hits decides:
   - `status` 500 / 503 / 429: a problem+json answer (503 and 429 with `Retry-After`),
   - `drop`: the connection is closed without an answer,
   - `slow_ms`: the answer is delayed that much more, then the operation runs as usual.
An error or a drop is answered before the operation runs, so it never changes the state.

Settings are kept per workspace, the value of the `X-Mock-Workspace` header ("default" when
absent). A workspace with nothing set uses the start-up settings (`--latency`, `--faults`).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import random
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import best_match
from starlette.types import ASGIApp, Receive, Scope, Send

from .state_format import StateError, excerpt, path_text, value_excerpt
from .workspaces import DEFAULT_WORKSPACE

logger = logging.getLogger("mock_server.network")

WORKSPACE_HEADER = "X-Mock-Workspace"
API_PREFIX = "/v2/"
FAULT_STATUSES = (500, 503, 429)
MAX_DELAY_MS = 60_000  # a latency or a slow answer of at most a minute
MAX_RULES = 100
DEFAULT_RETRY_AFTER_S = 1
MAX_SCOPES = 256  # workspaces with network settings of their own
MAX_WORKSPACE_CHARS = 200
FAULT_HEADER = "X-Mock-Fault"  # says which injected fault answered, for a reader of the traffic
RETRY_AFTER_HEADER = "Retry-After"
ANSWER_HEADERS = (FAULT_HEADER, RETRY_AFTER_HEADER)  # what this layer adds to answers (CORS exposes them)
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")

_DELAY = {"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS}
RULES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": MAX_RULES,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "operationId": {"type": "string", "maxLength": 200},
            "path": {"type": "string", "pattern": "^/", "maxLength": 500},
            "method": {"type": "string", "enum": list(METHODS)},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
            "status": {"enum": list(FAULT_STATUSES)},
            "retry_after": {"type": "integer", "minimum": 0, "maximum": 86_400},
            "drop": {"const": True},
            "slow_ms": {**_DELAY, "minimum": 1},
        },
    },
}
_RANGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["min_ms"],
    "properties": {"min_ms": _DELAY, "max_ms": _DELAY},
}
LATENCY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "default": {"anyOf": [{"type": "null"}, _RANGE]},
        "operations": {"type": "object", "maxProperties": 500, "additionalProperties": _RANGE},
    },
}
FAULT_KINDS = ("status", "drop", "slow_ms")


# --- rules and latency --------------------------------------------------------------------------

@dataclass(frozen=True)
class FaultRule:
    document: dict[str, Any]  # as sent, for GET
    probability: float
    kind: str  # one of FAULT_KINDS
    operation_id: str | None = None
    path: str | None = None  # a glob (`/v2/action/view/*`)
    method: str | None = None  # with `path`; None: any method
    status: int | None = None
    retry_after: int | None = None
    slow_ms: int = 0

    def matches(self, method: str, path: str, operation_id: str | None) -> bool:
        if self.operation_id is not None:
            return self.operation_id == operation_id
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path or "")


@dataclass(frozen=True)
class LatencyRange:
    min_ms: int
    max_ms: int

    def to_data(self) -> dict[str, int]:
        return {"min_ms": self.min_ms, "max_ms": self.max_ms}


@dataclass(frozen=True)
class Latency:
    default: LatencyRange | None = None
    operations: dict[str, LatencyRange] = field(default_factory=dict)

    def for_operation(self, operation_id: str | None) -> LatencyRange | None:
        return self.operations.get(operation_id or "", self.default)

    def to_data(self) -> dict[str, Any]:
        return {"default": self.default.to_data() if self.default else None,
                "operations": {op: r.to_data() for op, r in self.operations.items()}}


def schema_error(schema: dict[str, Any], document: Any) -> StateError | None:
    """The first error of `document` against `schema`, naming the field: a missing required key
    or an unknown key is named itself, not the object holding it."""
    error = best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    where = list(error.absolute_path)
    message = excerpt(error.message, 200)
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        where, message = [*where, missing[0]], "is required"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        unknown = [key for key in error.instance if key not in known]
        if unknown and known:
            where, message = [*where, unknown[0]], f"is not a field here (only {', '.join(known)})"
    return StateError(path_text(where), message)


def parse_rules(document: Any, operation_ids: frozenset[str]) -> list[FaultRule]:
    """The fault rules of a JSON list (StateError naming the field when it is not one)."""
    error = schema_error(RULES_SCHEMA, document)
    if error:
        raise error
    rules = []
    for index, item in enumerate(document):
        where = lambda name: path_text([index, name])  # noqa: E731
        targets = [name for name in ("operationId", "path") if name in item]
        if len(targets) != 1:
            raise StateError(where("operationId"), "a rule names exactly one of operationId or path")
        if "operationId" in item and item["operationId"] not in operation_ids:
            raise StateError(where("operationId"), f"is not an operationId of the API: {value_excerpt(item['operationId'])}")
        if "method" in item and "path" not in item:
            raise StateError(where("method"), "goes with path (an operationId implies its method)")
        kinds = [name for name in FAULT_KINDS if name in item]
        if len(kinds) != 1:
            raise StateError(where(kinds[1] if kinds else "status"),
                             "a rule has exactly one of status (500, 503, 429), drop (true) or slow_ms")
        if "retry_after" in item and item.get("status") not in (503, 429):
            raise StateError(where("retry_after"), "goes with status 503 or 429")
        status = item.get("status")
        rules.append(FaultRule(
            document=item, probability=float(item.get("probability", 1.0)), kind=kinds[0],
            operation_id=item.get("operationId"), path=item.get("path"), method=item.get("method"),
            status=status,
            retry_after=int(item.get("retry_after", DEFAULT_RETRY_AFTER_S)) if status in (503, 429) else None,
            slow_ms=int(item.get("slow_ms", 0)),
        ))
    return rules


def _range(document: dict[str, Any], where: list[Any]) -> LatencyRange:
    low = int(document["min_ms"])
    high = int(document.get("max_ms", low))
    if high < low:
        raise StateError(path_text([*where, "max_ms"]), f"must be at least min_ms ({low}), not {high}")
    return LatencyRange(low, high)


def parse_latency(document: Any, operation_ids: frozenset[str]) -> Latency:
    """A latency document `{"default": {"min_ms", "max_ms"} | null, "operations": {opId: range}}`."""
    error = schema_error(LATENCY_SCHEMA, document)
    if error:
        raise error
    operations = {}
    for operation_id, item in (document.get("operations") or {}).items():
        if operation_id not in operation_ids:
            raise StateError(path_text(["operations", operation_id]), "is not an operationId of the API")
        operations[operation_id] = _range(item, ["operations", operation_id])
    default = document.get("default")
    return Latency(_range(default, ["default"]) if default else None, operations)


_LATENCY_TEXT = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?\Z")


def parse_latency_text(text: str) -> LatencyRange:
    """`--latency 300` or `--latency 100-300` (milliseconds); ValueError when it is neither."""
    match = _LATENCY_TEXT.match(text)
    if not match:
        raise ValueError(f"expected MS or MIN-MAX in milliseconds, got {text!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low or high > MAX_DELAY_MS:
        raise ValueError(f"expected MIN <= MAX <= {MAX_DELAY_MS} ms, got {text!r}")
    return LatencyRange(low, high)


def read_rules_file(path: Path, operation_ids: frozenset[str]) -> list[FaultRule]:
    """The rules of a `--faults` file, YAML or JSON (OSError, or StateError naming the field)."""
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise StateError("body", f"not YAML or JSON: {excerpt(str(error), 200)}") from None
    return parse_rules(document, operation_ids)


# --- which operation a request is ---------------------------------------------------------------

class OperationFinder:
    """(method, path) -> operationId, from the spec's paths (`{id}` matches one path segment)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.routes: list[tuple[str, re.Pattern[str], str]] = []
        for template, item in spec.get("paths", {}).items():
            pattern = re.compile("".join(
                "[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}]+\})", template)
            ) + r"\Z")
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.routes.append((method.upper(), pattern, operation["operationId"]))
        self.operation_ids = frozenset(op for _, _, op in self.routes)

    def find(self, method: str, path: str) -> str | None:
        for route_method, pattern, operation_id in self.routes:
            if route_method == method and pattern.match(path):
                return operation_id
        return None


# --- the settings of every workspace ------------------------------------------------------------

@dataclass
class _Scope:
    rules: list[FaultRule]
    latency: Latency
    faults_random: random.Random
    latency_random: random.Random


class NetworkStore:
    """Fault rules and latency per workspace; each workspace draws from its own Random, seeded
    from `--fault-seed` and the workspace name, re-seeded when its rules are set."""

    def __init__(self, rules: list[FaultRule] | None = None, latency: Latency | None = None,
                 seed: int | None = None) -> None:
        self.seed = seed
        self._startup = (list(rules or []), latency or Latency())
        self._scopes: dict[str, _Scope] = {}
        self._lock = threading.Lock()

    def _random(self, workspace: str, purpose: str) -> random.Random:
        return random.Random(None if self.seed is None else f"{self.seed}:{purpose}:{workspace}")

    def _scope(self, workspace: str) -> _Scope:
        # A workspace with nothing set shares the start-up one (its Random too): names sent in a
        # header must not grow the store.
        scope = self._scopes.get(workspace) or self._scopes.get("")
        if scope is None:
            rules, latency = self._startup
            scope = self._scopes[""] = _Scope(rules, latency, self._random("", "faults"), self._random("", "latency"))
        return scope

    def _own(self, workspace: str) -> _Scope:
        if workspace not in self._scopes:
            if len(workspace) > MAX_WORKSPACE_CHARS:
                raise StateError(WORKSPACE_HEADER, f"a workspace name has at most {MAX_WORKSPACE_CHARS} characters")
            if len(self._scopes) > MAX_SCOPES:  # the shared start-up scope is one of them
                raise StateError(WORKSPACE_HEADER, f"at most {MAX_SCOPES} workspaces have network settings of their own")
            shared = self._scope(workspace)
            self._scopes[workspace] = _Scope(shared.rules, shared.latency, self._random(workspace, "faults"),
                                             self._random(workspace, "latency"))
        return self._scopes[workspace]

    def rules_for(self, workspace: str) -> list[FaultRule]:
        with self._lock:
            return list(self._scope(workspace).rules)

    def set(self, workspace: str, rules: list[FaultRule]) -> None:
        """Replace the workspace's rules; its draws start again from the seed (StateError when the
        workspace cannot have settings of its own)."""
        with self._lock:
            scope = self._own(workspace)
            scope.rules = list(rules)
            scope.faults_random = self._random(workspace, "faults")

    def clear(self, workspace: str) -> None:
        """No fault rules in the workspace (not even the start-up ones)."""
        self.set(workspace, [])

    def latency_for(self, workspace: str) -> Latency:
        with self._lock:
            return self._scope(workspace).latency

    def set_latency(self, workspace: str, latency: Latency) -> None:
        with self._lock:
            scope = self._own(workspace)
            scope.latency = latency
            scope.latency_random = self._random(workspace, "latency")

    def forget(self, workspace: str) -> None:
        """Back to the start-up settings (for a workspace that is removed)."""
        with self._lock:
            self._scopes.pop(workspace, None)

    def draw(self, workspace: str, method: str, path: str, operation_id: str | None) -> tuple[float, FaultRule | None]:
        """The latency in seconds and the fault (or None) of one request."""
        with self._lock:
            scope = self._scope(workspace)
            span = scope.latency.for_operation(operation_id)
            delay_ms = scope.latency_random.uniform(span.min_ms, span.max_ms) if span else 0.0
            fault = None
            for rule in scope.rules:
                if rule.matches(method, path, operation_id) and scope.faults_random.random() < rule.probability:
                    fault = rule
                    break
        return delay_ms / 1000, fault

    def describe(self, workspace: str) -> dict[str, Any]:
        """What `GET /__mock/health` shows of the workspace's network."""
        with self._lock:
            scope = self._scope(workspace)
            return {"faults": [rule.document for rule in scope.rules], "latency": scope.latency.to_data(),
                    "fault_seed": self.seed}


def workspace_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-mock-workspace":
            return value.decode("latin-1") or DEFAULT_WORKSPACE
    return DEFAULT_WORKSPACE


# --- the middleware -------------------------------------------------------------------------------

_TITLES = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}


class NetworkMiddleware:
    """ASGI middleware: latency and faults for `/v2` requests (see the module's docstring)."""

    def __init__(self, app: ASGIApp, store: NetworkStore, finder: OperationFinder) -> None:
        self.app = app
        self.store = store
        self.finder = finder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        delay, fault = self.store.draw(workspace_of(scope), method, path, self.finder.find(method, path))
        if fault is not None and fault.kind == "slow_ms":
            delay += fault.slow_ms / 1000
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "slow_ms":
            await self.app(scope, receive, _with_fault_header(send, "slow"))
        elif fault.kind == "drop":
            await _drop_connection(receive)
        else:
            await _fault_answer(fault, send)


def _with_fault_header(send: Send, value: str) -> Send:
    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (FAULT_HEADER.lower().encode(), value.encode())]}
        await send(message)

    return sending


async def _fault_answer(rule: FaultRule, send: Send) -> None:
    status = rule.status or 500
    body = json.dumps({
        "type": "about:blank", "title": _TITLES[status], "status": status,
        "detail": "a fault injected by the mock's network simulation (see /__mock/faults)",
    }).encode("ascii")
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
               (FAULT_HEADER.lower().encode(), f"status-{status}".encode())]
    if rule.retry_after is not None:
        headers.append((RETRY_AFTER_HEADER.lower().encode(), str(rule.retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _transport_of(receive: Receive) -> Any:
    """The connection's transport behind `receive`: uvicorn's `receive` is a method of its request
    cycle, which holds it; a middleware that wraps `receive` (the request log's recorder) keeps the
    one it wraps as `_receive`, so follow those down to the server's."""
    for _ in range(16):
        owner = getattr(receive, "__self__", None)
        transport = getattr(owner, "transport", None)
        if transport is not None:
            return transport
        receive = getattr(owner, "_receive", None)
        if receive is None:
            return None
    return None


async def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without an answer (ASGI has no message for it)."""
    transport = _transport_of(receive)
    if transport is None:
        raise RuntimeError("the server does not expose its transport: cannot drop the connection")
    transport.abort()
    # Let the server see the connection lost (it then expects no answer).
    for _ in range(3):
        await asyncio.sleep(0)
