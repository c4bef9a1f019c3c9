"""Schema validation with formats checked, and the Connexion validators that use it.

Connexion validates with jsonschema's Draft 4 format checker, which knows neither `uuid` nor
`date` (see the README). Every validator here uses `FORMAT_CHECKER` instead, and every 400 it
raises names the offending request field in a `field` member of the problem object.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t
import warnings

import jsonschema
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.validators import (
    VALIDATOR_MAP,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    ParameterValidator,
)
from connexion.validators.parameter import ExtraParameterProblem
from jsonschema.exceptions import ValidationError, best_match
from starlette.datastructures import Headers

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 date-time; the offset may be left out (a local time, as the API's examples are).
_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})?$"
)


@FORMAT_CHECKER.checks("uuid")
def is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@FORMAT_CHECKER.checks("date")
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("date-time")
def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if not match or not is_date(match.group(1)):
        return False
    hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
    offset = match.group(6)
    if offset and offset not in "Zz" and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    return hour < 24 and minute < 60 and second < 61


@FORMAT_CHECKER.checks("json")
def is_json_text(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def schema_validator(schema: dict[str, t.Any], *, spec: dict[str, t.Any], response: bool = False):
    """A Draft 4 validator that knows OpenAPI `nullable` and resolves `#/components/...` in `spec`."""
    cls = Draft4ResponseValidator if response else Draft4RequestValidator
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
        cls = Draft4ResponseValidator if response else Draft4RequestValidator
        entry = _COMPILED[key] = (schema, cls(schema, format_checker=FORMAT_CHECKER))
    return entry[1]


# --- which field an error is about -------------------------------------------------------

def error_field(error: ValidationError, prefix: str = "") -> str:
    """The dotted path of the request field a validation error is about."""
    parts = [str(part) for part in error.absolute_path]
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        parts += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in instance if name not in allowed)
        parts += extra[:1]
    path = ".".join(parts)
    if prefix:
        return f"{prefix}.{path}" if path else prefix
    return path or "body"


def bad_request(detail: str, field: str) -> ProblemException:
    return ProblemException(status=400, title="Bad Request", detail=detail, ext={"field": field})


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
        return None if error is None else error.message

    def validate_request(self, request):
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, security_params=self.security_query_params)
            if extra:
                problem = ExtraParameterProblem(param_type="query", extra_params=sorted(extra))
                raise bad_request(problem.detail, sorted(extra)[0])
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


class FieldNamingBodyValidator(JSONRequestBodyValidator):
    """JSON bodies checked with formats; the problem names the body field."""

    @property
    def _validator(self):
        return compiled(self._schema)

    async def _parse(self, stream, scope):
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError as error:
            raise bad_request(f"Body is not {self._encoding} text: {error}", "body") from error
        if not text:
            return _NO_BODY
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise bad_request(f"Body is not JSON: {error}", "body") from error

    async def wrap_receive(self, receive, *, scope):
        if self._required and not int(Headers(scope=scope).get("content-length", 0)):
            raise bad_request("Request body is required", "body")
        return await super().wrap_receive(receive, scope=scope)

    def _validate(self, body: t.Any) -> dict | None:
        if body is _NO_BODY:  # an optional body left out; a JSON `null` is validated as a value
            if self._required:
                raise bad_request("Request body must not be empty", "body")
            return None
        error = _first_error(self._validator, body)
        if error is not None:
            field = error_field(error)
            raise bad_request(f"{error.message} (field '{field}')", field)
        return None


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
