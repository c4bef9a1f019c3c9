"""The spec covers everything the public reference documents for the four main resources.

`REFERENCE` below is the reference, transcribed by hand into data: for each resource, every field
of the entity (as view and index answer it) with its type, format, enum values, length limit and
nullability, whether a client sends it (it is in the create request) or only reads it, the
create request's required names, the index filter fields, the allowed sort fields (the reference
lists each once; the spec adds the `-` forms), the members of the index request body, and the
query parameters of index. Each test compares one aspect of one resource with the bundled spec
and names every item the spec forgets or contradicts. The spec may add more than the reference;
these tests only look for what it leaves out.
"""

from __future__ import annotations

import re

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from spec_support import (
    Schema,
    all_of_parts,
    component_schema,
    deref,
    operation,
    operation_path,
    parameters_of,
    pascal,
    properties_of,
    required_of,
)

ACTION_TYPES = ("TRAINING", "MAINTENANCE", "HEALTH", "CHECK", "PER")
VALIDITY_UNITS = ("YEAR", "MONTH", "DAY")
RESOURCE_TYPES = (
    "PERSON", "MATERIAL_ITEM", "ROLE", "WORK_GROUP", "WORK_ENVIRONMENT", "SUBSTANCE", "EQUIPMENT", "OFFICE", "UNIT",
)


@dataclass(frozen=True)
class Field:
    """One documented field. `sent`: in the create request; False: answered only (computed)."""

    type: str
    format: str | None = None
    enum: tuple[Any, ...] = ()
    max_length: int | None = None
    nullable: bool = False
    sent: bool = True


def uuid(*, sent: bool = True) -> Field:
    return Field("string", "uuid", sent=sent)


def text(max_length: int | None = None, *, sent: bool = True) -> Field:
    return Field("string", max_length=max_length, sent=sent)


def json_text(*, nullable: bool = False, sent: bool = True) -> Field:
    return Field("string", "json", nullable=nullable, sent=sent)


def integer(*, sent: bool = True) -> Field:
    return Field("integer", sent=sent)


def one_of(values: tuple[Any, ...], *, sent: bool = True, max_length: int | None = None) -> Field:
    return Field("integer" if isinstance(values[0], int) else "string", enum=values, max_length=max_length, sent=sent)


@dataclass(frozen=True)
class Reference:
    """What the reference documents for one resource. Dotted field names are nested properties."""

    fields: Mapping[str, Field]
    create_required: tuple[str, ...]
    filter_fields: tuple[str, ...]
    sort_fields: tuple[str, ...]
    index_body: tuple[str, ...] = ("filter", "per-page", "page", "sort")
    index_query: Mapping[str, Field] = field(default_factory=dict)


ACTION_FIELDS: dict[str, Field] = {
    "action_id": uuid(),
    "action_type": one_of(ACTION_TYPES),
    "code": text(50),
    "name": text(255),
    "description": text(),
    "validity_unit": one_of(VALIDITY_UNITS),
    "validity": integer(),
    "expire_interval": integer(),
    "manager": json_text(),
    "assignee": json_text(),
    "watcher": json_text(),
    "subscriber_type": json_text(nullable=True),
    "data": json_text(),
    "subtenant_id": uuid(),
    "tenant_id": uuid(),
    "countSubscribed": integer(sent=False),
    "countValid": integer(sent=False),
    "countScheduled": integer(sent=False),
    "countToDo": integer(sent=False),
    "office_name": text(sent=False),
    "project_name": text(sent=False),
    "project_type": text(sent=False),
    "owned_active": Field("boolean", nullable=True, sent=False),
    "parent_active": Field("boolean", nullable=True, sent=False),
}

ACTION_SESSION_FIELDS: dict[str, Field] = {
    "action_session_id": uuid(),
    "action_id": uuid(),
    "validity_unit": one_of(VALIDITY_UNITS),
    "validity": integer(),
    # `data` is an object; the reference documents one variant (TRAINING course editions).
    "data": Field("object"),
    "data.type": one_of(("base", "update")),
    "data.teacher": text(),
    "data.supplier": text(),
    "data.location": text(),
    "subtenant_id": uuid(),
    "tenant_id": uuid(),
    "action_code": text(sent=False),
    "action_name": text(sent=False),
    "action_type": one_of(ACTION_TYPES, sent=False),
    "count_subscribed": integer(sent=False),
    "count_done": integer(sent=False),
    "count_fail": integer(sent=False),
    "count_unknown": integer(sent=False),
    "date_begin": Field("string", "date", sent=False),
    "date_end": Field("string", "date", sent=False),
    "manager": json_text(),
    "assignee": json_text(),
    "watcher": json_text(),
}

ACTION_SESSION_DATE_FIELDS: dict[str, Field] = {
    "action_session_date_id": uuid(),
    "action_session_id": uuid(),
    "subtenant_id": uuid(),
    "tenant_id": uuid(),
    "date_begin": Field("string", "date-time"),
    "date_end": Field("string", "date-time"),
    "data": json_text(),
    "action_id": uuid(sent=False),
    "action_code": text(sent=False),
    "action_name": text(sent=False),
    "action_type": one_of(ACTION_TYPES, sent=False),
    "office_name": text(sent=False),
    "project_name": text(sent=False),
    "manager": json_text(sent=False),
    "assignee": json_text(sent=False),
    "watcher": json_text(sent=False),
}

CERTIFICATE_FIELDS: dict[str, Field] = {
    "certificate_id": uuid(),
    "date_release": Field("string", "date"),
    "date_expire": Field("string", "date"),
    "name": text(255),
    "note": text(),
    "action_type": one_of(ACTION_TYPES),
    "resource_id": uuid(),
    "resource_type": one_of(RESOURCE_TYPES, max_length=50, sent=False),
    "resource_name": text(255, sent=False),
    "data": Field("object"),
    "warning": one_of((0, 1)),
    "tenant_id": uuid(),
    "subtenant_id": uuid(sent=False),
    "subtenant_type": text(50, sent=False),
    "validity_unit": one_of(VALIDITY_UNITS),
    "validity": integer(),
    "project_name": text(sent=False),
}


def top_level(fields: Mapping[str, Field]) -> tuple[str, ...]:
    return tuple(name for name in fields if "." not in name)


REFERENCE: dict[str, Reference] = {
    "action": Reference(
        fields=ACTION_FIELDS,
        create_required=("action_type", "name", "subtenant_id", "tenant_id"),
        filter_fields=top_level(ACTION_FIELDS),
        sort_fields=("code", "name", "action_type", "office_name", "project_name"),
        index_body=("filter", "per-page", "page", "sort", "history"),
    ),
    "action-session": Reference(
        fields=ACTION_SESSION_FIELDS,
        create_required=("action_id", "subtenant_id", "tenant_id"),
        filter_fields=top_level(ACTION_SESSION_FIELDS),
        sort_fields=("action_code", "action_name", "action_type", "date_begin", "date_end"),
        # `history` comes from the older rendering of this resource.
        index_body=("filter", "per-page", "page", "sort", "history"),
    ),
    "action-session-date": Reference(
        fields=ACTION_SESSION_DATE_FIELDS,
        create_required=("action_session_id", "date_begin", "date_end", "subtenant_id", "tenant_id"),
        filter_fields=top_level(ACTION_SESSION_DATE_FIELDS),
        sort_fields=("date_begin", "date_end", "action_code", "action_name", "action_type"),
        index_query={"subscriber_id": uuid()},
    ),
    "certificate": Reference(
        fields=CERTIFICATE_FIELDS,
        # The schema marks the first four required; the operation's text names tenant_id as well.
        create_required=("date_release", "name", "action_type", "resource_id", "tenant_id"),
        filter_fields=top_level(CERTIFICATE_FIELDS),
        sort_fields=("date_release", "date_expire", "name", "action_type"),
    ),
}

RESOURCES = tuple(REFERENCE)


# --- reading a property of the spec --------------------------------------------------------


def branches(spec: Schema, schema: Any) -> Iterator[Schema]:
    """The schema's `allOf` parts and, through `oneOf`/`anyOf`, every alternative's parts."""
    for part in all_of_parts(spec, schema):
        yield part
        for keyword in ("oneOf", "anyOf"):
            for alternative in part.get(keyword, []):
                yield from branches(spec, alternative)


def keyword_values(spec: Schema, schema: Any, keyword: str) -> list[Any]:
    """Every value a keyword takes in a schema, its `allOf` parts and its alternatives."""
    return [part[keyword] for part in branches(spec, schema) if keyword in part]


def nested_property(spec: Schema, schema: Any, dotted: str) -> Schema | None:
    """The property at a dotted path (`data.type`), looked up in every branch; None if absent."""
    node: Any = schema
    for name in dotted.split("."):
        found = [part["properties"][name] for part in branches(spec, node) if name in part.get("properties", {})]
        if not found:
            return None
        node = deref(spec, found[0])
    return node


def field_problems(spec: Schema, where: str, prop: Schema, expected: Field) -> list[str]:
    """How a property of the spec differs in type or format from a documented field."""
    problems = []
    types = set(keyword_values(spec, prop, "type"))
    if types != {expected.type}:
        problems.append(f"{where}: type {sorted(types) or 'unset'}, the reference documents {expected.type!r}")
    formats = set(keyword_values(spec, prop, "format"))
    if expected.format and not format_written(spec, prop, expected.format, formats):
        problems.append(f"{where}: format {sorted(formats) or 'unset'}, the reference documents {expected.format!r}")
    return problems


def format_written(spec: Schema, prop: Schema, documented: str, formats: set[str]) -> bool:
    """Whether the property says what the reference's format says. Two formats are written so that
    every stock tool reads them as the API means them (docs/DECISIONS.md, "Reading the spec with
    stock tools"): `date-time` (the offset may be left out) as a `pattern` its description calls
    RFC 3339, `json` as a plain string its description calls JSON text."""
    descriptions = " ".join(str(d) for d in keyword_values(spec, prop, "description"))
    if documented == "date-time":
        return not formats and bool(list(keyword_values(spec, prop, "pattern"))) and "RFC 3339" in descriptions
    if documented == "json":
        return not formats and "JSON" in descriptions
    return documented in formats


def entity_schema(spec: Schema, segment: str) -> Schema:
    return component_schema(spec, pascal(segment))


def missing_fields(spec: Schema, segment: str, names: list[str]) -> list[str]:
    entity = entity_schema(spec, segment)
    return [f"{pascal(segment)} has no field {name!r}" for name in names if nested_property(spec, entity, name) is None]


def documented_props(spec: Schema, segment: str) -> Iterator[tuple[str, Schema, Field]]:
    """(name, spec property, documented field) for each documented field the spec declares."""
    entity = entity_schema(spec, segment)
    for name, expected in REFERENCE[segment].fields.items():
        prop = nested_property(spec, entity, name)
        if prop is not None:
            yield name, prop, expected


def report(segment: str, aspect: str, problems: list[str]) -> str:
    return f"{segment} {aspect} differs from the reference:\n  " + "\n  ".join(problems)


# --- the aspects ---------------------------------------------------------------------------


@pytest.mark.parametrize("segment", RESOURCES)
def test_entity_has_every_documented_field_with_its_type_and_format(spec: dict[str, Any], segment: str) -> None:
    problems = missing_fields(spec, segment, list(REFERENCE[segment].fields))
    for name, prop, expected in documented_props(spec, segment):
        problems += field_problems(spec, f"{pascal(segment)}.{name}", prop, expected)
    assert not problems, report(segment, "fields", problems)


ALTERNATIVES_PATTERN = re.compile(r"\^\(\?:([A-Za-z0-9_|]+)\)\$")


def allowed_values(spec: Schema, prop: Schema) -> list[Any]:
    """The values an enumeration allows. A nullable one is written without `enum` (whether
    `nullable` adds null to an `enum` is read differently by Prism, Redocly and Connexion; see
    docs/DECISIONS.md, "Reading the spec with stock tools"): strings as a `^(?:A|B)$` pattern,
    integers as a `minimum`..`maximum` range."""
    values = [value for enum in keyword_values(spec, prop, "enum") for value in enum]
    for pattern in keyword_values(spec, prop, "pattern"):
        if match := ALTERNATIVES_PATTERN.fullmatch(pattern):
            values += match.group(1).split("|")
    lows, highs = keyword_values(spec, prop, "minimum"), keyword_values(spec, prop, "maximum")
    if not values and lows and highs and max(highs) - min(lows) < 10:
        values += list(range(min(lows), max(highs) + 1))
    return values


@pytest.mark.parametrize("segment", RESOURCES)
def test_enums_have_every_documented_value(spec: dict[str, Any], segment: str) -> None:
    problems = []
    for name, prop, expected in documented_props(spec, segment):
        if not expected.enum:
            continue
        values = allowed_values(spec, prop)
        missing = [value for value in expected.enum if value not in values]
        extra = sorted({repr(value) for value in values if value not in expected.enum and value is not None})
        if not values:
            problems.append(f"{name}: no enum, the reference allows only {list(expected.enum)}")
        elif missing or extra:
            problems.append(f"{name}: enum lacks {missing}, adds {extra}")
    assert not problems, report(segment, "enums", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_length_limits_are_documented(spec: dict[str, Any], segment: str) -> None:
    problems = []
    for name, prop, expected in documented_props(spec, segment):
        if expected.max_length is None:
            continue
        limits = keyword_values(spec, prop, "maxLength")
        if limits != [expected.max_length] and set(limits) != {expected.max_length}:
            problems.append(f"{name}: maxLength {limits or 'unset'}, the reference says {expected.max_length}")
    assert not problems, report(segment, "maxLength limits", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_documented_nullable_fields_accept_null(spec: dict[str, Any], segment: str) -> None:
    problems = [
        f"{name}: not nullable, the reference marks it nullable"
        for name, prop, expected in documented_props(spec, segment)
        if expected.nullable and True not in keyword_values(spec, prop, "nullable")
    ]
    assert not problems, report(segment, "nullable fields", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_create_requires_the_documented_fields(spec: dict[str, Any], segment: str) -> None:
    create = component_schema(spec, f"{pascal(segment)}Create")
    required = required_of(spec, create)
    problems = [
        f"{pascal(segment)}Create does not require {name!r}"
        for name in REFERENCE[segment].create_required
        if name not in required
    ]
    problems += [
        f"{pascal(segment)}Create requires {name!r}, which the reference does not"
        for name in sorted(required - set(REFERENCE[segment].create_required))
    ]
    assert not problems, report(segment, "create required list", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_fields_a_client_sends_are_writable_and_the_others_read_only(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    writable = properties_of(spec, component_schema(spec, f"{name}Fields"))
    entity = properties_of(spec, entity_schema(spec, segment))
    problems = []
    for field_name in top_level(REFERENCE[segment].fields):
        sent = REFERENCE[segment].fields[field_name].sent
        if sent and field_name not in writable:
            problems.append(f"{field_name!r} is in the reference's create request but not in {name}Fields")
        if not sent and field_name in writable:
            problems.append(f"{field_name!r} is computed (not in the create request) but is in {name}Fields")
        if not sent and field_name in entity and entity[field_name].get("readOnly") is not True:
            problems.append(f"{field_name!r} is computed but not readOnly in {name}")
    assert not problems, report(segment, "writable/read-only split", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_index_filter_accepts_every_documented_field(spec: dict[str, Any], segment: str) -> None:
    filter_fields = properties_of(spec, component_schema(spec, f"{pascal(segment)}Filter"))
    problems = [
        f"{pascal(segment)}Filter has no {name!r}" for name in REFERENCE[segment].filter_fields if name not in filter_fields
    ]
    assert not problems, report(segment, "index filter", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_index_sort_allows_every_documented_field_both_ways(spec: dict[str, Any], segment: str) -> None:
    index_request = component_schema(spec, f"{pascal(segment)}IndexRequest")
    sort = deref(spec, index_request.get("properties", {}).get("sort", {}))
    values = set(sort.get("enum", []))
    problems = [
        f"sort does not allow {value!r}"
        for name in REFERENCE[segment].sort_fields
        for value in (name, f"-{name}")
        if value not in values
    ]
    assert not problems, report(segment, "index sort", problems)


@pytest.mark.parametrize("segment", RESOURCES)
def test_index_request_has_the_documented_members_and_paging(spec: dict[str, Any], segment: str) -> None:
    members = properties_of(spec, component_schema(spec, f"{pascal(segment)}IndexRequest"))
    problems = [f"the index request has no {name!r}" for name in REFERENCE[segment].index_body if name not in members]
    for name, default in (("per-page", 100), ("page", 1)):
        if name not in members:
            continue
        schema = members[name]
        if keyword_values(spec, schema, "type") != ["integer"]:
            problems.append(f"{name} is not an integer")
        if default not in keyword_values(spec, schema, "default"):
            problems.append(f"{name} does not default to {default}")
        if 1 not in keyword_values(spec, schema, "minimum"):
            problems.append(f"{name} does not have minimum 1")
    assert not problems, report(segment, "index request", problems)


@pytest.mark.parametrize("segment", [segment for segment in RESOURCES if REFERENCE[segment].index_query])
def test_index_takes_the_documented_query_parameters(spec: dict[str, Any], segment: str) -> None:
    expected = REFERENCE[segment].index_query
    path = operation_path(segment, "index")
    operation(spec, segment, "index")
    parameters = {(p.get("name"), p.get("in")): p for p in parameters_of(spec, path, "post")}
    problems = []
    for name, documented in expected.items():
        parameter = parameters.get((name, "query"))
        if parameter is None:
            problems.append(f"POST {path} has no query parameter {name!r}")
            continue
        if parameter.get("required"):
            problems.append(f"query parameter {name!r} is required; the reference makes it optional")
        schema = deref(spec, parameter.get("schema", {}))
        problems += field_problems(spec, f"query parameter {name!r}", schema, documented)
    assert not problems, report(segment, "index query parameters", problems)


# What every page of the reference documents about authentication.
TOKEN_URL = "https://auth.4hse.com/realms/4hse/protocol/openid-connect/token"
ACCESS_TOKEN_PARAMETER = "access-token"


def test_security_schemes_are_the_documented_ones(spec: dict[str, Any]) -> None:
    schemes = list(spec.get("components", {}).get("securitySchemes", {}).values())
    password_flows = [
        s["flows"]["password"] for s in schemes if s.get("type") == "oauth2" and "password" in s.get("flows", {})
    ]
    api_keys = [s for s in schemes if s.get("type") == "apiKey"]
    assert any(flow.get("tokenUrl") == TOKEN_URL for flow in password_flows), (
        f"no oauth2 password flow with the token URL {TOKEN_URL}"
    )
    assert any(s.get("in") == "query" and s.get("name") == ACCESS_TOKEN_PARAMETER for s in api_keys), (
        f"no apiKey scheme read from the query parameter {ACCESS_TOKEN_PARAMETER!r}"
    )
