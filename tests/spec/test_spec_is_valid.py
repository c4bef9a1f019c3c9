"""The spec is valid OpenAPI 3.0 and follows the conventions of docs/ARCHITECTURE.md.

Validity is checked twice: on the entry file, with its base uri so the file refs resolve, and on
the bundled document that the mock serves. The conventions are checked per resource, so a
resource file that breaks one fails under its own test id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV30SpecValidator
from referencing.exceptions import Unresolvable

from mock_server.spec import ENTRY_FILE, spec_dir
from spec_support import (
    HTTP_METHODS,
    SEGMENTS,
    VERBS,
    Schema,
    all_of_parts,
    component_schema,
    deref,
    id_field,
    operation,
    operation_id,
    operation_method,
    operation_path,
    parameters_of,
    pascal,
    properties_of,
    required_of,
)

PAGINATION_HEADERS: tuple[str, ...] = (
    "X-Pagination-Current-Page",
    "X-Pagination-Page-Count",
    "X-Pagination-Per-Page",
    "X-Pagination-Total-Count",
)
INDEX_REQUEST_PROPERTIES: frozenset[str] = frozenset({"filter", "per-page", "page", "sort", "history"})


def openapi_errors(document: Mapping[str, Any], base_uri: str = "") -> list[str]:
    """Every error openapi-spec-validator finds in a document, as `path: message` lines."""
    validator = OpenAPIV30SpecValidator(SchemaPath.from_dict(document, base_uri=base_uri))
    try:
        errors = list(validator.iter_errors())
    except Unresolvable as unresolvable:
        return [f"a $ref does not resolve: {unresolvable}"]
    return [f"{'/'.join(map(str, error.path)) or '<root>'}: {first_line(error.message)}" for error in errors]


def first_line(message: str) -> str:
    """The message without the schema and instance dumps jsonschema appends to it."""
    return message.strip().splitlines()[0]


def joined(problems: list[str]) -> str:
    return "\n  " + "\n  ".join(problems)


# --- validity ------------------------------------------------------------------------------


def test_entry_file_is_valid_openapi_with_its_file_refs() -> None:
    entry = spec_dir() / ENTRY_FILE
    document = yaml.safe_load(entry.read_text(encoding="utf-8"))
    errors = openapi_errors(document, base_uri=entry.resolve().as_uri())
    assert not errors, f"{entry} is not valid OpenAPI 3.0:{joined(errors)}"


def test_bundled_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    errors = openapi_errors(spec)
    assert not errors, f"the bundled spec is not valid OpenAPI 3.0:{joined(errors)}"


# --- paths and operations ----------------------------------------------------------------


def documented_operations() -> set[tuple[str, str]]:
    """(path, method) of every operation ARCHITECTURE.md documents."""
    return {(operation_path(s, v), operation_method(v)) for s in SEGMENTS for v in VERBS}


def spec_operations(spec: Schema) -> Iterator[tuple[str, str, Schema]]:
    """(path, method, operation) of every operation under `paths`."""
    for path, path_item in spec.get("paths", {}).items():
        for method, op in deref(spec, path_item).items():
            if method in HTTP_METHODS:
                yield path, method, op


def test_paths_are_exactly_the_documented_operations(spec: dict[str, Any]) -> None:
    present = {(path, method) for path, method, _ in spec_operations(spec)}
    missing = sorted(documented_operations() - present)
    extra = sorted(present - documented_operations())
    assert not missing and not extra, (
        f"operations missing: {[f'{m.upper()} {p}' for p, m in missing]}; "
        f"operations not documented in ARCHITECTURE.md: {[f'{m.upper()} {p}' for p, m in extra]}"
    )


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for path, method, op in spec_operations(spec):
        where = f"{method.upper()} {path}"
        if op.get("operationId") in seen:
            duplicates.append(f"{op['operationId']}: {seen[op['operationId']]} and {where}")
        seen.setdefault(op.get("operationId"), where)
    assert not duplicates, f"operationIds used twice:{joined(duplicates)}"


def response_links(spec: Schema) -> Iterator[tuple[str, Schema]]:
    """(where, link) of every link of every response of every operation, each resolved."""
    for path, method, op in spec_operations(spec):
        for status, response in op.get("responses", {}).items():
            for name, link in deref(spec, response).get("links", {}).items():
                yield f"{method.upper()} {path} response {status} link {name!r}", deref(spec, link)


def test_links_name_existing_operations(spec: dict[str, Any]) -> None:
    known = {op.get("operationId") for _, _, op in spec_operations(spec)}
    dangling = [
        f"{where} names {link['operationId']!r}"
        for where, link in response_links(spec)
        if "operationId" in link and link["operationId"] not in known
    ]
    assert not dangling, f"links to operationIds that do not exist:{joined(dangling)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_resource_has_the_five_operations_with_their_operation_ids(spec: dict[str, Any], segment: str) -> None:
    problems = []
    for verb in VERBS:
        path, method = operation_path(segment, verb), operation_method(verb)
        path_item = spec.get("paths", {}).get(path)
        if path_item is None:
            problems.append(f"no path {path}")
            continue
        path_item = deref(spec, path_item)
        methods = sorted(set(path_item) & HTTP_METHODS)
        if methods != [method]:
            problems.append(f"{path} offers {[m.upper() for m in methods]}, expected only {method.upper()}")
        found = path_item.get(method, {}).get("operationId")
        if method in path_item and found != operation_id(segment, verb):
            expected = operation_id(segment, verb)
            problems.append(f"{method.upper()} {path} has operationId {found!r}, expected {expected!r}")
    assert not problems, f"{segment}:{joined(problems)}"


def security_problems(spec: Schema, where: str, op: Schema) -> list[str]:
    """Why an operation is not protected by the security schemes of the spec (empty if it is)."""
    requirements = op.get("security", spec.get("security"))
    schemes = spec.get("components", {}).get("securitySchemes", {})
    if not requirements:
        return [f"{where} has no security requirement (neither its own nor a global one)"]
    problems = []
    for requirement in requirements:
        if not requirement:
            problems.append(f"{where} lists an empty security requirement: it can be called anonymously")
        problems += [f"{where} names the unknown security scheme {n!r}" for n in requirement if n not in schemes]
    return problems


@pytest.mark.parametrize("segment", SEGMENTS)
def test_every_operation_requires_a_token_and_documents_401(spec: dict[str, Any], segment: str) -> None:
    problems = []
    for path, method, op in spec_operations(spec):
        if not path.startswith(f"/v2/{segment}/"):
            continue
        where = f"{method.upper()} {path}"
        problems += security_problems(spec, where, op)
        if "401" not in op.get("responses", {}):
            problems.append(f"{where} documents no 401 response")
    assert not problems, f"{segment}:{joined(problems)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_index_documents_the_four_pagination_headers_as_required(spec: dict[str, Any], segment: str) -> None:
    response = deref(spec, operation(spec, segment, "index").get("responses", {}).get("200"))
    assert response, f"POST /v2/{segment}/index documents no 200 response"
    headers = {name: deref(spec, header) for name, header in response.get("headers", {}).items()}
    problems = [f"header {name} is missing" for name in PAGINATION_HEADERS if name not in headers]
    problems += [
        f"header {name} is not `required: true`"
        for name in PAGINATION_HEADERS
        if name in headers and headers[name].get("required") is not True
    ]
    problems += [
        f"header {name} is not an integer"
        for name in PAGINATION_HEADERS
        if name in headers and deref(spec, headers[name].get("schema", {})).get("type") != "integer"
    ]
    assert not problems, f"200 of POST /v2/{segment}/index:{joined(problems)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_delete_takes_the_force_query_parameter(spec: dict[str, Any], segment: str) -> None:
    path = operation_path(segment, "delete")
    operation(spec, segment, "delete")
    force = [p for p in parameters_of(spec, path, "delete") if p.get("name") == "force"]
    assert force, f"DELETE {path} has no `force` parameter"
    assert force[0].get("in") == "query", f"`force` of DELETE {path} is not a query parameter"
    assert not force[0].get("required", False), f"`force` of DELETE {path} must be optional"
    force_type = deref(spec, force[0].get("schema", {})).get("type")
    assert force_type == "boolean", f"`force` of DELETE {path} is a {force_type!r}, not a boolean"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_operations_on_one_entity_take_a_uuid_id_in_the_path(spec: dict[str, Any], segment: str) -> None:
    problems = []
    for verb in ("view", "update", "delete"):
        path, method = operation_path(segment, verb), operation_method(verb)
        operation(spec, segment, verb)
        ids = [p for p in parameters_of(spec, path, method) if p.get("name") == "id" and p.get("in") == "path"]
        if not ids:
            problems.append(f"{method.upper()} {path} has no path parameter `id`")
        elif deref(spec, ids[0].get("schema", {})).get("format") != "uuid" or ids[0].get("required") is not True:
            problems.append(f"`id` of {method.upper()} {path} is not a required uuid")
    assert not problems, f"{segment}:{joined(problems)}"


# --- schemas of a resource ---------------------------------------------------------------


def local_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_schema_of(spec: Schema, segment: str, verb: str, part: str) -> Any:
    """The `application/json` schema of an operation's request body (`part="request"`) or response."""
    op = operation(spec, segment, verb)
    container = op.get("requestBody") if part == "request" else op.get("responses", {}).get(part)
    content = deref(spec, container or {}).get("content", {})
    return content.get("application/json", {}).get("schema")


@pytest.mark.parametrize("segment", SEGMENTS)
def test_operations_send_and_answer_the_resource_schemas(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    expected: list[tuple[str, str, dict[str, str]]] = [
        ("index", "request", local_ref(f"{name}IndexRequest")),
        ("create", "request", local_ref(f"{name}Create")),
        ("create", "201", local_ref(name)),
        ("view", "200", local_ref(name)),
        ("update", "request", local_ref(f"{name}Fields")),
        ("update", "200", local_ref(name)),
    ]
    problems = [
        f"{verb} {part}: schema is {found!r}, expected {wanted!r}"
        for verb, part, wanted in expected
        if (found := json_schema_of(spec, segment, verb, part)) != wanted
    ]
    index_answer = json_schema_of(spec, segment, "index", "200") or {}
    if index_answer.get("type") != "array" or index_answer.get("items") != local_ref(name):
        problems.append(f"index 200: schema is {index_answer!r}, expected an array of {local_ref(name)!r}")
    if "204" not in operation(spec, segment, "delete").get("responses", {}):
        problems.append("delete documents no 204")
    assert not problems, f"{segment}:{joined(problems)}"


def computed_part(spec: Schema, segment: str) -> dict[str, Schema]:
    """The properties X adds to XFields: its computed fields."""
    name = pascal(segment)
    entity = component_schema(spec, name)
    assert local_ref(f"{name}Fields") in entity.get("allOf", []), f"{name} is not `allOf: [{name}Fields, ...]`"
    computed: dict[str, Schema] = {}
    for part in entity["allOf"]:
        if part != local_ref(f"{name}Fields"):
            computed.update(properties_of(spec, part))
    computed.update({n: deref(spec, p) for n, p in entity.get("properties", {}).items()})
    return computed


@pytest.mark.parametrize("segment", SEGMENTS)
def test_fields_schema_holds_the_uuid_id_and_requires_nothing(spec: dict[str, Any], segment: str) -> None:
    name, id_name = pascal(segment), id_field(segment)
    fields = component_schema(spec, f"{name}Fields")
    properties = properties_of(spec, fields)
    assert id_name in properties, f"{name}Fields has no id property {id_name!r}"
    assert properties[id_name].get("format") == "uuid", f"{name}Fields.{id_name} is not a uuid"
    assert not required_of(spec, fields), f"{name}Fields has a `required` list, but it is the partial update body"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_schema_is_the_fields_with_a_required_list(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    create = component_schema(spec, f"{name}Create")
    assert local_ref(f"{name}Fields") in create.get("allOf", []), f"{name}Create is not `allOf: [{name}Fields]`"
    unknown = sorted(required_of(spec, create) - set(properties_of(spec, create)))
    assert not unknown, f"{name}Create requires names that are not properties of {name}Fields: {unknown}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_entity_schema_requires_its_id_and_what_create_requires(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    entity_required = required_of(spec, component_schema(spec, name))
    create_required = required_of(spec, component_schema(spec, f"{name}Create"))
    properties = set(properties_of(spec, component_schema(spec, name))) | set(computed_part(spec, segment))
    unrequired = ({id_field(segment)} | create_required) - entity_required
    problems = [f"{name} does not require {n!r}" for n in sorted(unrequired)]
    problems += [f"{name} requires {n!r}, which is not one of its properties" for n in sorted(entity_required - properties)]
    assert not problems, f"{segment}:{joined(problems)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_and_update_bodies_accept_unknown_properties(spec: dict[str, Any], segment: str) -> None:
    closed = [
        schema_name
        for schema_name in (f"{pascal(segment)}Fields", f"{pascal(segment)}Create")
        if any(p.get("additionalProperties") is False for p in all_of_parts(spec, component_schema(spec, schema_name)))
    ]
    assert not closed, f"{closed} forbid unknown properties; create and update bodies must accept and ignore them"


def read_only_names(spec: Schema, schema: Any, seen: set[int] | None = None) -> Iterator[str]:
    """The name of every readOnly property reachable from a schema, nested ones included."""
    seen = set() if seen is None else seen
    schema = deref(spec, schema)
    if not isinstance(schema, Mapping) or id(schema) in seen:
        return
    seen.add(id(schema))
    for name, prop in schema.get("properties", {}).items():
        if deref(spec, prop).get("readOnly") is True:
            yield name
        yield from read_only_names(spec, prop, seen)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(keyword, []):
            yield from read_only_names(spec, part, seen)
    for keyword in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(keyword), Mapping):
            yield from read_only_names(spec, schema[keyword], seen)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_computed_properties_are_read_only(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    computed = computed_part(spec, segment)
    writable = sorted(n for n, prop in computed.items() if prop.get("readOnly") is not True)
    assert not writable, f"computed properties of {name} that are not readOnly: {writable}"
    fields = properties_of(spec, component_schema(spec, f"{name}Fields"))
    both = sorted(set(fields) & set(computed))
    assert not both, f"properties both in {name}Fields and in the computed part of {name}: {both}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_read_only_properties_are_only_the_computed_ones(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    computed = computed_part(spec, segment)
    problems = [
        f"{schema_name}: readOnly property {prop_name!r} is not in the computed part of {name}"
        for schema_name in (f"{name}Fields", f"{name}Create", name, f"{name}Filter", f"{name}IndexRequest")
        for prop_name in sorted(set(read_only_names(spec, component_schema(spec, schema_name))))
        if prop_name not in computed
    ]
    assert not problems, f"{segment}:{joined(problems)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_filter_and_index_request_forbid_unknown_fields(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    index_request = component_schema(spec, f"{name}IndexRequest")
    problems = [
        f"{schema_name} does not have `additionalProperties: false`"
        for schema_name in (f"{name}Filter", f"{name}IndexRequest")
        if component_schema(spec, schema_name).get("additionalProperties") is not False
    ]
    present = set(index_request.get("properties", {}))
    if present != INDEX_REQUEST_PROPERTIES:
        expected = sorted(INDEX_REQUEST_PROPERTIES)
        problems.append(f"{name}IndexRequest has properties {sorted(present)}, expected {expected}")
    if index_request.get("properties", {}).get("filter") != local_ref(f"{name}Filter"):
        problems.append(f"{name}IndexRequest.filter is not a $ref to {name}Filter")
    assert not problems, f"{segment}:{joined(problems)}"


def value_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """What a property accepts: its schema without the words about it (description) and without
    `readOnly`, which a filter on a computed field must not carry (a filter is a request). A
    filter on JSON text takes any substring of it, so its `format: json` is dropped too."""
    kept = {key: value for key, value in prop.items() if key not in ("description", "readOnly")}
    if kept.get("format") == "json":
        del kept["format"]
    return kept


@pytest.mark.parametrize("segment", SEGMENTS)
def test_filter_fields_are_entity_properties_with_their_schema(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    entity = properties_of(spec, component_schema(spec, name))
    problems = []
    for field, prop in properties_of(spec, component_schema(spec, f"{name}Filter")).items():
        if field not in entity:
            problems.append(f"{name}Filter.{field} is not a property of {name}")
        elif value_schema(prop) != value_schema(entity[field]):
            problems.append(f"{name}Filter.{field} does not accept what {name}.{field} holds")
        elif prop.get("readOnly"):
            problems.append(f"{name}Filter.{field} is readOnly, but a filter is sent by the client")
    assert not problems, f"{segment}:{joined(problems)}"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_sort_names_entity_fields_in_both_directions(spec: dict[str, Any], segment: str) -> None:
    name = pascal(segment)
    sort = deref(spec, component_schema(spec, f"{name}IndexRequest").get("properties", {}).get("sort", {}))
    values = set(sort.get("enum", []))
    assert values, f"{name}IndexRequest.sort has no enum of the allowed fields"
    fields = {value.removeprefix("-") for value in values}
    entity = properties_of(spec, component_schema(spec, name))
    problems = [f"sort field {f!r} is not a property of {name}" for f in sorted(fields - set(entity))]
    problems += [f"sort lacks {v!r}" for f in sorted(fields) for v in (f, f"-{f}") if v not in values]
    assert not problems, f"{segment}:{joined(problems)}"

