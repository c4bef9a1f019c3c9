"""CORS over a real server: preflights answered before Connexion's security and validation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockhttp import TOKEN, RunningMock, start_mock
from mockworld import FIRE, SMALL_WORLD, TODAY

pytestmark = pytest.mark.http
APP = "http://localhost:3000"
PAGINATION = {"X-Pagination-Current-Page", "X-Pagination-Page-Count", "X-Pagination-Per-Page", "X-Pagination-Total-Count"}
# What a browser app reads besides the pagination: the challenge of a 401 (the spec's Unauthorized
# response), which injected fault answered and when to retry (the simulated network's 503/429),
# the methods of a route that answered 405.
ERROR_HEADERS = {"WWW-Authenticate", "X-Mock-Fault", "Retry-After", "Allow"}
EXPOSED = PAGINATION | ERROR_HEADERS
TOKEN_URL = "/realms/4hse/protocol/openid-connect/token"


def _started(*extra: str) -> Iterator[RunningMock]:
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=extra) as mock:
        yield mock


@pytest.fixture(scope="module")
def default_cors() -> Iterator[RunningMock]:
    yield from _started()


def preflight(client: httpx.Client, path: str, origin: str = APP, method: str = "POST",
              headers: str = "authorization, content-type, x-mock-workspace") -> httpx.Response:
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path, method", [
    ("/v2/action/index", "POST"), (f"/v2/action/view/{FIRE}", "GET"), (f"/v2/action/update/{FIRE}", "PUT"),
    (f"/v2/action/delete/{FIRE}", "DELETE"), (TOKEN_URL, "POST"), ("/__mock/clock", "PUT"), ("/__mock/reset", "POST"),
])
@pytest.mark.parametrize("origin", [APP, "http://127.0.0.1:5173", "http://localhost"])
def test_a_preflight_from_a_local_origin_is_allowed(default_cors: RunningMock, path: str, method: str, origin: str) -> None:
    with default_cors.client(token=None) as client:  # a preflight never carries a token
        response = preflight(client, path, origin, method)
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type, x-mock-workspace"


@pytest.mark.parametrize("origin", ["http://evil.example", "https://localhost:3000", "http://localhost.evil.example:80"])
def test_a_preflight_from_another_origin_is_refused(default_cors: RunningMock, origin: str) -> None:
    with default_cors.client(token=None) as client:
        response = preflight(client, "/v2/action/index", origin)
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers


def exposed(response: httpx.Response) -> set[str]:
    """The headers a script of the page may read, lower-case (browsers compare them so)."""
    return {name.strip().lower() for name in response.headers.get("Access-Control-Expose-Headers", "").split(",")}


def assert_readable_by_the_app(response: httpx.Response, *headers: str) -> None:
    """`response` carries the CORS headers for APP, and each of `headers`, which it exposes."""
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert exposed(response) == {name.lower() for name in EXPOSED}
    for name in headers:
        assert name in response.headers, (name, dict(response.headers))


def test_an_answer_to_a_local_origin_exposes_the_pagination_headers(default_cors: RunningMock) -> None:
    with default_cors.client() as client:
        response = client.post("/v2/action/index", json={"per-page": 1}, headers={"Origin": APP})
    assert response.status_code == 200
    assert_readable_by_the_app(response, *PAGINATION)


def test_a_401_carries_the_cors_headers_and_exposes_its_challenge(default_cors: RunningMock) -> None:
    with default_cors.client(token=None) as client:
        response = client.post("/v2/action/index", json={}, headers={"Origin": APP})
    assert response.status_code == 401
    assert_readable_by_the_app(response, "WWW-Authenticate")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_405_carries_the_cors_headers_and_exposes_the_allowed_methods(default_cors: RunningMock) -> None:
    # A method the spec has no operation for: openapi-core cannot judge it, so no recorded client.
    with httpx.Client(base_url=default_cors.url, headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as client:
        response = client.get("/v2/action/index", headers={"Origin": APP})
    assert response.status_code == 405
    assert_readable_by_the_app(response, "Allow")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("status", [503, 429, 500])
def test_an_injected_fault_carries_the_cors_headers_and_exposes_its_headers(default_cors: RunningMock, status: int) -> None:
    workspace = {"X-Mock-Workspace": f"cors-fault-{status}"}
    with default_cors.client() as client:
        rule = {"path": "/v2/action/index", "status": status, **({"retry_after": 7} if status != 500 else {})}
        assert client.put("/__mock/faults", json=[rule], headers=workspace).status_code == 200
        try:
            response = client.post("/v2/action/index", json={}, headers={**workspace, "Origin": APP})
        finally:
            assert client.delete(f"/__mock/workspaces/{workspace['X-Mock-Workspace']}").status_code == 204
    assert response.status_code == status
    assert response.headers["X-Mock-Fault"] == f"status-{status}"
    if status == 500:
        assert_readable_by_the_app(response, "X-Mock-Fault")
    else:
        assert_readable_by_the_app(response, "X-Mock-Fault", "Retry-After")
        assert response.headers["Retry-After"] == "7"


def test_without_origin_no_cors_header_is_sent(default_cors: RunningMock) -> None:
    with default_cors.client() as client:
        response = client.post("/v2/action/index", json={})
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_listed_origins_replace_the_local_ones() -> None:
    for mock in _started("--cors-origin", "http://app.test:8000", "--cors-origin", "http://other.test"):
        with mock.client(token=None) as client:
            assert preflight(client, "/v2/action/index", "http://app.test:8000").status_code == 200
            assert preflight(client, "/v2/action/index", "http://other.test").status_code == 200
            assert preflight(client, "/v2/action/index", APP).status_code == 400


def test_a_star_allows_every_origin_with_credentials_as_its_own_origin() -> None:
    for mock in _started("--cors-origin", "*"):
        with mock.client(token=None) as client:
            response = preflight(client, "/v2/action/index", "http://anywhere.test")
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://anywhere.test"


def test_no_cors_sends_no_cors_headers() -> None:
    for mock in _started("--no-cors"):
        with mock.client() as client:
            refused = preflight(client, "/v2/action/index")
            answer = client.post("/v2/action/index", json={}, headers={"Origin": APP})
        assert refused.status_code == 405  # the route has no OPTIONS: as before CORS existed
        assert answer.status_code == 200
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/__mock/reset", None), ("PUT", "/__mock/clock", {"today": "2030-01-01"}),
    ("PUT", "/__mock/state", {"directory": {"projects": [], "offices": [], "resources": []}, "entities": {}}),
    ("DELETE", "/__mock/requests", None), ("POST", "/__mock/ui/reset", None),
])
def test_a_page_of_a_foreign_origin_cannot_change_the_controls(
        default_cors: RunningMock, method: str, path: str, body: dict | None) -> None:
    """A simple request (a form, or fetch without preflight) from a foreign page: the browser
    sends it whatever CORS says, so the mock must refuse it itself."""
    with default_cors.client(token=None) as client:
        before = client.get("/__mock/health").json()
        response = client.request(method, path, json=body, headers={"Origin": "http://evil.example"})
        assert response.status_code == 403, response.text
        assert client.get("/__mock/health").json() == before
        assert client.get("/__mock/clock").json()["today"] == TODAY.isoformat()


def test_controls_from_an_allowed_origin_or_without_origin_work(default_cors: RunningMock) -> None:
    with default_cors.client(token=None) as client:
        assert client.put("/__mock/clock", json={"today": "2030-01-01"}, headers={"Origin": APP}).status_code == 200
        assert client.put("/__mock/clock", json={"today": TODAY.isoformat()}).status_code == 200
        own = default_cors.url  # the dashboard's own origin
        assert client.post("/__mock/ui/reset", data={"workspace": "default"}, headers={"Origin": own}).status_code == 303
