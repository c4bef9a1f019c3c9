"""Fixtures of the mock's tests: domains built in-process, and the mock as a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockhttp import RunningMock, start_mock
from openapi_core_check import openapi_core_validated, pytest_addoption  # noqa: F401  (openapi-core judges every exchange; --no-openapi-core)
from mockworld import SEGMENTS, SMALL_WORLD, TODAY, World, spec


@pytest.fixture
def world() -> World:
    """An empty domain (directory only) whose today is 2026-06-15."""
    return World(TODAY)


@pytest.fixture(scope="session")
def small_mock() -> Iterator[RunningMock]:
    """The mock serving the small world, `--today 2026-06-15`, for the whole session."""
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD) as mock:
        yield mock


@pytest.fixture(scope="session")
def _small_clients(small_mock: RunningMock) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    # one client of each kind for the session: building an httpx client costs tens of ms
    with small_mock.client() as authorized, small_mock.client(token=None) as anonymous:
        yield authorized, anonymous


@pytest.fixture
def api(_small_clients: tuple[httpx.Client, httpx.Client]) -> Iterator[httpx.Client]:
    """A client of the small-world mock (Bearer token); the mock is reset after the test."""
    client = _small_clients[0]
    try:
        yield client
    finally:
        reset = client.post("/__mock/reset")
        assert reset.status_code == 200, reset.text


@pytest.fixture
def clock(api: httpx.Client) -> Iterator[httpx.Client]:
    """The client, with the mock's clock put back to the small world's today after the test."""
    try:
        yield api
    finally:
        assert api.put("/__mock/clock", json={"today": TODAY.isoformat()}).status_code == 200


@pytest.fixture
def anonymous(_small_clients: tuple[httpx.Client, httpx.Client]) -> httpx.Client:
    """A client of the small-world mock that sends no token (for reads and refused writes)."""
    return _small_clients[1]


@pytest.fixture(scope="session")
def small_spec_fields() -> dict[str, set[str]]:
    """Per resource, every property of its answer schema `X` (stored and computed)."""
    schemas = spec()["components"]["schemas"]
    fields = {}
    for segment in SEGMENTS:
        name = "".join(part.capitalize() for part in segment.split("-"))
        fields[segment] = set(schemas[f"{name}Fields"]["properties"]) | set(schemas[name]["allOf"][1]["properties"])
    return fields
