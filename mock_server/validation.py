"""Schema validation with formats checked, and the Connexion validators that use it.

Connexion validates with jsonschema's Draft 4 format checker, which knows neither `uuid` nor
`date` (see the README). Every validator here uses `FORMAT_CHECKER` instead, and every 400 it
raises names the offending request field in a `field` member of the problem object and quotes
at most an excerpt of the value. Bodies are parsed by `parse_json`, within the limits the API
can store (nesting, integer size, Unicode text); two small ASGI middlewares keep the path and
the Content-Type of a request from reaching the app in a form Starlette mishandles.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import typing as t
import warnings

import jsonschema
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.middleware import MiddlewarePosition
from connexion.validators import (
    VALIDATOR_MAP,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    ParameterValidator,
)
from jsonschema.exceptions import ValidationError, best_match
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import EXCERPT_CHARS, bounded, escape_controls, excerpt

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())

# Whole-string matches over ASCII digits: `re.match(...$)` also accepts a final "\n", and `\d`
# accepts any Unicode digit ("١٧"); neither can be stored as a uuid or a date.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@FORMAT_CHECKER.checks("uuid")
def is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


@FORMAT_CHECKER.checks("date")
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- `pattern` as ECMA 262 reads it ----------------------------------------------------------
# The spec's patterns (the date-time fields) are ECMA regular expressions anchored `^...$`. In
# ECMA a closing `$` is the end of the text; Python's `$` also matches before a final newline,
# so jsonschema's `re.search` would take "2024-03-15T09:00:00\n". The mock reads a closing `$`
# as `\Z` (what Schemathesis does when it draws values) and matches ASCII digits only.


@functools.lru_cache(maxsize=64)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled with the meaning ECMA gives it: a closing unescaped `$` ends the text."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)


def _ecma_pattern_keyword(validator, pattern: str, instance: t.Any, schema: dict[str, t.Any]):
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


RequestValidator = jsonschema.validators.extend(Draft4RequestValidator, {"pattern": _ecma_pattern_keyword})
ResponseValidator = jsonschema.validators.extend(Draft4ResponseValidator, {"pattern": _ecma_pattern_keyword})


# --- JSON within limits ----------------------------------------------------------------------

MAX_JSON_DEPTH = 64  # nested objects/arrays
MAX_INTEGER_DIGITS = 20  # longer literals are refused before Python converts them
FIELD_CHARS = 100  # a `field` quotes keys the client chose

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class UnacceptableJson(ValueError):
    """JSON the mock refuses; `path` is the keys/indexes to the offending value (() = the whole)."""

    def __init__(self, reason: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class _Refused:
    """What a parse hook returns for a literal that cannot be kept; found by the walk after."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse_int(literal: str) -> int | _Refused:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        return _Refused(f"an integer of {len(literal.lstrip('-'))} digits (at most {MAX_INTEGER_DIGITS})")
    return int(literal)


def _parse_float(literal: str) -> float | _Refused:
    number = float(literal)
    if number in (float("inf"), float("-inf")):
        return _Refused(f"a number out of range ({excerpt(literal)})")
    return number


def _refuse_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> t.Any:
    """`json.loads` within the mock's limits, never raising anything but UnacceptableJson:
    nesting at most MAX_JSON_DEPTH, integer literals of at most MAX_INTEGER_DIGITS digits,
    finite numbers, no NaN/Infinity, no lone surrogate in any string or key."""
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnacceptableJson(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, or a hook's refusal
        raise UnacceptableJson(f"not JSON ({bounded(str(error))})") from None
    _check_tree(value)
    return value


def _check_tree(value: t.Any) -> None:
    """Raise UnacceptableJson for the first value (in document order) past a limit. Iterative:
    the depth is what is being checked, so recursion is no tool for it."""
    # entries: (node, containers above it, trail) where trail = (key, parent trail) | None
    stack: list[tuple[t.Any, int, t.Any]] = [(value, 0, None)]
    while stack:
        node, above, trail = stack.pop()
        if isinstance(node, (dict, list)):
            if above >= MAX_JSON_DEPTH:
                # named by its first two levels (`filter.data`): the field, not 64 indexes
                raise UnacceptableJson(f"nested deeper than {MAX_JSON_DEPTH} levels", _path(trail)[:2])
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = []
            for key, child in items:
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    raise UnacceptableJson("a key holds a lone surrogate (not Unicode text)", _path((key, trail)))
                children.append((child, above + 1, (key, trail)))
            stack.extend(reversed(children))
        elif isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise UnacceptableJson("the string holds a lone surrogate (not Unicode text)", _path(trail))
        elif isinstance(node, _Refused):
            raise UnacceptableJson(node.reason, _path(trail))


def _path(trail: t.Any) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    while trail is not None:
        key, trail = trail
        parts.append(key)
    return tuple(reversed(parts))


def dotted(path: t.Iterable[object], prefix: str = "") -> str:
    """The `field` of a problem: a dotted path, printable and bounded whatever the keys hold."""
    text = ".".join(str(part).encode("utf-8", "backslashreplace").decode("utf-8") for part in path)
    if prefix:
        text = f"{prefix}.{text}" if text else prefix
    return bounded(text or "body", FIELD_CHARS)


def schema_validator(schema: dict[str, t.Any], *, spec: dict[str, t.Any], response: bool = False):
    """A Draft 4 validator that knows OpenAPI `nullable` and resolves `#/components/...` in `spec`."""
    cls = ResponseValidator if response else RequestValidator
    with warnings.catch_warnings():
        # RefResolver is deprecated, but `referencing` cannot resolve a local `#/...` ref of a
        # sub-schema against the document it came from; the spec's refs are all local.
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.validators.RefResolver.from_schema(spec)
    return cls(schema, format_checker=FORMAT_CHECKER, resolver=resolver)


# Connexion creates its validator objects for every request; the jsonschema validator for a
# schema is built once. The cache holds the schema too, so its id cannot be reused meanwhile.
_COMPILED: dict[tuple[int, bool], tuple[dict, t.Any]] = {}


def compiled(schema: dict[str, t.Any], *, response: bool = False):
    """The format-checking Draft 4 validator of an operation's (already resolved) schema."""
    key = (id(schema), response)
    entry = _COMPILED.get(key)
    if entry is None:
        cls = ResponseValidator if response else RequestValidator
        entry = _COMPILED[key] = (schema, cls(schema, format_checker=FORMAT_CHECKER))
    return entry[1]


# --- which field an error is about -------------------------------------------------------

def _unexpected(error: ValidationError) -> list[str]:
    """The names an `additionalProperties` error is about, sorted."""
    allowed = set(error.schema.get("properties", {}))
    return sorted(name for name in error.instance if name not in allowed)


def _listed(names: list[str], shown: int = 3) -> str:
    """The first `shown` names as excerpts, for a message."""
    return ", ".join(excerpt(name) for name in names[:shown]) + (", ..." if len(names) > shown else "")


def error_field(error: ValidationError, prefix: str = "") -> str:
    """The dotted path of the request field a validation error is about."""
    parts: list[object] = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        parts += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        parts += _unexpected(error)[:1]
    return dotted(parts, prefix)


def error_message(error: ValidationError) -> str:
    """jsonschema's message with the client value it quotes cut to an excerpt (it embeds the
    whole `repr` of the instance: a 20 MB string gave a 20 MB answer)."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = _unexpected(error)
        return f"Additional properties are not allowed ({_listed(extra)} {'was' if len(extra) == 1 else 'were'} unexpected)"
    message = error.message
    if len(message) > EXCERPT_CHARS:
        whole = repr(error.instance)
        if len(whole) > EXCERPT_CHARS:
            message = message.replace(whole, excerpt(error.instance))
    return bounded(message)


def bad_request(detail: str, field: str) -> ProblemException:
    return ProblemException(status=400, title="Bad Request", detail=bounded(detail), ext={"field": field})


def _first_error(validator, instance: t.Any) -> ValidationError | None:
    return best_match(validator.iter_errors(instance))


# --- Connexion validators ----------------------------------------------------------------

class FieldNamingParameterValidator(ParameterValidator):
    """Parameters checked with formats; the problem names the parameter."""

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'"
            return None
        schema = param.get("schema", param)
        if schema.get("nullable") and value in ("null", "None"):
            return None
        error = _first_error(compiled(schema), value)
        return None if error is None else error_message(error)

    def validate_request(self, request):
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, security_params=self.security_query_params)
            if extra:
                names = sorted(extra)
                raise bad_request(f"Extra query parameter(s) {_listed(names)} not in spec", dotted(names[:1]))
        checks = {
            "query": self.validate_query_parameter,
            "path": self.validate_path_parameter,
            "header": self.validate_header_parameter,
            "cookie": self.validate_cookie_parameter,
        }
        for location, check in checks.items():
            for param in self.parameters.get(location, []):
                message = check(param, request)
                if message:
                    raise bad_request(f"{param['name']}: {message}", param["name"])


_NO_BODY = object()
_JSON_CONTENT_TYPE = (b"content-type", b"application/json")


class FieldNamingBodyValidator(JSONRequestBodyValidator):
    """JSON bodies checked with formats and the limits of `parse_json`; the problem names the
    body field. A body is read whether or not it has a Content-Length (chunked bodies have
    none), and a body sent without a Content-Type is read as JSON."""

    @property
    def _validator(self):
        return compiled(self._schema)

    async def _parse(self, stream, scope):
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError as error:
            raise bad_request(f"Body is not {self._encoding} text: {error}", "body") from error
        except LookupError as error:  # a charset Python does not know
            raise bad_request(f"Body is not {excerpt(self._encoding)} text: unknown charset", "Content-Type") from error
        if not text:
            return _NO_BODY
        try:
            return parse_json(text)
        except UnacceptableJson as error:
            field = dotted(error.path)
            raise bad_request(f"{field}: {error.reason}", field) from None

    async def wrap_receive(self, receive, *, scope):
        # Connexion's version decides from Content-Length that there is no body, which a
        # chunked request lacks; here the body is read in every case, and an empty one is
        # refused by `_validate` when required.
        messages: list[t.MutableMapping[str, t.Any]] = []

        async def stream() -> t.AsyncGenerator[bytes, None]:
            more_body = True
            while more_body:
                message = await receive()
                messages.append(message)
                more_body = message.get("more_body", False)
                yield message.get("body", b"")

        body = await self._parse(stream(), scope=scope)
        if not (body is None and self._nullable):
            self._validate(body)
        return self._insert_messages(receive, messages=messages), _with_json_content_type(scope)

    def _validate(self, body: t.Any) -> dict | None:
        if body is _NO_BODY:  # an optional body left out; a JSON `null` is validated as a value
            if self._required:
                raise bad_request("Request body is required", "body")
            return None
        error = _first_error(self._validator, body)
        if error is not None:
            field = error_field(error)
            raise bad_request(f"{error_message(error)} (field '{field}')", field)
        return None


def _with_json_content_type(scope):
    """`scope`, with `Content-Type: application/json` when it had none: the handler then reads
    the body as the JSON it was validated as (without, Connexion hands it over as bytes)."""
    if Headers(scope=scope).get("content-type"):
        return scope
    return {**scope, "headers": [*scope["headers"], _JSON_CONTENT_TYPE]}


class FormatCheckingResponseValidator(JSONResponseBodyValidator):
    """Responses checked with the same formats as requests (used with validate_responses)."""

    @property
    def validator(self):
        return compiled(self._schema, response=True)


def validator_map() -> dict[str, t.Any]:
    """Connexion's validator map with the format-checking validators swapped in."""
    body = MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": FieldNamingBodyValidator})
    response = MediaTypeDict({**VALIDATOR_MAP["response"], "*/*json": FormatCheckingResponseValidator})
    return {**VALIDATOR_MAP, "parameter": FieldNamingParameterValidator, "body": body, "response": response}


# --- ASGI middleware -----------------------------------------------------------------------

class EscapedPathControls:
    """ASGI middleware (before routing): ASCII control characters of the request path are
    percent-escaped again, as they were in the URL.

    Starlette's routes match `^...$`, and `$` also matches before a final "\n", while the
    `/v2` mount's `.*` stops at one: `/v2/action/view/<uuid>%0A` lost its `/` on the way and
    answered a bare 404. Escaped, the id reaches validation as text: a 400 naming `id`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = escape_controls(scope["path"])
            if path != scope["path"]:
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)


class BodylessContentType:
    """ASGI middleware (after routing): an operation without a request body ignores the
    request's Content-Type, as it ignores its body.

    Connexion's parameter decorator parses every request as a form when its Content-Type says
    multipart or urlencoded, so a GET view or a DELETE sent with `multipart/form-data` got
    Starlette's own 400 ("Missing boundary in multipart."), naming no field.
    """

    def __init__(self, app: ASGIApp, *, operations_with_body: frozenset[str]) -> None:
        self.app = app
        self.operations_with_body = operations_with_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routing = scope.get("extensions", {}).get("connexion_routing", {})
            operation_id = routing.get("operation_id")
            if operation_id is not None and operation_id not in self.operations_with_body:
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"content-type"]}
        await self.app(scope, receive, send)


def operations_with_body(spec: dict[str, t.Any]) -> frozenset[str]:
    """The operationIds of the spec whose operation has a `requestBody`."""
    return frozenset(
        operation["operationId"]
        for path_item in spec.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation and "requestBody" in operation
    )


def add_input_middleware(app: t.Any, spec: dict[str, t.Any]) -> None:
    """Add the middleware above to a Connexion AsyncApp serving `spec`."""
    app.add_middleware(EscapedPathControls, position=MiddlewarePosition.BEFORE_ROUTING)
    app.add_middleware(BodylessContentType, position=MiddlewarePosition.BEFORE_VALIDATION,
                       operations_with_body=operations_with_body(spec))
