"""Security (README of the reference; openapi.yaml `security`): every operation needs a valid
token, sent as `Authorization: Bearer` or as the `access-token` query parameter; the mock's
OAuth2 password flow issues more."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockhttp import TOKEN
from mockworld import EXISTING, MISSING, PERSON_2, SEGMENTS, create_body, update_body

pytestmark = pytest.mark.http

TOKEN_PATH = "/realms/4hse/protocol/openid-connect/token"


def _operations() -> list[tuple[str, str, str, Any]]:
    """(id, method, path, json body) of every operation of every resource."""
    operations = []
    for segment in SEGMENTS:
        entity_id = EXISTING[segment]
        operations += [
            (f"{segment}/index", "POST", f"/v2/{segment}/index", {}),
            (f"{segment}/create", "POST", f"/v2/{segment}/create", create_body(segment)),
            (f"{segment}/view", "GET", f"/v2/{segment}/view/{entity_id}", None),
            (f"{segment}/update", "PUT", f"/v2/{segment}/update/{entity_id}", update_body(segment)),
            (f"{segment}/delete", "DELETE", f"/v2/{segment}/delete/{entity_id}", None),
        ]
    return operations


OPERATIONS = [pytest.param(m, p, b, id=i) for i, m, p, b in _operations()]


def _unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_without_a_token_is_401(api: httpx.Client, anonymous: httpx.Client, method: str, path: str, body: Any) -> None:
    before = api.get("/__mock/health").json()["entities"]
    _unauthorized(anonymous.request(method, path, json=body))
    # a refused request changes nothing
    assert api.get("/__mock/health").json()["entities"] == before


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_with_a_wrong_bearer_token_is_401(api: httpx.Client, anonymous: httpx.Client, method: str, path: str, body: Any) -> None:
    _unauthorized(anonymous.request(method, path, json=body, headers={"Authorization": "Bearer not-the-token"}))


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_with_a_wrong_access_token_is_401(api: httpx.Client, anonymous: httpx.Client, method: str, path: str, body: Any) -> None:
    _unauthorized(anonymous.request(method, path, json=body, params={"access-token": "not-the-token"}))


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_accepts_the_access_token_query_parameter(api: httpx.Client, anonymous: httpx.Client, method: str, path: str, body: Any) -> None:
    response = anonymous.request(method, path, json=body, params={"access-token": TOKEN})
    # authorized: whatever the outcome, not 401 (a delete of a parent may answer its 400 preview)
    assert response.status_code in (200, 201, 204, 400), response.text
    if response.status_code == 400:
        assert "entities" in response.json()


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_every_operation_accepts_the_bearer_token(api: httpx.Client, method: str, path: str, body: Any) -> None:
    response = api.request(method, path, json=body)
    assert response.status_code in (200, 201, 204, 400), response.text
    if response.status_code == 400:
        assert "entities" in response.json()


def test_a_token_in_another_header_scheme_is_401(anonymous: httpx.Client) -> None:
    _unauthorized(anonymous.post("/v2/action/index", headers={"Authorization": f"Basic {TOKEN}"}))


def test_401_comes_before_404_and_400(anonymous: httpx.Client) -> None:
    _unauthorized(anonymous.get(f"/v2/action/view/{MISSING}"))
    _unauthorized(anonymous.post("/v2/action/index", json={"per-page": 0}))


def _password_grant(client: httpx.Client, username: str, password: str, grant_type: str = "password") -> httpx.Response:
    return client.post(TOKEN_PATH, data={"grant_type": grant_type, "username": username, "password": password,
                                          "client_id": "4hse"})


def test_password_flow_issues_a_bearer_token_that_works(anonymous: httpx.Client) -> None:
    response = _password_grant(anonymous, "demo", "demo")
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["token_type"] == "Bearer"
    assert isinstance(issued["access_token"], str) and issued["access_token"] != TOKEN
    assert isinstance(issued["expires_in"], int) and issued["expires_in"] > 0
    token = issued["access_token"]
    assert anonymous.post("/v2/action/index", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert anonymous.post("/v2/action/index", params={"access-token": token}).status_code == 200


def test_password_flow_issues_a_new_token_each_time(anonymous: httpx.Client) -> None:
    first = _password_grant(anonymous, "demo", "demo").json()["access_token"]
    second = _password_grant(anonymous, "demo", "demo").json()["access_token"]
    assert first != second


@pytest.mark.parametrize("username, password", [("demo", "wrong"), ("nobody", "demo"), ("", "")])
def test_password_flow_refuses_wrong_credentials(anonymous: httpx.Client, username: str, password: str) -> None:
    response = _password_grant(anonymous, username, password)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"


def test_password_flow_refuses_another_grant_type(anonymous: httpx.Client) -> None:
    response = _password_grant(anonymous, "demo", "demo", grant_type="client_credentials")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_access_token_sits_beside_the_operations_own_query_parameters(anonymous: httpx.Client) -> None:
    response = anonymous.post("/v2/action-session-date/index", params={"subscriber_id": PERSON_2, "access-token": TOKEN}, json={})
    # PERSON_2 is enrolled in SESSION_NEXT, which has two dates
    assert response.status_code == 200, response.text
    assert response.headers["X-Pagination-Total-Count"] == "2"
