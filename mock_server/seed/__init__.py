"""The mock's seed data: a consistent world of two projects, loaded at start and on reset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SEED = Path(__file__).with_name("default.yaml")


def read_seed(path: Path | None = None) -> dict[str, Any]:
    """A seed file (YAML or JSON, see docs/ARCHITECTURE.md) as data."""
    path = path or DEFAULT_SEED
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed is a mapping with `directory` and `entities`")
    return data


def without_entities(data: dict[str, Any]) -> dict[str, Any]:
    """Reference data only (`--empty`)."""
    return {"directory": data.get("directory") or {}, "entities": {}}
