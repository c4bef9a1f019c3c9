"""Workspaces over a real server: X-Mock-Workspace selects an isolated state, clock and request log."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.request_log import BODY_EXCERPT_BYTES, UNREAD_BODY_BYTES
from mock_server.workspaces import MAX_WORKSPACES
from mockhttp import RunningMock, start_mock
from mockworld import FIRE, SMALL_WORLD, SUB_1, TODAY, create_body

pytestmark = pytest.mark.http
HEADER = "X-Mock-Workspace"


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    """A mock of its own: these tests create and drop workspaces."""
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD) as started:
        yield started


@pytest.fixture
def client(mock: RunningMock) -> Iterator[httpx.Client]:
    with mock.client() as client:
        yield client
        for workspace in client.get("/__mock/workspaces").json()["workspaces"]:
            if workspace["name"] != "default":
                assert client.delete(f"/__mock/workspaces/{workspace['name']}").status_code == 204
        assert client.post("/__mock/reset").status_code == 200
        assert client.delete("/__mock/requests").status_code == 204


def in_workspace(name: str) -> dict[str, str]:
    return {HEADER: name}


def action_codes(client: httpx.Client, workspace: str | None) -> set[str]:
    headers = in_workspace(workspace) if workspace else {}
    response = client.post("/v2/action/index", json={"per-page": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return {action["code"] for action in response.json()}


def test_two_workspaces_written_in_parallel_keep_their_state_and_clock_apart(client: httpx.Client) -> None:
    writes_per_workspace = 15
    errors: list[str] = []

    def write(workspace: str, today: str) -> None:
        with httpx.Client(base_url=str(client.base_url), headers={**client.headers, HEADER: workspace},
                          timeout=15.0, trust_env=False) as own:
            if own.put("/__mock/clock", json={"today": today}).status_code != 200:
                errors.append(f"{workspace}: clock")
            for number in range(writes_per_workspace):
                body = {**create_body("action"), "code": f"{workspace}-{number}"}
                response = own.post("/v2/action/create", json=body)
                if response.status_code != 201:
                    errors.append(f"{workspace}: {response.status_code} {response.text}")

    threads = [threading.Thread(target=write, args=("job-a", "2027-01-01")),
               threading.Thread(target=write, args=("job-b", "2028-06-30"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    seed_codes = action_codes(client, None)
    assert not any(code.startswith("job-") for code in seed_codes), "the default workspace saw a job's writes"
    for workspace in ("job-a", "job-b"):
        codes = action_codes(client, workspace)
        assert codes - seed_codes == {f"{workspace}-{number}" for number in range(writes_per_workspace)}
    assert client.get("/__mock/clock", headers=in_workspace("job-a")).json() == {"today": "2027-01-01", "fixed": True}
    assert client.get("/__mock/clock", headers=in_workspace("job-b")).json() == {"today": "2028-06-30", "fixed": True}
    assert client.get("/__mock/clock").json()["today"] == TODAY.isoformat()


def test_a_new_workspace_starts_from_the_seed_on_the_start_up_clock(client: httpx.Client) -> None:
    assert client.delete(f"/v2/action/delete/{FIRE}", params={"force": "true"}).status_code == 204
    assert client.put("/__mock/clock", json={"today": "2030-01-01"}).status_code == 200
    fresh = in_workspace("fresh")
    assert client.get(f"/v2/action/view/{FIRE}", headers=fresh).status_code == 200
    assert client.get("/__mock/clock", headers=fresh).json() == {"today": TODAY.isoformat(), "fixed": True}
    assert client.get(f"/v2/action/view/{FIRE}").status_code == 404  # the default one is unchanged


def test_controls_act_on_the_named_workspace(client: httpx.Client) -> None:
    job = in_workspace("job-c")
    created = client.post("/v2/action/create", json=create_body("action"), headers=job).json()
    exported = client.get("/__mock/state", headers=job).json()
    assert created["action_id"] in {a["action_id"] for a in exported["entities"]["action"]}
    assert created["action_id"] not in {a["action_id"] for a in client.get("/__mock/state").json()["entities"]["action"]}
    assert client.get("/__mock/health", headers=job).json()["entities"]["action"] == 4
    assert client.get("/__mock/health").json()["entities"]["action"] == 3
    assert client.post("/__mock/reset", headers=job).json()["entities"]["action"] == 3
    assert client.get(f"/v2/action/view/{created['action_id']}", headers=job).status_code == 404


def test_workspaces_are_listed_and_deleted(client: httpx.Client) -> None:
    client.put("/__mock/clock", json={"today": "2027-02-02"}, headers=in_workspace("listed"))
    listing = client.get("/__mock/workspaces").json()
    assert listing["limit"] == MAX_WORKSPACES
    by_name = {w["name"]: w for w in listing["workspaces"]}
    assert set(by_name) == {"default", "listed"}
    assert by_name["listed"]["today"] == "2027-02-02" and by_name["listed"]["fixed"] is True

    assert client.delete("/__mock/workspaces/listed").status_code == 204
    assert {w["name"] for w in client.get("/__mock/workspaces").json()["workspaces"]} == {"default"}
    gone = client.delete("/__mock/workspaces/listed")
    assert gone.status_code == 404 and gone.json()["field"] == "name"
    default = client.delete("/__mock/workspaces/default")
    assert default.status_code == 400 and default.json()["field"] == "name"
    # used again, it starts anew from the seed
    assert client.get("/__mock/clock", headers=in_workspace("listed")).json()["today"] == TODAY.isoformat()


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/", "ünicode", "semi;colon"])
def test_an_invalid_workspace_name_is_a_400_naming_the_header(client: httpx.Client, name: str) -> None:
    response = client.post("/v2/action/index", json={}, headers={HEADER: name.encode("utf-8")})
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == HEADER
    assert {w["name"] for w in client.get("/__mock/workspaces").json()["workspaces"]} == {"default"}


def test_past_the_bound_a_new_workspace_is_a_400_naming_the_header(client: httpx.Client) -> None:
    for number in range(MAX_WORKSPACES - 1):
        assert client.get("/__mock/clock", headers=in_workspace(f"w{number}")).status_code == 200
    refused = client.get("/__mock/clock", headers=in_workspace("one-too-many"))
    assert refused.status_code == 400
    assert refused.json()["field"] == HEADER
    assert "32 workspaces" in refused.json()["detail"]
    assert client.get("/__mock/clock", headers=in_workspace("w0")).status_code == 200  # existing ones still work
    assert client.delete("/__mock/workspaces/w0").status_code == 204
    assert client.get("/__mock/clock", headers=in_workspace("one-too-many")).status_code == 200


def test_the_directory_lists_projects_offices_and_resources(client: httpx.Client) -> None:
    directory = client.get("/__mock/directory").json()
    assert set(directory) == {"projects", "offices", "resources"}
    people = [r for r in directory["resources"] if r["type"] == "PERSON"]
    assert people and all({"resource_id", "project_id", "office_id", "name"} <= set(r) for r in people)
    exported = client.get("/__mock/state").json()["directory"]
    assert directory == exported


# --- the request log ----------------------------------------------------------------------------

def _made(client: httpx.Client, workspace: str | None) -> list[tuple[str, str, int]]:
    """A few API requests in `workspace`; (method, path, status) of each, in order."""
    headers = in_workspace(workspace) if workspace else {}
    made = []
    for method, path, body in [
        ("POST", "/v2/action/index", {"per-page": 2}),
        ("GET", f"/v2/action/view/{FIRE}", None),
        ("GET", "/v2/action/view/not-a-uuid", None),
        ("PUT", f"/v2/action-subscription/update/{SUB_1}", {"subscriber_type": "PERSON"}),
    ]:
        response = client.request(method, path, json=body, headers=headers)
        made.append((method, path, response.status_code))
    return made


def _logged(client: httpx.Client, header: str | None = None, **params: Any) -> list[dict[str, Any]]:
    """GET /__mock/requests with `header` as X-Mock-Workspace and `params` as its query."""
    headers = in_workspace(header) if header else {}
    response = client.get("/__mock/requests", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_request_log_lists_exactly_the_requests_made_per_workspace(client: httpx.Client) -> None:
    made_default = _made(client, None)
    made_job = _made(client, "job-log")
    assert [s for _, _, s in made_default] == [200, 200, 400, 200]

    for workspace, made in ((None, made_default), ("job-log", made_job)):
        logged = _logged(client, workspace)
        assert [(e["method"], e["path"], e["status"]) for e in logged] == list(reversed(made))
        assert {e["workspace"] for e in logged} == {workspace or "default"}
    every = _logged(client, workspace="*")
    assert len(every) == 8 and [e["id"] for e in every] == sorted((e["id"] for e in every), reverse=True)
    assert _logged(client, workspace="job-log") == _logged(client, "job-log")


def test_a_logged_request_has_its_query_bodies_status_and_duration(client: httpx.Client) -> None:
    client.post("/v2/action/index", params={"access-token": "mock-token"}, json={"per-page": 1})
    entry = _logged(client)[0]
    assert entry["query"] == "access-token=***"  # the token itself is never shown
    assert entry["request_body"] == '{"per-page":1}' or entry["request_body"].replace(" ", "") == '{"per-page":1}'
    assert entry["status"] == 200 and entry["response_body"].startswith("[{")
    assert entry["duration_ms"] > 0 and entry["time"].endswith("Z")


def test_the_request_log_keeps_excerpts_of_large_bodies(client: httpx.Client) -> None:
    large = {"name": "x" * 20_000}
    client.put(f"/v2/action/update/{FIRE}", json=large)
    entry = _logged(client)[0]
    assert entry["request_bytes"] > 20_000
    assert len(entry["request_body"]) < 700 and entry["request_body"].endswith(f"({entry['request_bytes']} bytes)")


def _chunked(body: bytes) -> Iterator[bytes]:
    """`body` sent chunked: no Content-Length tells its size."""
    yield body[:5]
    yield body[5:]


@pytest.mark.parametrize("case, path, body, authorized, status", [
    ("no token", "/v2/action/index", b'{"per-page": 1}', False, 401),
    ("no token, chunked", "/v2/action/index", b'{"per-page": 1}', False, 401),
    ("an unknown query parameter", "/v2/action/index?unknown=1", b'{"per-page": 1}', True, 400),
    ("an injected 503", "/v2/action/index", b'{"per-page": 1}', True, 503),
    ("a body the schema refuses", "/v2/action/index", b'{"per-page":-1}', True, 400),
])
def test_the_request_log_counts_the_bytes_of_a_refused_body(
        mock: RunningMock, client: httpx.Client, case: str, path: str, body: bytes, authorized: bool, status: int) -> None:
    assert len(body) == 15
    workspace = in_workspace("log-bytes")
    if status == 503:
        rule = {"path": "/v2/action/index", "status": 503}
        assert client.put("/__mock/faults", json=[rule], headers=workspace).status_code == 200
    sent = _chunked(body) if "chunked" in case else body
    with mock.client(token="mock-token" if authorized else None) as sender:
        response = sender.post(path, content=sent, headers={**workspace, "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    entry = _the_logged_request(client, "log-bytes")
    assert (entry["status"], entry["request_bytes"], entry["request_body"]) == (status, 15, body.decode())


def test_a_client_waiting_for_100_continue_is_refused_without_being_asked_for_its_body(
        mock: RunningMock, client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": "15", "Expect": "100-continue",
               HEADER: "log-continue"}
    status, _ = _answer_to_a_partial_body(mock, headers, b"")  # no token; the body held back until 100 Continue
    assert status == 401
    entry = _the_logged_request(client, "log-continue")
    assert (entry["status"], entry["request_bytes"]) == (401, 0)  # it sent no byte of its body


@pytest.mark.parametrize("chunked", [False, True], ids=["Content-Length", "chunked"])
def test_a_refused_body_longer_than_what_is_read_of_it_is_answered_without_waiting_for_the_rest(
        mock: RunningMock, client: httpx.Client, chunked: bool) -> None:
    """The answer to a 20 MB upload without a token comes once UNREAD_BODY_BYTES of it are read,
    with the rest never sent; the log gives the size its Content-Length declares, or without one
    the bytes read as a lower bound."""
    declared = 20_000_000
    sent = b"x" * (UNREAD_BODY_BYTES + 4096)
    headers = {"Content-Type": "application/json", HEADER: "log-large"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        status, _ = _answer_to_a_partial_body(mock, headers, b"%x\r\n%s\r\n" % (len(sent), sent))
    else:
        headers["Content-Length"] = str(declared)
        status, _ = _answer_to_a_partial_body(mock, headers, sent)
    assert status == 401
    entry = _the_logged_request(client, "log-large")
    assert entry["request_body"].startswith("x" * BODY_EXCERPT_BYTES)
    if chunked:
        assert UNREAD_BODY_BYTES <= entry["request_bytes"] <= len(sent) and entry["request_bytes_at_least"]
        assert entry["request_body"].endswith(f"... (at least {entry['request_bytes']} bytes)")
    else:
        assert (entry["request_bytes"], entry["request_bytes_at_least"]) == (declared, False)
        assert entry["request_body"].endswith(f"... ({declared} bytes)")


ANSWER_WAIT_S = 15.0  # a hang guard only: how long a raw request waits for its answer
LOG_WAIT_S = 15.0  # a hang guard only: how long a test waits for a request's log entry


def _answer_to_a_partial_body(mock: RunningMock, headers: dict[str, str], sent: bytes) -> tuple[int, bytes]:
    """POST /v2/action/index without a token, with `headers`, sending `sent` of its body and
    holding the rest back: the answer's status and its body, read to its end."""
    host, port = mock.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=ANSWER_WAIT_S)
    try:
        connection.putrequest("POST", "/v2/action/index", skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if sent:
            connection.send(sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _the_logged_request(client: httpx.Client, workspace: str) -> dict[str, Any]:
    """The one entry of `workspace`'s request log, waited for: it is added once the app has
    returned, which can be after the client has read the whole answer."""
    deadline = time.monotonic() + LOG_WAIT_S
    while not (logged := _logged(client, workspace)):
        assert time.monotonic() < deadline, f"no request logged in {workspace} within {LOG_WAIT_S}s"
        time.sleep(0.01)
    assert len(logged) == 1, logged
    return logged[0]


def test_the_request_log_filters_by_path_status_and_method(client: httpx.Client) -> None:
    _made(client, None)
    assert [e["path"] for e in _logged(client, status=400)] == ["/v2/action/view/not-a-uuid"]
    assert [e["status"] for e in _logged(client, status=2)] == [200, 200, 200]
    assert [e["method"] for e in _logged(client, path="/view/")] == ["GET", "GET"]
    assert [e["path"] for e in _logged(client, method="put")] == [f"/v2/action-subscription/update/{SUB_1}"]
    assert len(_logged(client, limit=1)) == 1


def test_the_controls_are_not_in_the_request_log(client: httpx.Client) -> None:
    client.get("/__mock/health")
    client.get("/__mock/state")
    client.post("/realms/4hse/protocol/openid-connect/token",
                data={"grant_type": "password", "username": "demo", "password": "demo"})
    assert [e["path"] for e in _logged(client)] == ["/realms/4hse/protocol/openid-connect/token"]


@pytest.mark.parametrize("params, field", [
    ({"status": "abc"}, "status"), ({"status": "42"}, "status"), ({"status": "600"}, "status"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"colour": "red"}, "colour"),
])
def test_a_bad_request_log_parameter_is_a_400_naming_it(client: httpx.Client, params: dict[str, str], field: str) -> None:
    response = client.get("/__mock/requests", params=params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_the_request_log_of_an_unknown_workspace_is_a_404(client: httpx.Client) -> None:
    response = client.get("/__mock/requests", params={"workspace": "nobody"})
    assert response.status_code == 404 and response.json()["field"] == "workspace"
