"""What the suite reads from the spec (the contract itself): operations, sort and filter fields."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .contract import contract

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the spec, with `{id}`
    operation_id: str

    @property
    def segment(self) -> str:
        return self.path.split("/")[2]

    @property
    def verb(self) -> str:
        return self.operation_id.rsplit("_", 1)[1]

    @property
    def has_id(self) -> bool:
        return "{id}" in self.path


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return contract()


def _resolve(node: Any) -> Any:
    document = spec()
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[int(token)] if isinstance(target, list) else target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def properties(schema_name: str) -> dict[str, dict[str, Any]]:
    """Every property of a component schema, through `allOf` and `$ref`, resolved."""

    def collect(node: Any) -> dict[str, dict[str, Any]]:
        node = _resolve(node)
        found: dict[str, dict[str, Any]] = {}
        for part in node.get("allOf", []):
            found.update(collect(part))
        for name, prop in node.get("properties", {}).items():
            found[name] = _merged(prop)
        return found

    return collect(spec()["components"]["schemas"][schema_name])


def _merged(node: Any) -> dict[str, Any]:
    node = _resolve(node)
    merged: dict[str, Any] = {}
    for part in node.get("allOf", []):
        merged.update(_merged(part))
    merged.update({k: v for k, v in node.items() if k != "allOf"})
    return merged


def schema_name(segment: str) -> str:
    return "".join(word.capitalize() for word in segment.split("-"))


@functools.lru_cache(maxsize=None)
def operations() -> tuple[Operation, ...]:
    found = []
    for path, item in spec()["paths"].items():
        if not path.startswith("/v2/"):
            continue
        for method in HTTP_METHODS:
            if method in item:
                found.append(Operation(method.upper(), path, item[method]["operationId"]))
    return tuple(found)


@functools.lru_cache(maxsize=None)
def sort_fields(segment: str) -> tuple[str, ...]:
    """The ascending sort fields the index of a resource allows."""
    request = properties(f"{schema_name(segment)}IndexRequest")
    allowed = request.get("sort", {}).get("enum", [])
    return tuple(v for v in allowed if not v.startswith("-"))


@functools.lru_cache(maxsize=None)
def filter_fields(segment: str) -> tuple[str, ...]:
    return tuple(properties(f"{schema_name(segment)}Filter"))


@functools.lru_cache(maxsize=None)
def computed_fields(segment: str) -> tuple[str, ...]:
    """Read-only properties: what a client may not set."""
    return tuple(name for name, prop in properties(schema_name(segment)).items() if prop.get("readOnly"))


@functools.lru_cache(maxsize=None)
def sendable_fields(segment: str) -> Mapping[str, dict[str, Any]]:
    return properties(f"{schema_name(segment)}Fields")


@functools.lru_cache(maxsize=None)
def required_on_create(segment: str) -> tuple[str, ...]:
    node = _resolve(spec()["components"]["schemas"][f"{schema_name(segment)}Create"])
    return tuple(node.get("required", []))


def is_json_text(segment: str, field_name: str) -> bool:
    prop = sendable_fields(segment).get(field_name, {})
    # JSON text is a plain string (no format a stock tool would misread) that its description names
    return prop.get("type") == "string" and not {"format", "pattern", "enum"} & prop.keys() and "JSON" in prop.get("description", "")


def has_field(segment: str, field_name: str) -> bool:
    return field_name in sendable_fields(segment)
