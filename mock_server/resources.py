"""What the spec says about each resource: its fields, filters and sort keys.

Everything here is read from the bundled spec (see docs/ARCHITECTURE.md for the schema names),
so the mock holds no field list of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SEGMENTS = (
    "action",
    "action-session",
    "action-session-date",
    "certificate",
    "action-subscription",
    "action-session-subscription",
    "certificate-action",
)

Match = Literal["exact", "substring"]


def schema_name(segment: str) -> str:
    return "".join(part.capitalize() for part in segment.split("-"))


def id_field(segment: str) -> str:
    return segment.replace("-", "_") + "_id"


@dataclass(frozen=True)
class Resource:
    segment: str
    id_field: str
    stored: tuple[str, ...]  # fields a client may send and the server keeps
    computed: tuple[str, ...]  # read-only fields the server derives
    filters: dict[str, Match]
    sorts: frozenset[str]
    defaults: dict[str, Any]  # schema defaults of stored fields, applied on create


def _match_kind(schema: dict[str, Any]) -> Match:
    if "enum" in schema or schema.get("type") in ("integer", "number", "boolean", "object"):
        return "exact"
    # ids, dates and date-times (a string with a `pattern`: the spec's local date-times)
    if schema.get("format") in ("uuid", "date") or "pattern" in schema:
        return "exact"
    return "substring"


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def read_resources(spec: dict[str, Any]) -> dict[str, Resource]:
    schemas = spec["components"]["schemas"]
    resources = {}
    for segment in SEGMENTS:
        name = schema_name(segment)
        fields = schemas[f"{name}Fields"]["properties"]
        resolved = {field: _resolve(prop, spec) for field, prop in fields.items()}
        computed_part = schemas[name]["allOf"][1].get("properties", {})
        filters = {
            field: _match_kind(_resolve(prop, spec))
            for field, prop in schemas[f"{name}Filter"]["properties"].items()
        }
        sort_enum = _resolve(schemas[f"{name}IndexRequest"], spec)["properties"]["sort"]["enum"]
        resources[segment] = Resource(
            segment=segment,
            id_field=id_field(segment),
            stored=tuple(fields),
            computed=tuple(computed_part),
            filters=filters,
            sorts=frozenset(key.lstrip("-") for key in sort_enum),
            defaults={f: p["default"] for f, p in resolved.items() if "default" in p},
        )
    return resources
