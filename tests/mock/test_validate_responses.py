"""The mock's answers conform to its own spec: requests through an in-process app created with
`MockConfig(validate_responses=True)`, under which Connexion checks every response against the
spec and turns a non-conforming one into a 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import MockConfig
from mockworld import (
    EXISTING, FIRE, MISSING, SEGMENTS, SESSION_NEXT, SMALL_WORLD, TODAY, create_body, id_field, spec, update_body,
)

AUTH = {"Authorization": "Bearer mock-token"}


def _sorts(segment: str) -> list[str]:
    name = "".join(part.capitalize() for part in segment.split("-"))
    return list(spec()["components"]["schemas"][f"{name}IndexRequest"]["properties"]["sort"]["enum"])


def _client(seed: Any) -> TestClient:
    app = create_app(MockConfig(validate_responses=True, today=TODAY, seed_path=seed))
    return TestClient(app, headers=AUTH, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def small_app() -> Iterator[TestClient]:
    with _client(SMALL_WORLD) as client:
        yield client


@pytest.fixture
def small(small_app: TestClient) -> Iterator[TestClient]:
    try:
        yield small_app
    finally:
        assert small_app.post("/__mock/reset").status_code == 200


@pytest.fixture(scope="module")
def seeded() -> Iterator[TestClient]:
    """The bundled seed; its reads only."""
    with _client(None) as client:
        yield client


def _expect(client: TestClient, method: str, path: str, status: int, **kwargs: Any) -> Any:
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text[:300]}"
    return response


def test_the_response_check_is_active(small: TestClient) -> None:
    # a stored value of the wrong type must make the answer non-conforming: a 500
    domain = small.app.mock_state.domain  # type: ignore[attr-defined]
    row = domain.store.get("action", FIRE)
    domain.store.replace("action", {**row, "name": 123})
    _expect(small, "GET", f"/v2/action/view/{FIRE}", 500)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_index_answers_conform_with_every_sort(small: TestClient, segment: str) -> None:
    _expect(small, "POST", f"/v2/{segment}/index", 200)
    _expect(small, "POST", f"/v2/{segment}/index", 200, json={"per-page": 1, "page": 2, "history": True})
    _expect(small, "POST", f"/v2/{segment}/index", 200, json={"page": 50})
    for sort in _sorts(segment):
        _expect(small, "POST", f"/v2/{segment}/index", 200, json={"sort": sort})


@pytest.mark.parametrize("segment", SEGMENTS)
def test_crud_answers_conform(small: TestClient, segment: str) -> None:
    created = _expect(small, "POST", f"/v2/{segment}/create", 201, json=create_body(segment)).json()
    new_id = created[id_field(segment)]
    _expect(small, "GET", f"/v2/{segment}/view/{new_id}", 200)
    _expect(small, "GET", f"/v2/{segment}/view/{EXISTING[segment]}", 200)
    _expect(small, "PUT", f"/v2/{segment}/update/{EXISTING[segment]}", 200, json=update_body(segment))
    _expect(small, "DELETE", f"/v2/{segment}/delete/{new_id}", 204)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_error_answers_conform(small: TestClient, segment: str) -> None:
    _expect(small, "GET", f"/v2/{segment}/view/{MISSING}", 404)
    _expect(small, "GET", f"/v2/{segment}/view/nope", 400)
    _expect(small, "PUT", f"/v2/{segment}/update/{MISSING}", 404, json=update_body(segment))
    _expect(small, "DELETE", f"/v2/{segment}/delete/{MISSING}", 404)
    _expect(small, "DELETE", f"/v2/{segment}/delete/nope", 400)
    _expect(small, "POST", f"/v2/{segment}/create", 422, json={**create_body(segment), id_field(segment): EXISTING[segment]})
    _expect(small, "POST", f"/v2/{segment}/create", 400, json={})
    _expect(small, "POST", f"/v2/{segment}/index", 400, json={"per-page": 101})
    _expect(small, "PUT", f"/v2/{segment}/update/{EXISTING[segment]}", 422, json={id_field(segment): MISSING})
    _expect(small, "POST", f"/v2/{segment}/index", 401, headers={"Authorization": "Bearer wrong"})


@pytest.mark.parametrize("segment, entity_id", [
    ("action", FIRE),
    ("action-session", SESSION_NEXT),
    ("certificate", EXISTING["certificate"]),
    ("action-subscription", "50000000-0000-4000-8000-000000000002"),
])
def test_delete_preview_and_force_answers_conform(small: TestClient, segment: str, entity_id: str) -> None:
    _expect(small, "DELETE", f"/v2/{segment}/delete/{entity_id}", 400)
    _expect(small, "DELETE", f"/v2/{segment}/delete/{entity_id}", 204, params={"force": "true"})


@pytest.mark.parametrize("segment", SEGMENTS)
def test_every_seed_entity_conforms_in_index_and_view(seeded: TestClient, segment: str) -> None:
    items = _expect(seeded, "POST", f"/v2/{segment}/index", 200, json={"per-page": 100}).json()
    total = int(_expect(seeded, "POST", f"/v2/{segment}/index", 200).headers["X-Pagination-Total-Count"])
    assert total == len(items) > 0, "the seed holds at most 100 of each resource"
    for sort in _sorts(segment):
        _expect(seeded, "POST", f"/v2/{segment}/index", 200, json={"sort": sort})
    for item in items:
        _expect(seeded, "GET", f"/v2/{segment}/view/{item[id_field(segment)]}", 200)


def test_the_seeded_app_uses_the_fixed_date(seeded: TestClient) -> None:
    assert seeded.get("/__mock/clock").json() == {"today": TODAY.isoformat(), "fixed": True}
    assert dt.date.fromisoformat(seeded.get("/__mock/health").json()["today"]) == TODAY
