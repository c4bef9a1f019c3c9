"""Bad input over HTTP, against the mock started as a real server (issue 8, defects 5, 6, 7, 8,
17, 18, 20 and lone surrogates; the 500 answer and its log id): each is a documented 4xx naming
the field (or an answer as documented), never a 500, and a refused write leaves the state as
it was."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockhttp import TOKEN, RunningMock, documented_media_type, start_mock, view
from mockworld import FIRE, LINK_1, SEGMENTS, SMALL_WORLD, TODAY, create_body, spec
from mock_server.validation import schema_validator

pytestmark = pytest.mark.http

MAX_ANSWER_BYTES = 2048  # an error answer (and a log line) quoting a 2 MB value stays below this
JSON_HEADERS = {"Content-Type": "application/json"}
NEWLINE_ID = "22222222-2222-4222-8222-222222222222\n"


# --- helpers -------------------------------------------------------------------------------------

def _operation(segment: str, verb: str) -> tuple[str, dict[str, Any]]:
    path = f"/v2/{segment}/{verb}" + ("/{id}" if verb in ("view", "update", "delete") else "")
    (method, operation), = spec()["paths"][path].items()
    return method, operation


def _resolved(node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its local `$ref` points at."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def assert_documented(response: httpx.Response, segment: str, verb: str) -> Any:
    """The answer's status is listed for the operation and its body fits that response's schema."""
    _, operation = _operation(segment, verb)
    status = str(response.status_code)
    assert status in operation["responses"], f"{status} is not documented for {segment} {verb}: {response.text}"
    content = _resolved(operation["responses"][status]).get("content", {})
    media_type = response.headers.get("content-type", "").split(";")[0]
    assert content, f"{segment} {verb} {status} documents no body"
    assert media_type in content, f"{segment} {verb} {status}: {media_type} not documented"
    body = response.json()
    errors = list(schema_validator(content[media_type]["schema"], spec=spec(), response=True).iter_errors(body))
    assert not errors, f"{segment} {verb} {status}: {errors[0].message}"
    return body


def assert_bad_request(response: httpx.Response, segment: str, verb: str, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(documented_media_type(response))
    body = assert_documented(response, segment, verb)
    assert body["field"] == field, body
    return body


def state(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/__mock/state")
    assert response.status_code == 200, response.text[:300]
    return response.json()


def raw(client: httpx.Client, method: str, url: str, content: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A request whose body is sent byte for byte, with exactly the given Content-Type (if any)."""
    request = client.build_request(method, url, content=content, headers=headers or {})
    if headers is None or "Content-Type" not in headers:
        assert "content-type" not in request.headers  # httpx adds none for raw bytes
    return client.send(request)


def chunks(*parts: bytes) -> Iterator[bytes]:
    """A body httpx sends with Transfer-Encoding: chunked (no Content-Length)."""
    yield from parts


@pytest.fixture
def before(api: httpx.Client) -> dict[str, Any]:
    """The state before the test's writes."""
    return state(api)


# --- defect 5: nesting depth -----------------------------------------------------------------------

def test_a_body_nested_100000_deep_is_a_quick_400_naming_body(api: httpx.Client, before: dict[str, Any]) -> None:
    depth = 100_000
    started = time.monotonic()
    response = raw(api, "POST", "/v2/action/create", b"[" * depth + b"]" * depth, JSON_HEADERS)
    assert time.monotonic() - started < 5
    assert_bad_request(response, "action", "create", "body")
    assert state(api) == before


def test_a_body_past_64_levels_is_a_400_and_64_levels_parse(api: httpx.Client, before: dict[str, Any]) -> None:
    body = create_body("action-session") | {"data": json.loads("[" * 64 + "]" * 64)}  # the body is the 65th level
    response = api.post("/v2/action-session/create", json=body)
    assert_bad_request(response, "action-session", "create", "data.0")
    assert "64" in response.json()["detail"]
    assert state(api) == before
    # 64 levels reach the schema (which wants a string here), not the depth limit
    body["data"] = json.loads("[" * 63 + "]" * 63)
    response = api.post("/v2/action-session/create", json=body)
    assert_bad_request(response, "action-session", "create", "data")
    assert "nested" not in response.json()["detail"]


# --- defect 6: huge integer literals ------------------------------------------------------------------

@pytest.mark.parametrize("digits", [21, 5000])
def test_an_integer_literal_of_more_than_20_digits_is_a_400_naming_its_field(
    api: httpx.Client, before: dict[str, Any], digits: int
) -> None:
    response = raw(api, "PUT", f"/v2/action/update/{FIRE}", b'{"validity": ' + b"9" * digits + b"}", JSON_HEADERS)
    body = assert_bad_request(response, "action", "update", "validity")
    assert len(body["detail"]) < 200
    assert state(api) == before


# --- defect 7: JSON text fields ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["[" * 3000 + "]" * 3000, "[" * 65 + "]" * 65, "[" + "1" * 5000 + "]"],
                         ids=["3000-deep", "65-deep", "5000-digit integer"])
def test_json_text_is_a_plain_string_whatever_it_holds(api: httpx.Client, text: str) -> None:
    """JSON text is a plain string in the spec (docs/DECISIONS.md, "Reading the spec with stock
    tools"): the mock does not parse it, so its nesting or numbers are no limit; kept as sent."""
    response = api.put(f"/v2/action/update/{FIRE}", json={"manager": text})
    assert response.status_code == 200, response.text
    assert view(api, "action", FIRE)["manager"] == text


def test_json_text_64_deep_is_accepted(api: httpx.Client) -> None:
    text = "[" * 64 + "]" * 64
    response = api.put(f"/v2/action/update/{FIRE}", json={"manager": text})
    assert response.status_code == 200, response.text
    assert view(api, "action", FIRE)["manager"] == text


# --- defect 8: no Content-Type -------------------------------------------------------------------------

def test_bodies_without_content_type_are_read_as_json(api: httpx.Client) -> None:
    created = raw(api, "POST", "/v2/action/create", json.dumps(create_body("action")).encode())
    assert created.status_code == 201, created.text
    action_id = created.json()["action_id"]
    updated = raw(api, "PUT", f"/v2/action/update/{action_id}", b'{"name": "Renamed"}')
    assert updated.status_code == 200, updated.text
    assert view(api, "action", action_id)["name"] == "Renamed"
    found = raw(api, "POST", "/v2/action/index", json.dumps({"filter": {"name": "Renamed"}}).encode())
    assert found.status_code == 200, found.text
    assert [item["action_id"] for item in found.json()] == [action_id]


# --- defect 17: whole-string ASCII formats ---------------------------------------------------------------

def test_a_uuid_with_a_trailing_newline_is_a_400_in_a_body(api: httpx.Client, before: dict[str, Any]) -> None:
    response = api.post("/v2/action/create", json=create_body("action") | {"action_id": NEWLINE_ID})
    assert_bad_request(response, "action", "create", "action_id")
    assert state(api) == before


@pytest.mark.parametrize("verb", ["view", "delete"])
def test_a_uuid_with_a_trailing_newline_is_a_400_in_the_path(api: httpx.Client, before: dict[str, Any], verb: str) -> None:
    method = "GET" if verb == "view" else "DELETE"
    response = api.request(method, f"/v2/action/{verb}/{NEWLINE_ID.strip()}%0A")
    assert_bad_request(response, "action", verb, "id")
    assert state(api) == before


def test_a_uuid_with_a_trailing_newline_is_a_400_in_a_filter(api: httpx.Client) -> None:
    response = api.post("/v2/action-session/index", json={"filter": {"action_id": FIRE + "\n"}})
    assert_bad_request(response, "action-session", "index", "filter.action_id")


@pytest.mark.parametrize("date_begin", ["2026-07-03T09:00:00\n", "2026-07-03T١٧:00:00", "٢٠٢٦-07-03T09:00:00"],
                         ids=["trailing newline", "arabic-indic hour", "arabic-indic year"])
def test_a_date_time_must_be_whole_and_ascii(api: httpx.Client, before: dict[str, Any], date_begin: str) -> None:
    response = api.post("/v2/action-session-date/create", json=create_body("action-session-date") | {"date_begin": date_begin})
    assert_bad_request(response, "action-session-date", "create", "date_begin")
    assert state(api) == before


@pytest.mark.parametrize("date_release", ["2026-02-01\n", "٢٠٢٦-02-01"], ids=["trailing newline", "arabic-indic"])
def test_a_date_must_be_whole_and_ascii(api: httpx.Client, before: dict[str, Any], date_release: str) -> None:
    response = api.post("/v2/certificate/create", json=create_body("certificate") | {"date_release": date_release})
    assert_bad_request(response, "certificate", "create", "date_release")
    assert state(api) == before


# --- defect 18: chunked bodies ------------------------------------------------------------------------

def test_chunked_create_update_and_index_are_read(api: httpx.Client) -> None:
    body = json.dumps(create_body("action")).encode()
    created = raw(api, "POST", "/v2/action/create", chunks(body[:10], body[10:]), JSON_HEADERS)
    assert created.status_code == 201, created.text
    assert "content-length" not in created.request.headers
    action_id = created.json()["action_id"]
    updated = raw(api, "PUT", f"/v2/action/update/{action_id}", chunks(b'{"name": ', b'"Chunked"}'), JSON_HEADERS)
    assert updated.status_code == 200, updated.text
    assert view(api, "action", action_id)["name"] == "Chunked"
    found = raw(api, "POST", "/v2/action/index", chunks(b'{"filter": {"name": ', b'"Chunked"}}'), JSON_HEADERS)
    assert found.status_code == 200, found.text
    assert [item["action_id"] for item in found.json()] == [action_id]


def test_an_empty_chunked_body_on_create_is_a_400_naming_body(api: httpx.Client, before: dict[str, Any]) -> None:
    response = raw(api, "POST", "/v2/action/create", chunks(b""), JSON_HEADERS)
    assert_bad_request(response, "action", "create", "body")
    assert state(api) == before


# --- lone surrogates --------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "field"), [
    (b'{"description": "\\ud800"}', "description"),
    (b'{"description": "ok \\udfff ok"}', "description"),
    (b'{"\\ud800": 1}', "\\ud800"),
], ids=["value", "low surrogate inside", "key"])
def test_a_lone_surrogate_is_a_400_naming_the_field(
    api: httpx.Client, before: dict[str, Any], content: bytes, field: str
) -> None:
    response = raw(api, "PUT", f"/v2/action/update/{FIRE}", content, JSON_HEADERS)
    assert_bad_request(response, "action", "update", field)
    assert state(api) == before


def test_a_surrogate_pair_is_one_character_and_is_kept(api: httpx.Client) -> None:
    response = raw(api, "PUT", f"/v2/action/update/{FIRE}", b'{"description": "\\ud83d\\ude00"}', JSON_HEADERS)
    assert response.status_code == 200, response.text
    assert view(api, "action", FIRE)["description"] == "\U0001F600"
    assert state(api)["entities"]  # the state still exports


# --- defect 20: Content-Type, WWW-Authenticate, bounded answers ----------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("verb", ["index", "create", "update"])
def test_a_body_that_is_not_json_is_a_documented_415_naming_content_type(
    api: httpx.Client, before: dict[str, Any], content_type: str, verb: str
) -> None:
    url = {"index": "/v2/action/index", "create": "/v2/action/create", "update": f"/v2/action/update/{FIRE}"}[verb]
    method = "PUT" if verb == "update" else "POST"
    response = raw(api, method, url, json.dumps(create_body("action")).encode(), {"Content-Type": content_type})
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert assert_documented(response, "action", verb)["field"] == "Content-Type"
    assert state(api) == before


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x", "text/plain"])
def test_a_view_ignores_the_content_type(api: httpx.Client, content_type: str) -> None:
    for content in (b"", b"--x\r\nnot a form"):
        response = raw(api, "GET", f"/v2/action/view/{FIRE}", content, {"Content-Type": content_type})
        assert response.status_code == 200, response.text
        assert response.json()["action_id"] == FIRE


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x"])
def test_a_delete_ignores_the_content_type(api: httpx.Client, content_type: str) -> None:
    response = raw(api, "DELETE", f"/v2/certificate-action/delete/{LINK_1}", b"--x\r\nnot a form",
                   {"Content-Type": content_type})
    assert response.status_code == 204, response.text
    assert api.get(f"/v2/certificate-action/view/{LINK_1}").status_code == 404


@pytest.mark.parametrize(("credentials", "challenge"), [
    ({}, 'Bearer realm="4hse"'),
    ({"headers": {"Authorization": "Bearer not-a-token"}}, 'Bearer realm="4hse", error="invalid_token"'),
    ({"params": {"access-token": "not-a-token"}}, 'Bearer realm="4hse", error="invalid_token"'),
], ids=["no token", "bad bearer token", "bad access-token"])
def test_a_401_carries_www_authenticate(anonymous: httpx.Client, credentials: dict[str, Any], challenge: str) -> None:
    for segment in SEGMENTS:
        response = anonymous.post(f"/v2/{segment}/index", json={}, **credentials)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == challenge
        assert_documented(response, segment, "index")
    response = anonymous.get(f"/v2/action/view/{FIRE}", **credentials)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge


@pytest.fixture(scope="module")
def logging_mock() -> Iterator[RunningMock]:
    """The mock at log level info (4xx are logged there), for the size of its log lines."""
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--log-level", "info")) as mock:
        yield mock


@pytest.mark.parametrize("filter_", [{"name": "x" * 2_000_000}, {"action_id": "y" * 2_000_000},
                                     {"x" * 2_000_000: "unknown field"}],
                         ids=["too long", "not a uuid", "unknown key"])
def test_a_2mb_value_gives_a_small_answer_and_small_log_lines(logging_mock: RunningMock, filter_: dict[str, str]) -> None:
    with logging_mock.client() as client:
        logged_before = len(logging_mock.output)
        response = client.post("/v2/action/index", json={"filter": filter_})
        assert response.status_code == 400, response.text[:300]
        assert len(response.content) < MAX_ANSWER_BYTES
        assert response.json()["field"].startswith("filter.")
        assert_documented(response, "action", "index")
        client.get("/__mock/health")  # the log line is written before the answer
    time.sleep(0.2)
    lines = list(logging_mock.output)[logged_before:]
    assert any("400" in line for line in lines), lines
    assert all(len(line) < MAX_ANSWER_BYTES for line in lines), [len(line) for line in lines]


def test_a_long_query_parameter_name_gives_a_small_answer(api: httpx.Client) -> None:
    # 10,000 characters: what the HTTP parser lets through to the app
    response = api.post("/v2/action/index", params={"z" * 10_000: "1"}, json={})
    body = assert_bad_request(response, "action", "index", "z" * 100 + "... (10000 characters)")
    assert len(response.content) < MAX_ANSWER_BYTES, body


def test_every_error_status_of_the_mock_is_documented(api: httpx.Client) -> None:
    """400 and 401 everywhere, 415 where there is a body, 404 where there is an id, 422 on writes."""
    served = api.get("/openapi.json").json()
    for segment in SEGMENTS:
        for verb, expected in {"index": {"400", "401", "415"}, "create": {"400", "401", "415", "422"},
                               "view": {"400", "401", "404"}, "update": {"400", "401", "404", "415", "422"},
                               "delete": {"400", "401", "404"}}.items():
            path = f"/v2/{segment}/{verb}" + ("/{id}" if verb in ("view", "update", "delete") else "")
            (operation,) = served["paths"][path].values()
            assert expected <= set(operation["responses"]), (segment, verb, sorted(operation["responses"]))


# --- an unexpected exception: 500 with an id the log carries ----------------------------------------------

@pytest.fixture
def failing_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The mock in-process (uvicorn in a thread on a free loopback port) whose action view raises."""
    import uvicorn

    from mock_server.app import create_app
    from mock_server.config import MockConfig

    app = create_app(MockConfig(today=TODAY, seed_path=SMALL_WORLD))
    domain = app.mock_state.domain  # type: ignore[attr-defined]
    real_view = domain.view

    def view_that_fails(segment: str, entity_id: str) -> Any:
        if segment == "action":
            raise RuntimeError("a failure nobody planned for")
        return real_view(segment, entity_id)

    monkeypatch.setattr(domain, "view", view_that_fails)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the in-process mock did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_an_unexpected_exception_is_a_500_problem_with_the_id_of_its_log_line(
    failing_mock: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with httpx.Client(base_url=failing_mock, headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as client:
        response = client.get(f"/v2/action/view/{FIRE}")
        assert response.status_code == 500, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 500 and body["title"] and body["type"] and body["detail"]
        error_id = body["error_id"]
        assert isinstance(error_id, str) and 8 <= len(error_id) <= 32
        errors = list(schema_validator({"$ref": "#/components/schemas/Problem"}, spec=spec(), response=True)
                      .iter_errors(body))
        assert not errors, errors[0].message
        # other requests go on as before
        assert client.get(f"/v2/certificate-action/view/{LINK_1}").status_code == 200
    records = [record for record in caplog.records if error_id in record.getMessage()]
    assert len(records) == 1, [record.getMessage() for record in caplog.records]
    assert records[0].levelno == logging.ERROR
    logged = records[0].getMessage()
    assert "Traceback (most recent call last)" in logged and "in view_that_fails" in logged
    assert "RuntimeError: a failure nobody planned for" in logged
    assert "a failure nobody planned for" not in response.text  # the cause stays in the log
