"""The state format of seed files and of `/__mock/state` (docs/ARCHITECTURE.md, "Seed file
format"): how it is parsed, checked and written.

- `parse_state` reads a JSON document piecewise (see there why) with a nesting limit.
- `StateChecker` checks a whole document: its shape with jsonschema (a schema built here from the
  spec's schemas and enums), then the cross-references of the directory in code; entities are
  checked one by one as create bodies while they load (`check_entity`).
- `serialize_state` writes a snapshot as ASCII JSON, one row at a time.

Every error is a `StateError`: the dotted path of the field (`directory.projects[0].name`) and a
message that quotes at most EXCERPT_LENGTH characters of a client value.
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

from jsonschema.exceptions import ValidationError, best_match

from .resources import SEGMENTS, schema_name
from .validation import MAX_INTEGER_DIGITS, MAX_JSON_DEPTH, schema_validator

# An entity nests at most as deeply as an API request body may: 64 levels, the entity object
# being level 1. The state document adds three levels around it (itself, `entities`, the list).
MAX_ENTITY_DEPTH = MAX_JSON_DEPTH
STATE_LEVELS_ABOVE_ENTITIES = 3
MAX_STATE_DEPTH = MAX_ENTITY_DEPTH + STATE_LEVELS_ABOVE_ENTITIES
EXCERPT_LENGTH = 100  # characters of a client value an error message may quote
MAX_NAME_LENGTH = 255  # names of projects, offices and resources (a VARCHAR(255) column)

PathPart = str | int


class StateError(ValueError):
    """A state document that cannot be loaded: which field, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- quoting client values -----------------------------------------------------------------

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 2, 4, 4
_REPR.maxstring = _REPR.maxother = EXCERPT_LENGTH


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """`text` cut to `limit` characters (an ellipsis says it was cut)."""
    return text if len(text) <= limit else text[:limit] + "…"


def value_excerpt(value: Any) -> str:
    """A short representation of a client value, whatever its size or depth."""
    return excerpt(_REPR.repr(value))


def path_text(parts: Iterable[PathPart]) -> str:
    """`["directory", "projects", 0, "name"]` -> `directory.projects[0].name` (keys excerpted)."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = excerpt(part)
            text += f".{key}" if text else key
    return text or "body"


# --- parsing -------------------------------------------------------------------------------

def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _bounded_int(literal: str) -> int:
    # the same bound as an API body's: what the API refuses, an import refuses too
    digits = len(literal.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer of {digits} digits (at most {MAX_INTEGER_DIGITS})")
    return int(literal)


def _finite_float(literal: str) -> float:
    number = float(literal)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"a number out of range ({excerpt(literal)})")
    return number


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_bounded_int, parse_float=_finite_float)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# The state's own levels (the document, `directory`/`entities`, their lists) are parsed here;
# each value below them (an entity, a project...) in one call of the C decoder. A single call over
# a 50 MB document would hold the GIL for a third of a second, keeping every other request waiting;
# many small calls let the server answer in between.
_PIECEWISE_LEVELS = STATE_LEVELS_ABOVE_ENTITIES
# A backslash escape of a JSON string; group 1 the hex digits of a \u escape of a surrogate.
_ESCAPE = re.compile(r"\\(?:u([dD][89a-fA-F][0-9a-fA-F]{2})|u[0-9a-fA-F]{4}|.)", re.DOTALL)


def _depth(value: Any) -> int:
    """How many levels of objects and arrays `value` nests (a scalar: 0), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class _PiecewiseParser:
    def __init__(self, text: str) -> None:
        self.text = text

    def skip(self, position: int) -> int:
        return _WHITESPACE.match(self.text, position).end()  # type: ignore[union-attr]

    def fail(self, message: str, position: int) -> json.JSONDecodeError:
        return json.JSONDecodeError(message, self.text, position)

    def value(self, position: int, path: list[PathPart]) -> tuple[Any, int]:
        level = len(path) + 1
        opening = self.text[position : position + 1]
        if level <= _PIECEWISE_LEVELS and opening == "{":
            return self.object(position, path)
        if level <= _PIECEWISE_LEVELS and opening == "[":
            return self.array(position, path)
        try:
            value, end = _DECODER.raw_decode(self.text, position)
        except RecursionError:
            raise StateError(path_text(path), f"nests more than {MAX_STATE_DEPTH} levels in all") from None
        except json.JSONDecodeError:
            raise
        except ValueError as error:  # an integer of more than 20 digits, NaN, Infinity, 1e999
            raise StateError(path_text(path), excerpt(str(error))) from None
        if level - 1 + _depth(value) > MAX_STATE_DEPTH:
            raise StateError(_deepest_path(value, path, MAX_STATE_DEPTH - level + 1),
                             f"nests more than {MAX_STATE_DEPTH} levels in all ({MAX_ENTITY_DEPTH} within an entity)")
        return value, end

    def object(self, position: int, path: list[PathPart]) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        position = self.skip(position + 1)
        if self.text[position : position + 1] == "}":
            return result, position + 1
        while True:
            if self.text[position : position + 1] != '"':
                raise self.fail("Expecting property name enclosed in double quotes", position)
            key, position = json.decoder.scanstring(self.text, position + 1)
            position = self.skip(position)
            if self.text[position : position + 1] != ":":
                raise self.fail("Expecting ':' delimiter", position)
            result[key], position = self.value(self.skip(position + 1), [*path, key])
            position = self.skip(position)
            delimiter = self.text[position : position + 1]
            if delimiter == "}":
                return result, position + 1
            if delimiter != ",":
                raise self.fail("Expecting ',' delimiter", position)
            position = self.skip(position + 1)

    def array(self, position: int, path: list[PathPart]) -> tuple[list[Any], int]:
        result: list[Any] = []
        position = self.skip(position + 1)
        if self.text[position : position + 1] == "]":
            return result, position + 1
        while True:
            item, position = self.value(position, [*path, len(result)])
            result.append(item)
            position = self.skip(position)
            delimiter = self.text[position : position + 1]
            if delimiter == "]":
                return result, position + 1
            if delimiter != ",":
                raise self.fail("Expecting ',' delimiter", position)
            position = self.skip(position + 1)


def _deepest_path(value: Any, path: list[PathPart], allowed: int) -> str:
    """The path of `value` too deep for `allowed` levels, down to its first member that is too
    deep (an entity's field, say), no further: a path a hundred levels long helps nobody."""
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, member in members:
        if _depth(member) > allowed - 1:
            return path_text([*path, key])
    return path_text(path)


def has_lone_surrogate(text: str) -> bool:
    """Whether JSON text escapes a surrogate that is not half of a pair (`"\\ud800"`): such a
    string cannot be written as UTF-8, so the mock could not serve it."""
    expect_low_at = -1
    for escape in _ESCAPE.finditer(text):
        hex_digits = escape.group(1)
        is_low = hex_digits is not None and hex_digits[1] in "cdefCDEF"
        if expect_low_at >= 0:
            if escape.start() != expect_low_at or not is_low:
                return True
            expect_low_at = -1
        elif hex_digits is not None:
            if is_low:
                return True
            expect_low_at = escape.end()
    return expect_low_at >= 0


def _first_lone_surrogate(document: Any) -> str:
    """The path of the first key or string in `document` that holds a lone surrogate."""
    pending: list[tuple[Any, list[PathPart]]] = [(document, [])]
    while pending:
        node, path = pending.pop()
        members = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, member in members:
            if isinstance(key, str) and not _encodes(key) or isinstance(member, str) and not _encodes(member):
                return path_text([*path, key])
            if isinstance(member, (dict, list)):
                pending.append((member, [*path, key]))
    return "body"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_state(raw: bytes) -> Any:
    """The JSON document of a request body; StateError for anything that is not JSON the mock
    can keep (not UTF-8, malformed, nested too deeply, NaN, huge integers, lone surrogates)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StateError("body", f"the body is not UTF-8 text (byte {error.start})") from None
    parser = _PiecewiseParser(text)
    start = parser.skip(0)
    if text[start : start + 1] != "{":
        raise StateError("body", "the state is a JSON object with `directory` and `entities`")
    try:
        document, end = parser.value(start, [])
        if parser.skip(end) != len(text):
            raise parser.fail("Extra data", parser.skip(end))
    except json.JSONDecodeError as error:
        raise StateError("body", f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if has_lone_surrogate(text):
        raise StateError(_first_lone_surrogate(document), "holds a lone surrogate (\\ud800-\\udfff), which no UTF-8 text can carry")
    return document


# --- checking ------------------------------------------------------------------------------

def _component(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def state_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON schema (OpenAPI 3.0 dialect) of a state document, its enums and entity schemas
    referring to the spec's components. Entities are listed as objects: each is checked on its
    own (`check_entity`), so that a 50 MB import is not walked twice."""
    schemas = spec["components"]["schemas"]
    uuid = {"type": "string", "format": "uuid"}
    name = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH}
    kind = {"type": "string", "nullable": True, "minLength": 1, "maxLength": 50}

    def record(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        # additionalProperties first: a misspelt key is named as such, not as the key it misses
        return {"type": "object", "additionalProperties": False, "properties": properties, "required": required}

    project = record({"project_id": uuid, "name": name, "type": kind}, ["project_id", "name"])
    office = record(
        {"office_id": uuid, "project_id": uuid, "name": name, "type": kind, "active": {"type": "boolean"}},
        ["office_id", "project_id", "name"],
    )
    assert "ResourceType" in schemas, "the spec names the kinds of resource in ResourceType"
    resource = record(
        {"resource_id": uuid, "project_id": uuid, "office_id": {**uuid, "nullable": True},
         "type": _component("ResourceType"), "name": name},
        ["resource_id", "project_id", "type", "name"],
    )
    directory = record(
        {"projects": {"type": "array", "items": project}, "offices": {"type": "array", "items": office},
         "resources": {"type": "array", "items": resource}},
        ["projects", "offices", "resources"],
    )
    entities = {
        "type": "object",
        "properties": {segment: {"type": "array", "items": {"type": "object"}} for segment in SEGMENTS},
        "additionalProperties": False,
    }
    return record({"directory": directory, "entities": entities}, ["directory", "entities"])


def entity_schema(segment: str) -> dict[str, Any]:
    """An entity of the state: a create body of the API (see `StateChecker.check_entity` for
    the fields it may hold)."""
    return _component(f"{schema_name(segment)}Create")


def _error_parts(error: ValidationError) -> list[PathPart]:
    parts: list[PathPart] = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        parts += [name for name in error.validator_value if name not in instance][:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        parts += [name for name in instance if name not in allowed][:1]
    return parts


def _describe(error: ValidationError) -> str:
    """What is wrong, in words of the schema, quoting at most an excerpt of the value."""
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        return "is required"
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = [name for name in error.instance if name not in allowed][:1]
        close = difflib.get_close_matches(extra[0], allowed, n=1) if extra and len(extra[0]) <= 100 else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        return (f"is not one of {', '.join(allowed)}{hint}" if 0 < len(allowed) <= 12 else f"is not a field here{hint}")
    if kind == "type":
        nullable = " or null" if error.schema.get("nullable") else ""
        return f"must be of type {expected}{nullable}, not {value_excerpt(error.instance)}"
    if kind == "enum":
        return f"must be one of {', '.join(map(str, expected))}, not {value_excerpt(error.instance)}"
    if kind == "format":
        return f"must be a {expected}, not {value_excerpt(error.instance)}"
    if kind == "minLength" and expected == 1:
        return "must not be empty"
    words = {"minLength": "at least {} characters", "maxLength": "at most {} characters",
             "minimum": "at least {}", "maximum": "at most {}", "minItems": "at least {} items",
             "maxItems": "at most {} items"}
    if kind in words:
        return f"must be {words[kind].format(expected)}, not {value_excerpt(error.instance)}"
    return f"breaks `{kind}: {value_excerpt(expected)}` ({value_excerpt(error.instance)})"


def _first_error(validator: Any, instance: Any, prefix: Sequence[PathPart] = ()) -> StateError | None:
    try:
        error = next(iter(validator.iter_errors(instance)), None)
    except RecursionError:  # a `format: json` text nested past the interpreter's limit
        return StateError(path_text(prefix), "holds JSON text nested too deeply")
    if error is None:
        return None
    error = best_match([error])  # descends into the alternatives of anyOf/oneOf
    return StateError(path_text([*prefix, *_error_parts(error)]), _describe(error))


@dataclass(frozen=True)
class _Problem:
    field: str
    message: str


class StateChecker:
    """Checks state documents against the format, with the spec's schemas and enums."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._state = schema_validator(state_schema(spec), spec=dict(spec))
        self._entities = {segment: schema_validator(entity_schema(segment), spec=dict(spec)) for segment in SEGMENTS}
        schemas = spec["components"]["schemas"]
        self._fields = {segment: frozenset(schemas[f"{schema_name(segment)}Fields"]["properties"]) for segment in SEGMENTS}

    def check_state(self, document: Any) -> None:
        """The document's shape and its directory (entities are checked as they load)."""
        error = _first_error(self._state, document)
        if error is not None:
            raise error
        problem = _directory_problem(document["directory"])
        if problem is not None:
            raise StateError(problem.field, problem.message)

    def check_entity(self, segment: str, body: Any) -> None:
        """An entity of `segment`: a create body holding only the resource's stored fields (an
        unknown or computed field is a mistake in a state file, not something to drop).
        StateError with the field relative to the entity."""
        if isinstance(body, dict):
            unknown = [name for name in body if name not in self._fields[segment]]
            if unknown:
                raise StateError(path_text([unknown[0]]), f"is not a stored field of {segment}")
        error = _first_error(self._entities[segment], body)
        if error is not None:
            raise error


def _directory_problem(directory: Mapping[str, list[dict[str, Any]]]) -> _Problem | None:
    """Ids unique per kind, offices of existing projects, resources of existing projects and of
    offices of their own project."""
    seen: dict[str, dict[str, str]] = {}
    for kind, id_field in (("projects", "project_id"), ("offices", "office_id"), ("resources", "resource_id")):
        ids: dict[str, str] = {}
        for position, item in enumerate(directory[kind]):
            if item[id_field] in ids:
                return _Problem(f"directory.{kind}[{position}].{id_field}", f"{item[id_field]} is also the id of directory.{kind}[{ids[item[id_field]]}]")
            ids[item[id_field]] = str(position)
        seen[kind] = ids
    office_project = {office["office_id"]: office["project_id"] for office in directory["offices"]}
    for position, office in enumerate(directory["offices"]):
        if office["project_id"] not in seen["projects"]:
            return _Problem(f"directory.offices[{position}].project_id", f"no project {office['project_id']} in directory.projects")
    for position, resource in enumerate(directory["resources"]):
        where = f"directory.resources[{position}]"
        if resource["project_id"] not in seen["projects"]:
            return _Problem(f"{where}.project_id", f"no project {resource['project_id']} in directory.projects")
        office_id = resource.get("office_id")
        if office_id is not None and office_id not in office_project:
            return _Problem(f"{where}.office_id", f"no office {office_id} in directory.offices")
        if office_id is not None and office_project[office_id] != resource["project_id"]:
            return _Problem(f"{where}.office_id", f"office {office_id} is not an office of project {resource['project_id']}")
    return None


# --- writing -------------------------------------------------------------------------------

_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def serialize_state(
    directory: Mapping[str, Any],
    entities: Mapping[str, Sequence[Mapping[str, Any]]],
    field_order: Mapping[str, Sequence[str]],
) -> bytes:
    """The state as ASCII JSON (a lone surrogate or any other character is written as an
    escape, so no string can make this fail), one row at a time (see _PIECEWISE_LEVELS). A row's
    fields are written in `field_order` of its segment (the spec's), whatever order the store
    holds them in: the same state always gives the same bytes."""
    return "".join(_state_chunks(directory, entities, field_order)).encode("ascii")


def _state_chunks(
    directory: Mapping[str, Any],
    entities: Mapping[str, Sequence[Mapping[str, Any]]],
    field_order: Mapping[str, Sequence[str]],
) -> Iterator[str]:
    yield '{"directory":'
    yield _ENCODE(directory)
    yield ',"entities":{'
    for number, (segment, rows) in enumerate(entities.items()):
        order = field_order[segment]
        yield ("," if number else "") + _ENCODE(segment) + ":["
        yield ",".join(_ENCODE({f: row[f] for f in order if f in row}) for row in rows)
        yield "]"
    yield "}}"
