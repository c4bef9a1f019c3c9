"""The contract: this project's spec, bundled into one file that travels with the suite.

`openapi.bundled.json` next to the suite's package is the spec bundled from `openapi/` (in the
checkout a link to `openapi/openapi.bundled.json`, whose freshness the spec lint checks; in an
installed suite a copy). The suite reads its contract from there only, never from the server it
tests nor from the mock's code, so that it judges every target, the mock included, by the same
document.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

CONTRACT_FILE = Path(__file__).resolve().parent.parent / "openapi.bundled.json"


@functools.lru_cache(maxsize=1)
def _contract() -> dict[str, Any]:
    with CONTRACT_FILE.open(encoding="utf-8") as stream:
        return json.load(stream)


def contract() -> dict[str, Any]:
    """The spec as one document (a fresh copy each call: callers may change it)."""
    return copy.deepcopy(_contract())


def segments() -> tuple[str, ...]:
    """The resources' URL segments (`/v2/<segment>/...`), in the order the spec lists them."""
    return tuple(dict.fromkeys(path.split("/")[2] for path in _contract()["paths"]))
