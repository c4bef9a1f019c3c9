"""Reading the bundled spec the way the conventions of docs/ARCHITECTURE.md describe it.

Small helpers shared by the spec tests: the resource names and the names derived from them,
`$ref` resolution inside the bundled document, and the properties of a schema across `allOf`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]

# Written here, not read from the spec or the mock: it is what the spec must contain.
SEGMENTS: tuple[str, ...] = (
    "action",
    "action-session",
    "action-session-date",
    "certificate",
    "action-subscription",
    "action-session-subscription",
    "certificate-action",
)

VERBS: tuple[str, ...] = ("index", "create", "view", "update", "delete")

# verb -> (HTTP method, path template below /v2/<segment>/)
OPERATION_SHAPES: Mapping[str, tuple[str, str]] = {
    "index": ("post", "index"),
    "create": ("post", "create"),
    "view": ("get", "view/{id}"),
    "update": ("put", "update/{id}"),
    "delete": ("delete", "delete/{id}"),
}

HTTP_METHODS: frozenset[str] = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def snake(segment: str) -> str:
    """`action-session-date` -> `action_session_date`."""
    return segment.replace("-", "_")


def pascal(segment: str) -> str:
    """`action-session-date` -> `ActionSessionDate`."""
    return "".join(part.capitalize() for part in segment.split("-"))


def id_field(segment: str) -> str:
    """The id property of a resource: `action-session-date` -> `action_session_date_id`."""
    return f"{snake(segment)}_id"


def operation_id(segment: str, verb: str) -> str:
    """The operationId of one operation: (`action-session-date`, `view`) -> `action_session_date_view`."""
    return f"{snake(segment)}_{verb}"


def operation_path(segment: str, verb: str) -> str:
    """The documented path of one operation, e.g. `/v2/action/view/{id}`."""
    return f"/v2/{segment}/{OPERATION_SHAPES[verb][1]}"


def operation_method(verb: str) -> str:
    return OPERATION_SHAPES[verb][0]


def pointer_get(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer (`/components/schemas/Action`) of a document."""
    node = document
    for token in filter(None, pointer.split("/")):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def deref(spec: Schema, node: Any) -> Any:
    """Follow local `$ref`s (`#/...`) until a node that is not a reference."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r} inside the bundled spec")
        seen.add(ref)
        node = pointer_get(spec, ref[1:])
    return node


def component_schema(spec: Schema, name: str) -> Schema:
    """A schema of `components.schemas`, failing with a message that names it."""
    schemas = spec.get("components", {}).get("schemas", {})
    assert name in schemas, f"components.schemas has no {name!r}"
    return deref(spec, schemas[name])


def operation(spec: Schema, segment: str, verb: str) -> Schema:
    """The operation object of one documented operation, failing with a message that names it."""
    path, method = operation_path(segment, verb), operation_method(verb)
    path_item = spec.get("paths", {}).get(path)
    assert path_item is not None, f"the spec has no path {path}"
    path_item = deref(spec, path_item)
    assert method in path_item, f"{path} has no {method.upper()} operation"
    return path_item[method]


def all_of_parts(spec: Schema, schema: Any) -> Iterator[Schema]:
    """The schema (resolved) and, depth first, every schema it combines with `allOf`."""
    schema = deref(spec, schema)
    if not isinstance(schema, Mapping):
        return
    yield schema
    for part in schema.get("allOf", []):
        yield from all_of_parts(spec, part)


def properties_of(spec: Schema, schema: Any) -> dict[str, Schema]:
    """Every property a schema declares itself or through `allOf`, each resolved."""
    properties: dict[str, Schema] = {}
    for part in all_of_parts(spec, schema):
        for name, prop in part.get("properties", {}).items():
            properties.setdefault(name, deref(spec, prop))
    return properties


def required_of(spec: Schema, schema: Any) -> set[str]:
    """Every name a schema requires itself or through `allOf`."""
    return {name for part in all_of_parts(spec, schema) for name in part.get("required", [])}


def parameters_of(spec: Schema, path: str, method: str) -> list[Schema]:
    """The parameters of an operation (path-level ones included), each resolved."""
    path_item = deref(spec, spec["paths"][path])
    declared = list(path_item.get("parameters", [])) + list(path_item[method].get("parameters", []))
    return [deref(spec, parameter) for parameter in declared]
