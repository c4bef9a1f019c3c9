"""Every example of the spec is valid against the schema it illustrates, formats included.

The walker visits the `example` and every `examples.*.value` of parameters, headers, request
bodies and responses (under `paths`, `x-webhooks` and `components`), and the `example` of every
schema, nested ones included. Each is checked with the validator and format checker the mock
uses, so an example the spec shows is one the mock would accept or answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from referencing.exceptions import Unresolvable

from mock_server.spec import ENTRY_FILE, spec_dir
from mock_server.validation import FORMAT_CHECKER, schema_validator
from spec_support import HTTP_METHODS, SEGMENTS, Schema, deref

COMMON = "common"
WEBHOOKS = "x-webhooks"
GROUPS: tuple[str, ...] = (*SEGMENTS, COMMON, WEBHOOKS)
# Formats every stock tool reads the same; date-times are patterns, JSON text a plain string
# (docs/DECISIONS.md, "Reading the spec with stock tools").
FORMATS_IN_USE: frozenset[str] = frozenset({"uuid", "date"})

_SCHEMA_CHILD_MAPS = ("properties",)
_SCHEMA_CHILD_LISTS = ("allOf", "oneOf", "anyOf")
_SCHEMA_CHILDREN = ("items", "additionalProperties", "not")


@dataclass(frozen=True)
class Example:
    """One example and the schema it illustrates."""

    location: str
    group: str
    value: Any
    schema: Any


class ExampleWalker:
    """Collects the examples of a bundled spec, each once, with where it was found."""

    def __init__(self, spec: Schema, schema_groups: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self.schema_groups = schema_groups or {}
        self.examples: list[Example] = []
        self._seen: set[int] = set()

    def walk(self) -> list[Example]:
        components = self.spec.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            self.schema(schema, f"#/components/schemas/{name}", self.schema_groups.get(name, COMMON))
        for kind, visit in (
            ("parameters", self.parameter),
            ("headers", self.parameter),
            ("requestBodies", self.content_holder),
            ("responses", self.response),
        ):
            for name, member in components.get(kind, {}).items():
                visit(member, f"#/components/{kind}/{name}", COMMON)
        for path, path_item in self.spec.get("paths", {}).items():
            self.path_item(path_item, f"#/paths/{escape(path)}", group_of_path(path))
        for name, path_item in self.spec.get(WEBHOOKS, {}).items():
            self.path_item(path_item, f"#/{WEBHOOKS}/{escape(name)}", WEBHOOKS)
        return self.examples

    def first_visit(self, node: Any) -> bool:
        """True once per node object: a component reached again through a $ref is not re-checked."""
        if id(node) in self._seen:
            return False
        self._seen.add(id(node))
        return True

    def path_item(self, path_item: Any, where: str, group: str) -> None:
        path_item = deref(self.spec, path_item)
        for index, parameter in enumerate(path_item.get("parameters", [])):
            self.parameter(parameter, f"{where}/parameters/{index}", group)
        for method, op in path_item.items():
            if method not in HTTP_METHODS:
                continue
            for index, parameter in enumerate(op.get("parameters", [])):
                self.parameter(parameter, f"{where}/{method}/parameters/{index}", group)
            if "requestBody" in op:
                self.content_holder(op["requestBody"], f"{where}/{method}/requestBody", group)
            for status, response in op.get("responses", {}).items():
                self.response(response, f"{where}/{method}/responses/{status}", group)

    def parameter(self, parameter: Any, where: str, group: str) -> None:
        """A parameter or a header: examples beside its `schema`, or in its `content`."""
        parameter = deref(self.spec, parameter)
        if not self.first_visit(parameter):
            return
        if "schema" in parameter:
            self.illustrated(parameter, parameter["schema"], where, group)
            self.schema(parameter["schema"], f"{where}/schema", group)
        self.content_holder(parameter, where, group)

    def response(self, response: Any, where: str, group: str) -> None:
        response = deref(self.spec, response)
        for name, header in response.get("headers", {}).items():
            self.parameter(header, f"{where}/headers/{escape(name)}", group)
        self.content_holder(response, where, group)

    def content_holder(self, holder: Any, where: str, group: str) -> None:
        """A request body, response or parameter with `content`: each media type's examples."""
        holder = deref(self.spec, holder)
        for media_type, media in holder.get("content", {}).items():
            if not self.first_visit(media):
                continue
            media_where = f"{where}/content/{escape(media_type)}"
            if "schema" in media:
                self.illustrated(media, media["schema"], media_where, group)
                self.schema(media["schema"], f"{media_where}/schema", group)

    def illustrated(self, holder: Mapping[str, Any], schema: Any, where: str, group: str) -> None:
        """The `example` and `examples.*.value` of a media type, parameter or header."""
        if "example" in holder:
            self.examples.append(Example(f"{where}/example", group, holder["example"], schema))
        for name, example in holder.get("examples", {}).items():
            example = deref(self.spec, example)
            if "value" in example:
                self.examples.append(Example(f"{where}/examples/{escape(name)}/value", group, example["value"], schema))

    def schema(self, schema: Any, where: str, group: str) -> None:
        """A schema's own `example`, then those of the schemas inside it (not through $ref)."""
        if not isinstance(schema, Mapping) or "$ref" in schema or not self.first_visit(schema):
            return
        if "example" in schema:
            self.examples.append(Example(f"{where}/example", group, schema["example"], schema))
        for keyword in _SCHEMA_CHILD_MAPS:
            for name, child in schema.get(keyword, {}).items():
                self.schema(child, f"{where}/{keyword}/{escape(name)}", group)
        for keyword in _SCHEMA_CHILD_LISTS:
            for index, child in enumerate(schema.get(keyword, [])):
                self.schema(child, f"{where}/{keyword}/{index}", group)
        for keyword in _SCHEMA_CHILDREN:
            self.schema(schema.get(keyword), f"{where}/{keyword}", group)


def escape(token: str) -> str:
    """A JSON pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def group_of_path(path: str) -> str:
    """The resource segment of a `/v2/<segment>/...` path."""
    match = re.match(r"^/v2/([^/]+)/", path)
    return match.group(1) if match and match.group(1) in SEGMENTS else COMMON


def schema_groups_of_entry_file() -> dict[str, str]:
    """components.schemas name -> the resource whose file declares it (`common` for common.yaml)."""
    entry = yaml.safe_load((spec_dir() / ENTRY_FILE).read_text(encoding="utf-8"))
    groups = {}
    for name, member in entry.get("components", {}).get("schemas", {}).items():
        match = re.match(r"^resources/([^/#]+)\.yaml#", str(member.get("$ref", "")))
        groups[name] = match.group(1) if match else COMMON
    return groups


def mismatches(spec: Schema, examples: list[Example]) -> list[str]:
    """One line per way an example breaks its schema, naming the example and the broken spot."""
    problems = []
    for example in examples:
        validator = schema_validator(example.schema, spec=spec)
        try:
            errors = sorted(validator.iter_errors(example.value), key=lambda e: list(map(str, e.absolute_path)))
        except Unresolvable as unresolvable:
            problems.append(f"{example.location}: its schema has a $ref that does not resolve ({unresolvable})")
            continue
        for error in errors:
            spot = "/".join(map(str, error.absolute_path)) or "<example root>"
            problems.append(f"{example.location} at {spot}: {error.message}")
    return problems


def example_mismatches(spec: Schema, schema_groups: Mapping[str, str] | None = None) -> list[str]:
    """Every mismatch between an example of the spec and its schema."""
    return mismatches(spec, ExampleWalker(spec, schema_groups).walk())


@pytest.fixture(scope="module")
def examples(spec: dict[str, Any]) -> list[Example]:
    return ExampleWalker(spec, schema_groups_of_entry_file()).walk()


# --- the spec's examples -------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUPS)
def test_examples_match_their_schemas(spec: dict[str, Any], examples: list[Example], group: str) -> None:
    mine = [example for example in examples if example.group == group]
    if not mine and group == WEBHOOKS and WEBHOOKS not in spec:
        pytest.skip("the spec declares no x-webhooks")
    problems = mismatches(spec, mine)
    assert not problems, f"{len(problems)} example mismatch(es) in {group}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_every_resource_illustrates_its_operations(examples: list[Example], segment: str) -> None:
    """The check above is not vacuous: each resource shows examples of its bodies."""
    found = [example.location for example in examples if example.group == segment]
    assert len(found) >= 3, f"{segment} has only {len(found)} example(s): {found}"


def test_every_format_in_the_spec_is_checked(spec: dict[str, Any]) -> None:
    formats = set(formats_used(spec))
    unchecked = sorted(formats - set(FORMAT_CHECKER.checkers))
    assert not unchecked, f"formats the format checker does not check (their examples go unchecked): {unchecked}"
    unexpected = sorted(formats - FORMATS_IN_USE)
    assert not unexpected, f"formats not among those ARCHITECTURE.md lists ({sorted(FORMATS_IN_USE)}): {unexpected}"


def formats_used(node: Any) -> Iterator[str]:
    """Every `format` value of the schemas of a document (examples, which are data, skipped)."""
    if isinstance(node, Mapping):
        if isinstance(node.get("format"), str):
            yield node["format"]
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from formats_used(value)
    elif isinstance(node, list):
        for item in node:
            yield from formats_used(item)


# --- the checker itself --------------------------------------------------------------------

VALID_FORMATS: list[tuple[str, str]] = [
    ("uuid", "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"),
    ("date", "2024-02-29"),
]
INVALID_FORMATS: list[tuple[str, str]] = [
    ("uuid", "not-a-uuid"),
    ("uuid", "c4d5e6f7a8b90c1d2e3f4a5b6c7d8e9f"),
    ("date", "2023-02-29"),
    ("date", "2024-03-15T09:00:00"),
    ("date", "2024-03-15\n"),
]


@pytest.mark.parametrize(("fmt", "value"), VALID_FORMATS)
def test_format_checker_accepts(fmt: str, value: str) -> None:
    assert FORMAT_CHECKER.conforms(value, fmt), f"{value!r} should be a valid {fmt}"


@pytest.mark.parametrize(("fmt", "value"), INVALID_FORMATS)
def test_format_checker_rejects(fmt: str, value: str) -> None:
    assert not FORMAT_CHECKER.conforms(value, fmt), f"{value!r} should not be a valid {fmt}"


UUID = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"


def tiny_spec(*, uuid_example: str = UUID, date_time_example: str = "2024-03-15T09:00:00",
              json_example: str = '{"k": 1}') -> dict[str, Any]:
    """A minimal bundled spec with an example in each place the walker visits."""
    thing = {
        "type": "object",
        "required": ["thing_id"],
        "properties": {
            "thing_id": {"type": "string", "format": "uuid", "example": uuid_example},
            "at": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", "nullable": True},
            "data": {"type": "string", "nullable": True},
        },
    }
    media = {"schema": {"$ref": "#/components/schemas/Thing"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "tiny", "version": "1"},
        "paths": {
            "/v2/thing/view/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string", "format": "uuid"}, "example": UUID}],
                    "responses": {
                        "200": {
                            "description": "one thing",
                            "headers": {"X-Count": {"schema": {"type": "integer"}, "example": 3}},
                            "content": {"application/json": {
                                **media,
                                "example": {"thing_id": UUID, "at": date_time_example, "data": None},
                            }},
                        }
                    },
                }
            },
            "/v2/thing/create": {
                "post": {
                    "requestBody": {"content": {"application/json": {
                        **media,
                        "examples": {"full": {"value": {"thing_id": UUID, "at": None, "data": json_example}}},
                    }}},
                    "responses": {"201": {"description": "created"}},
                }
            },
        },
        "x-webhooks": {
            "thingCreated": {"post": {
                "requestBody": {"content": {"application/json": {**media, "example": {"thing_id": UUID}}}},
                "responses": {"200": {"description": "ok"}},
            }}
        },
        "components": {"schemas": {"Thing": thing}},
    }


def test_walker_visits_every_kind_of_example() -> None:
    found = {example.location for example in ExampleWalker(tiny_spec()).walk()}
    assert found == {
        "#/components/schemas/Thing/properties/thing_id/example",
        "#/paths/~1v2~1thing~1view~1{id}/get/parameters/0/example",
        "#/paths/~1v2~1thing~1view~1{id}/get/responses/200/headers/X-Count/example",
        "#/paths/~1v2~1thing~1view~1{id}/get/responses/200/content/application~1json/example",
        "#/paths/~1v2~1thing~1create/post/requestBody/content/application~1json/examples/full/value",
        "#/x-webhooks/thingCreated/post/requestBody/content/application~1json/example",
    }


def test_correct_examples_pass() -> None:
    assert example_mismatches(tiny_spec()) == []


def test_malformed_uuid_in_a_schema_example_is_reported() -> None:
    problems = example_mismatches(tiny_spec(uuid_example="not-a-uuid"))
    assert len(problems) == 1, problems
    assert problems[0].startswith("#/components/schemas/Thing/properties/thing_id/example"), problems
    assert "uuid" in problems[0], problems


def test_malformed_date_time_in_a_response_example_is_reported() -> None:
    problems = example_mismatches(tiny_spec(date_time_example="15/03/2024 09:00"))
    assert [p.split(":")[0] for p in problems] == [
        "#/paths/~1v2~1thing~1view~1{id}/get/responses/200/content/application~1json/example at at"
    ], problems


def test_a_date_time_with_a_trailing_newline_is_reported() -> None:
    """ECMA's `$` ends the text; the mock's validator reads the spec's patterns so (not as Python's `$`)."""
    problems = example_mismatches(tiny_spec(date_time_example="2024-03-15T09:00:00\n"))
    assert len(problems) == 1 and "example at at" in problems[0], problems
