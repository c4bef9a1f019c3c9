"""The mock's seed data: a consistent world of two projects, loaded at start and on reset.

A seed file is the state format (docs/ARCHITECTURE.md) plus one thing: an entity's field may be a
date relative to the clock (`@today+30d`). Those are resolved here, at each load, for the date of
that load; a state imported through `/__mock/state` is never resolved (its strings stay strings).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from ..domain.clock import resolve_relative
from ..state_format import StateError, path_text

DEFAULT_SEED = Path(__file__).with_name("default.yaml")


def read_seed(path: Path | None = None) -> dict[str, Any]:
    """A seed file (YAML or JSON, see docs/ARCHITECTURE.md) as data, its relative dates unresolved."""
    path = path or DEFAULT_SEED
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed is a mapping with `directory` and `entities`")
    return data


def without_entities(data: dict[str, Any]) -> dict[str, Any]:
    """Reference data only (`--empty`)."""
    return {"directory": data.get("directory"), "entities": {}}


def resolve_seed(data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The seed with each relative date of an entity's fields resolved for `today` (a new
    document: `data` is kept as it is, for the next reset). Parts that are not of the format are
    left as they are, for the state check to name; StateError names a relative date that does not
    resolve (not one, or out of the calendar on that day)."""
    entities = data.get("entities")
    if not isinstance(entities, dict):
        return data
    resolved: dict[str, Any] = {}
    for segment, bodies in entities.items():
        if not isinstance(bodies, list):
            resolved[segment] = bodies
            continue
        resolved[segment] = [
            _resolve_body(body, today, ["entities", segment, position]) if isinstance(body, dict) else body
            for position, body in enumerate(bodies)
        ]
    return {**data, "entities": resolved}


def _resolve_body(body: dict[str, Any], today: dt.date, where: list[str | int]) -> dict[str, Any]:
    resolved = {}
    for field, value in body.items():
        try:
            resolved[field] = resolve_relative(value, today)
        except ValueError as error:
            raise StateError(path_text([*where, field]), str(error)) from None
    return resolved
