"""How a filter value selects an entity, per the spec: the one reading of the filter rule that
the scenarios' expectations and the verification of answers share."""

from __future__ import annotations

import json
from typing import Any

from . import oracle, spec_view


def match_kind(segment: str, field: str) -> str:
    """The spec's rule of a filter: ids, enums, numbers, booleans, dates (and objects, by key)
    match exactly; other strings (JSON text included) by case-insensitive substring."""
    prop = spec_view.properties(f"{spec_view.schema_name(segment)}Filter")[field]
    if prop.get("type") == "object":
        return "object"
    if "enum" in prop or prop.get("type") in ("integer", "number", "boolean") or prop.get("format") in ("uuid", "date") or "pattern" in prop:
        return "exact"
    return "text"


def matches(kind: str, value: Any, needle: Any) -> bool:
    """Whether an entity's value passes a filter value: null matches null only."""
    if needle is None or value is None:
        return needle is None and value is None
    if kind == "object":
        return isinstance(value, dict) and isinstance(needle, dict) and all(k in value and value[k] == v for k, v in needle.items())
    if kind == "text":
        text = value if isinstance(value, str) else json.dumps(value)
        return oracle.text_matches(text, str(needle))
    if isinstance(value, bool) or isinstance(needle, bool):
        return isinstance(value, bool) and isinstance(needle, bool) and value == needle
    if isinstance(value, str) and isinstance(needle, str):
        return value.lower() == needle.lower()  # ids in any case
    return bool(value == needle)
