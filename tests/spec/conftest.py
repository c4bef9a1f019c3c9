"""Fixtures of the spec tests: the spec, bundled once per session."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.spec import load_spec


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The bundled spec (one shared copy: tests must not change it)."""
    return load_spec()
