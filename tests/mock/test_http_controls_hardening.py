"""The /__mock/ controls cannot lose or corrupt data (issue defects 9-16): imports are checked
whole before anything changes, exports never fail and round-trip byte for byte, seed dates are
resolved in seed files only, clock bodies are checked, reset works at every clock date the mock
accepts, a long import keeps nobody waiting, and a control token guards the controls."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.__main__ import is_loopback
from mock_server.domain.service import Domain
from mock_server.seed import resolve_seed
from mock_server.state_format import StateChecker, parse_state, serialize_state
from mockhttp import RunningMock, create, start_mock, view
from mockworld import (
    FIRE, MISSING, O_ROME, P_ACME, REPO, SESSION_NEXT, SMALL_WORLD, TODAY, World, create_body, directory_data,
    spec,
)

pytestmark = pytest.mark.http

JSON_HEADERS = {"Content-Type": "application/json"}


def _export(client: httpx.Client) -> bytes:
    response = client.get("/__mock/state")
    assert response.status_code == 200, response.text[:300]
    return response.content


def _import(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.put("/__mock/state", content=body, headers=JSON_HEADERS)


def _assert_round_trip(client: httpx.Client) -> bytes:
    """export -> import -> export: the second export is byte for byte the first."""
    first = _export(client)
    response = _import(client, first)
    assert response.status_code == 200, response.text[:300]
    assert _export(client) == first
    return first


def _assert_refused(client: httpx.Client, body: bytes, field: str) -> dict[str, Any]:
    """The import of `body` is a 400 problem naming `field`, and the state stays as it was."""
    before = _export(client)
    response = _import(client, body)
    assert response.status_code == 400, response.text[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == field, problem
    assert _export(client) == before
    return problem


def _state(client: httpx.Client) -> dict[str, Any]:
    return json.loads(_export(client))


def _nested(depth: int) -> dict[str, Any]:
    """An object nesting `depth` levels ({"k": {"k": ... {"k": 1}}})."""
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


# --- defect 9: the directory is checked as strictly as entities -----------------------------------

def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        node = state
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


DIRECTORY_BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a project name that is a number": (_set(("directory", "projects", 0, "name"), 5), "directory.projects[0].name"),
    "an empty project name": (_set(("directory", "projects", 0, "name"), ""), "directory.projects[0].name"),
    "an office of a missing project": (_set(("directory", "offices", 1, "project_id"), MISSING), "directory.offices[1].project_id"),
    "an office whose active is a string": (_set(("directory", "offices", 0, "active"), "no"), "directory.offices[0].active"),
    "a project id that is not a uuid": (_set(("directory", "projects", 1, "project_id"), "acme"), "directory.projects[1].project_id"),
    "a resource type outside ResourceType": (_set(("directory", "resources", 0, "type"), "ROBOT"), "directory.resources[0].type"),
    "a resource of a missing office": (_set(("directory", "resources", 2, "office_id"), MISSING), "directory.resources[2].office_id"),
    "a resource in an office of another project": (
        _set(("directory", "resources", 0, "office_id"), "20000000-0000-4000-8000-000000000003"), "directory.resources[0].office_id"),
    "two offices with one id": (
        lambda s: s["directory"]["offices"].append(dict(s["directory"]["offices"][0])), "directory.offices[3].office_id"),
    "a directory without resources": (lambda s: s["directory"].pop("resources"), "directory.resources"),
    "a project with an unknown field": (_set(("directory", "projects", 0, "colour"), "blue"), "directory.projects[0].colour"),
}


@pytest.mark.parametrize("breakage", list(DIRECTORY_BREAKAGES))
def test_a_directory_that_breaks_the_format_is_400_naming_the_field(api: httpx.Client, breakage: str) -> None:
    change, field = DIRECTORY_BREAKAGES[breakage]
    state = _state(api)
    change(state)
    _assert_refused(api, json.dumps(state).encode(), field)
    # what a project name of 5 used to break: a sort on the names the directory gives
    response = api.post("/v2/action/index", json={"sort": "project_name"})
    assert response.status_code == 200, response.text[:300]


# --- defect 10: surrogates ---------------------------------------------------------------------------

def test_a_surrogate_pair_is_exported_and_round_trips(api: httpx.Client) -> None:
    # httpx sends the emoji as the escaped pair "\ud83d\ude00"
    response = api.put(f"/v2/action/update/{FIRE}", json={"description": "fire \U0001F525 drill \U0001F600"})
    assert response.status_code == 200, response.text
    exported = _assert_round_trip(api)
    assert b"\\ud83d\\udd25" in exported  # written as ASCII escapes
    assert view(api, "action", FIRE)["description"] == "fire \U0001F525 drill \U0001F600"


def test_the_export_answers_whatever_the_api_stored_of_a_lone_surrogate(api: httpx.Client) -> None:
    # Whether the API refuses a lone surrogate (400) or keeps it, the export must not fail.
    response = api.put(f"/v2/action/update/{FIRE}", content=b'{"description": "\\ud800"}', headers=JSON_HEADERS)
    assert response.status_code in (200, 400), response.text[:300]
    state = _state(api)
    fire = next(a for a in state["entities"]["action"] if a["action_id"] == FIRE)
    assert fire.get("description") == ("\ud800" if response.status_code == 200 else None)


def test_a_state_holding_a_lone_surrogate_is_refused(api: httpx.Client) -> None:
    state = _state(api)
    state["entities"]["action"][0]["description"] = "\ud800"
    body = json.dumps(state).encode()  # ensure_ascii: the lone surrogate travels as "\ud800"
    assert b"\\ud800" in body
    problem = _assert_refused(api, body, "entities.action[0].description")
    assert "surrogate" in problem["detail"]


# --- defect 11: deep nesting -------------------------------------------------------------------------

def test_data_nested_60_deep_is_stored_exported_and_reimported_identically(api: httpx.Client) -> None:
    data = _nested(59)  # the create body nests 60 levels
    created = create(api, "action-session", {**create_body("action-session"), "data": data})
    exported = _assert_round_trip(api)
    assert view(api, "action-session", created["action_session_id"])["data"] == data
    assert json.loads(exported)["entities"]["action-session"][-1]["data"] == data


def test_the_export_answers_whatever_the_api_stored_of_data_nested_500_deep(api: httpx.Client) -> None:
    # The API may refuse it (over its depth limit) or keep it; the export must not fail either way.
    body = {**create_body("action-session"), "data": _nested(500)}
    response = api.post("/v2/action-session/create", json=body)
    assert response.status_code in (201, 400), response.text[:300]
    _export(api)


def test_a_state_nesting_deeper_than_an_entity_may_is_refused(api: httpx.Client) -> None:
    state = _state(api)
    state["entities"]["action-session"][0]["data"] = _nested(64)  # the entity nests 65 levels
    _assert_refused(api, json.dumps(state).encode(), "entities.action-session[0].data")
    state["entities"]["action-session"][0]["data"] = _nested(63)  # 64: accepted
    assert _import(api, json.dumps(state).encode()).status_code == 200


@pytest.mark.parametrize("literal", ["1" * 21, "-" + "9" * 25, "1e999"])
def test_a_state_holding_a_number_the_api_would_refuse_is_refused(api: httpx.Client, literal: str) -> None:
    # The API refuses integer literals of more than 20 digits and infinite numbers; an import of
    # one would hold a state the API could never have produced.
    state = _state(api)
    state["entities"]["action-session"][0]["data"] = {"n": 0}
    text = json.dumps(state).replace('{"n": 0}', '{"n": ' + literal + '}')
    _assert_refused(api, text.encode(), "entities.action-session[0]")


# --- defect 12: relative dates are seed-file syntax only -----------------------------------------------

def test_strings_that_look_like_relative_dates_survive_export_and_import(api: httpx.Client) -> None:
    fields = {"name": "@today", "code": "@today+2dT09:00:00", "description": "@todayX"}
    created = create(api, "action", {**create_body("action"), **fields})
    _assert_round_trip(api)
    answered = view(api, "action", created["action_id"])
    assert {field: answered[field] for field in fields} == fields


# --- defect 13: no silent wipe --------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "field"), [
    ("an empty object", "directory"),
    ("a typo in entities", "entitites"),
    ("entities as a list", "entities"),
    ("no directory", "directory"),
    ("a null state", "body"),
])
def test_a_state_without_its_two_parts_is_400_and_wipes_nothing(api: httpx.Client, label: str, field: str) -> None:
    state = _state(api)
    bodies = {
        "an empty object": {},
        "a typo in entities": {"directory": state["directory"], "entitites": state["entities"]},
        "entities as a list": {"directory": state["directory"], "entities": []},
        "no directory": {"entities": state["entities"]},
        "a null state": None,
    }
    counts = api.get("/__mock/health").json()["entities"]
    _assert_refused(api, json.dumps(bodies[label]).encode(), field)
    assert api.get("/__mock/health").json()["entities"] == counts


def test_an_explicitly_empty_state_is_accepted(api: httpx.Client) -> None:
    directory = _state(api)["directory"]
    response = _import(api, json.dumps({"directory": directory, "entities": {}}).encode())
    assert response.status_code == 200, response.text
    assert set(response.json()["entities"].values()) == {0}
    assert _state(api) == {"directory": directory, "entities": {segment: [] for segment in response.json()["entities"]}}


# --- defect 14: a body nested 100000 deep ------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    (b"[" * 100_000 + b"]" * 100_000, "body"),
    (b'{"directory": ' + b'{"k": ' * 100_000 + b"1" + b"}" * 100_001, "directory.k.k"),
    (b'{"entities": {"action": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}}", "entities.action[0]"),
])
def test_a_state_nested_100000_deep_is_400_quickly(api: httpx.Client, body: bytes, field: str) -> None:
    started = time.monotonic()
    problem = _assert_refused(api, body, field)
    assert time.monotonic() - started < 10
    assert len(problem["detail"]) < 300


# --- defects 15 and 16: the clock ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    (b"{}", "today"),
    (b"[]", "body"),
    (b'{"todya": "2027-01-01"}', "todya"),
    (b"0", "body"),
    (b"false", "body"),
    (b"null", "body"),
    (b"", "body"),
    (b'{"today": "2027-01-01", "zone": "UTC"}', "zone"),
    (b'{"today": "2027-01-01\\n"}', "today"),
    (b'{"today": "20270101"}', "today"),
    (b'{"today": "\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa7-01-01"}', "today"),  # Arabic-Indic digits
    (b'{"today": "2027-02-29"}', "today"),
    (b'{"today": false}', "today"),
    (b'{"today": ""}', "today"),
])
def test_a_clock_body_that_is_not_a_date_or_null_is_400_and_keeps_the_clock(clock: httpx.Client, body: bytes, field: str) -> None:
    response = clock.put("/__mock/clock", content=body, headers=JSON_HEADERS)
    assert (response.status_code, response.headers["Content-Type"]) == (400, "application/problem+json"), response.text
    assert response.json()["field"] == field
    assert clock.get("/__mock/clock").json() == {"today": TODAY.isoformat(), "fixed": True}


def test_a_clock_error_quotes_only_an_excerpt(clock: httpx.Client) -> None:
    response = clock.put("/__mock/clock", json={"today": "x" * 900})
    assert response.status_code == 400
    assert response.json()["detail"].count("x") <= 100
    response = clock.put("/__mock/clock", json={"today": "x" * 10_000_000})
    assert (response.status_code, response.json()["field"]) == (400, "body")
    assert len(response.content) < 500


def test_reset_works_at_the_last_day_of_the_calendar_without_relative_dates(clock: httpx.Client) -> None:
    # The small world has no relative dates: every day of the calendar is a day it loads on.
    for today in ("9999-06-01", "9999-12-31", "0001-01-01"):
        assert clock.put("/__mock/clock", json={"today": today}).status_code == 200
        response = clock.post("/__mock/reset")
        assert (response.status_code, response.json()["today"]) == (200, today), response.text


def _relative_seed() -> dict[str, Any]:
    """The small world's directory, an action, a certificate valid from a year ago to a year
    ahead, and a session date from 30 days ahead to a month ahead (the same day, except at the
    end of a month: on 2027-01-31, +30d is 2027-03-02 and +1m is 2027-02-28)."""
    action = {**create_body("action"), "action_id": "4b000000-0000-4000-8000-000000000001"}
    session = {**create_body("action-session"), "action_session_id": "6b000000-0000-4000-8000-000000000001",
               "action_id": action["action_id"]}
    return {
        "directory": directory_data(),
        "entities": {
            "action": [action],
            "action-session": [session],
            "action-session-date": [{
                "action_session_date_id": "7b000000-0000-4000-8000-000000000001",
                "action_session_id": session["action_session_id"],
                "date_begin": "@today+30dT09:00:00", "date_end": "@today+1mT17:00:00",
                "subtenant_id": O_ROME, "tenant_id": P_ACME,
            }],
            "certificate": [{**create_body("certificate"), "certificate_id": "8b000000-0000-4000-8000-000000000001",
                             "date_release": "@today-1y", "date_expire": "@today+1y"}],
        },
    }


RELATIVE_CERTIFICATE = "8b000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def relative_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    seed = tmp_path_factory.mktemp("seed") / "relative.yaml"
    seed.write_text(yaml.safe_dump(_relative_seed()), encoding="utf-8")
    with start_mock(today=TODAY.isoformat(), seed=seed) as mock:
        yield mock


@pytest.fixture
def relative(relative_mock: RunningMock) -> Iterator[httpx.Client]:
    with relative_mock.client() as client:
        try:
            yield client
        finally:
            assert client.put("/__mock/clock", json={"today": TODAY.isoformat()}).status_code == 200
            assert client.post("/__mock/reset").status_code == 200


def test_a_clock_date_at_which_the_seed_would_leave_the_calendar_is_refused(relative: httpx.Client) -> None:
    # the sequence: 9999-06-01 + 1 year leaves the calendar, so that day is refused
    response = relative.put("/__mock/clock", json={"today": "9999-06-01"})
    assert (response.status_code, response.json()["field"]) == (400, "today"), response.text
    assert "entities.certificate[0].date_expire" in response.json()["detail"]
    assert relative.get("/__mock/clock").json() == {"today": TODAY.isoformat(), "fixed": True}
    reset = relative.post("/__mock/reset")
    assert (reset.status_code, reset.json()["today"]) == (200, TODAY.isoformat())
    # a year earlier is accepted, and reset resolves the seed for it
    assert relative.put("/__mock/clock", json={"today": "9998-06-01"}).status_code == 200
    assert relative.post("/__mock/reset").status_code == 200
    certificate = view(relative, "certificate", RELATIVE_CERTIFICATE)
    assert (certificate["date_release"], certificate["date_expire"]) == ("9997-06-01", "9999-06-01")


def test_the_bundled_seed_refuses_9999_06_01_and_resets_at_every_date_it_accepts() -> None:
    # The sequence on the bundled seed, which holds dates up to @today+4y.
    mock = start_mock(today=TODAY.isoformat())
    try:
        with mock.client() as client:
            response = client.put("/__mock/clock", json={"today": "9999-06-01"})
            assert (response.status_code, response.json()["field"]) == (400, "today"), response.text
            assert client.post("/__mock/reset").status_code == 200
            for today in ("9994-06-01", "0008-01-01"):  # 9995: an inherited expiry would leave the calendar
                assert client.put("/__mock/clock", json={"today": today}).status_code == 200
                reset = client.post("/__mock/reset")
                assert (reset.status_code, reset.json()["today"]) == (200, today), reset.text
    finally:
        mock.stop()


def test_a_clock_date_at_which_the_seed_would_break_a_rule_is_refused(relative: httpx.Client) -> None:
    response = relative.put("/__mock/clock", json={"today": "2027-01-31"})
    assert (response.status_code, response.json()["field"]) == (400, "today"), response.text
    assert "date_end" in response.json()["detail"]
    assert relative.post("/__mock/reset").status_code == 200


def test_reset_resolves_the_seed_for_the_clock_of_each_reset(relative: httpx.Client) -> None:
    for today, release in (("2030-03-01", "2029-03-01"), ("2029-03-31", "2028-03-31")):
        assert relative.put("/__mock/clock", json={"today": today}).status_code == 200
        assert relative.post("/__mock/reset").status_code == 200
        assert view(relative, "certificate", RELATIVE_CERTIFICATE)["date_release"] == release
    # an export of a reset state holds dates, which import as they are
    _assert_round_trip(relative)


# --- a long import keeps nobody waiting ----------------------------------------------------------------------

def _large_state(client: httpx.Client, sessions: int) -> bytes:
    """The small world plus `sessions` sessions of FIRE with two dates each."""
    state = _state(client)
    session_body = {k: v for k, v in view(client, "action-session", SESSION_NEXT).items()
                    if k in ("action_id", "subtenant_id", "tenant_id")}
    for number in range(sessions):
        session_id = f"6c000000-0000-4000-8000-{number:012d}"
        state["entities"]["action-session"].append({**session_body, "action_session_id": session_id,
                                                    "data": {"location": f"Room {number}", "teacher": "T" * 40}})
        for half, (begin, end) in enumerate((("09:00", "13:00"), ("14:00", "18:00"))):
            state["entities"]["action-session-date"].append({
                "action_session_date_id": _session_date_id(half, number),
                "action_session_id": session_id, "subtenant_id": O_ROME, "tenant_id": P_ACME,
                "date_begin": f"2026-07-01T{begin}:00", "date_end": f"2026-07-01T{end}:00",
            })
    return json.dumps(state).encode()


def _session_date_id(half: int, number: int) -> str:
    return f"7c00000{half}-0000-4000-8000-{number:012d}"


# The mock with a gate in the import: when the build checks the entity GATE_ID (in the middle of
# the import, in the worker thread), it opens the FIFO `reached` for writing, which wakes the test
# waiting on it, then `release` for reading, which waits until the test opens it.
GATED_IMPORTS = """
import os, sys
import mock_server.state_format as state_format

check_entity = state_format.StateChecker.check_entity

def gated(self, segment, body):
    if isinstance(body, dict) and body.get("action_session_date_id") == {gate_id!r}:
        os.close(os.open({reached!r}, os.O_WRONLY))
        os.close(os.open({release!r}, os.O_RDONLY))
    return check_entity(self, segment, body)

state_format.StateChecker.check_entity = gated
from mock_server.__main__ import main
sys.exit(main(sys.argv[1:]))
"""
IMPORTED_SESSIONS = 1_000  # 3,000 entities, 0.9 MB: enough to be caught in the middle of building them
GATE_ID = _session_date_id(0, IMPORTED_SESSIONS // 2)
GATE_WAIT_S = 120  # a failure bound only: how long a broken import may take to show it never reaches the gate
IMPORT_WAIT_S = 300  # a hang guard only: how long the import may take to be answered once let on


def test_health_and_reads_answer_while_a_large_import_runs(tmp_path: Path) -> None:
    reached, release = tmp_path / "reached", tmp_path / "release"
    os.mkfifo(reached)
    os.mkfifo(release)
    entry = ("-c", GATED_IMPORTS.format(gate_id=GATE_ID, reached=str(reached), release=str(release)))
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, entry=entry) as mock, mock.client() as api:
        body = _large_state(api, IMPORTED_SESSIONS)
        before = {"health": api.get("/__mock/health").json(), "view": view(api, "action", FIRE)}
        woken = threading.Event()  # the import reached the gate, or it was answered without reaching it
        at_gate = threading.Event()
        answer: dict[str, httpx.Response] = {}
        raised: list[BaseException] = []  # by the import's thread

        def wait_for_gate() -> None:
            with reached.open("rb"):
                at_gate.set()
                woken.set()

        def run_import() -> None:
            try:
                # No read timeout: the answer waits for the gate and the whole import, however
                # loaded the machine; the waits below (GATE_WAIT_S, IMPORT_WAIT_S) are the hang guards.
                with mock.client(timeout=httpx.Timeout(15.0, read=None)) as importer:
                    answer["import"] = _import(importer, body)
            except BaseException as error:  # reported by the assertions below
                raised.append(error)
            finally:
                woken.set()

        def outcome() -> str:
            if raised:
                return f"the import raised {raised[0]!r}"
            if "import" in answer:
                return f"{answer['import'].status_code}: {answer['import'].text[:300]}"
            return "no answer yet"

        threading.Thread(target=wait_for_gate, daemon=True).start()
        importing = threading.Thread(target=run_import, daemon=True)  # never left blocking the run's exit
        importing.start()
        try:
            assert woken.wait(GATE_WAIT_S), "the import neither reached the gate nor was answered"
            assert at_gate.is_set(), f"the import ended before reaching the gate: {outcome()}"
            # The import is in progress (its worker waits at the gate): health and a read are
            # answered meanwhile, from the state as it was before the import.
            health = api.get("/__mock/health")
            assert health.status_code == 200 and health.json() == before["health"]
            assert view(api, "action", FIRE) == before["view"]
        finally:
            if at_gate.is_set():
                os.close(os.open(release, os.O_WRONLY))  # the worker is opening it: this lets it on
            else:
                _wake_reader(reached)  # the gate's watcher thread
            importing.join(IMPORT_WAIT_S)
        assert not importing.is_alive(), f"the import was not answered within {IMPORT_WAIT_S}s of its release"
        assert "import" in answer and answer["import"].status_code == 200, outcome()
        assert answer["import"].json()["entities"]["action-session-date"] == 3 + 2 * IMPORTED_SESSIONS


def _wake_reader(fifo: Path) -> None:
    """Let a thread blocked opening `fifo` for reading go on (nothing when none is)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader
        pass


# --- error excerpts ---------------------------------------------------------------------------------------------

def test_import_errors_quote_only_an_excerpt_of_a_value(api: httpx.Client) -> None:
    state = _state(api)
    state["directory"]["projects"][0]["name"] = "n" * 1_000_000
    problem = _assert_refused(api, json.dumps(state).encode(), "directory.projects[0].name")
    assert problem["detail"].count("n") < 150
    state = _state(api)
    state["directory"]["k" * 10_000] = 1
    response = _import(api, json.dumps(state).encode())
    assert response.status_code == 400
    assert len(response.content) < 1000 and response.json()["field"].startswith("directory.kkk")


# --- the control token ------------------------------------------------------------------------------------------

CONTROL_TOKEN = "control-s3cret"


@pytest.fixture(scope="module")
def guarded_mock() -> Iterator[RunningMock]:
    with start_mock(today=TODAY.isoformat(), control_token=CONTROL_TOKEN) as mock:
        yield mock


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/__mock/health"), ("POST", "/__mock/reset"), ("GET", "/__mock/state"), ("PUT", "/__mock/state"),
    ("GET", "/__mock/clock"), ("PUT", "/__mock/clock"),
])
def test_every_control_needs_the_control_token_when_one_is_set(guarded_mock: RunningMock, method: str, path: str) -> None:
    with guarded_mock.client() as client:  # the API token only
        for headers in ({}, {"X-Mock-Control-Token": "wrong"}, {"Authorization": "Bearer wrong"}):
            response = client.request(method, path, headers=headers, content=b'{"today": null}')
            assert (response.status_code, response.headers["Content-Type"]) == (401, "application/problem+json")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["field"] == "X-Mock-Control-Token"
        assert client.get("/__mock/clock", headers={"X-Mock-Control-Token": CONTROL_TOKEN}).json()["today"] == TODAY.isoformat()


def test_the_control_token_opens_the_controls_and_leaves_the_api_alone(guarded_mock: RunningMock) -> None:
    with guarded_mock.client(token=CONTROL_TOKEN) as bearer, guarded_mock.client() as api:
        # Authorization: Bearer <control token>
        assert bearer.get("/__mock/health").status_code == 200
        # X-Mock-Control-Token next to the API's own Bearer token
        control = {"X-Mock-Control-Token": CONTROL_TOKEN}
        state = api.get("/__mock/state", headers=control)
        assert state.status_code == 200
        assert api.put("/__mock/state", content=state.content, headers={**control, **JSON_HEADERS}).status_code == 200
        # the API takes its own tokens, not the control token
        assert api.post("/v2/action/index", json={}).status_code == 200
        assert bearer.post("/v2/action/index", json={}).status_code == 401


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "--port", "0", "--log-level", "warning", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_non_loopback_host_without_a_control_token_refuses_to_start() -> None:
    # The refusal comes before loading and binding (so no address is ever listened on): its
    # message is not the one of a failed bind ("cannot listen").
    result = _run_cli("--host", "10.0.0.1")
    assert result.returncode == 2
    assert "--control-token" in result.stderr and "not a loopback address" in result.stderr
    assert "cannot listen" not in result.stderr and "listening" not in result.stdout


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("10.0.0.1", False), ("mock.example", False),
])
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_an_empty_control_token_refuses_to_start() -> None:
    result = _run_cli("--control-token", "")
    assert (result.returncode, "listening" in result.stdout) == (2, False)
    assert "--control-token" in result.stderr


# --- in process: the export format round-trips, and a snapshot does not move ----------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text()
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(description=st.text(), data=st.dictionaries(st.text(), JSON_VALUES, max_size=4))
def test_any_text_and_data_the_domain_keeps_round_trips_byte_for_byte(description: str, data: dict[str, Any]) -> None:
    world = World(TODAY)
    action = world.action(description=description, name="@today", code="@today+1d")
    world.session(action, data=data)
    checker = StateChecker(spec())
    first = _serialize(world.domain)
    document = parse_state(first)
    checker.check_state(document)
    again = Domain(world.domain.resources, world.clock, check_body=checker.check_entity)
    again.load(document)
    assert _serialize(again) == first


def _serialize(domain: Domain) -> bytes:
    snapshot = domain.snapshot()
    order = {segment: resource.stored for segment, resource in domain.resources.items()}
    return serialize_state(snapshot.directory.to_data(), snapshot.entities, order)


def test_a_snapshot_is_not_changed_by_later_writes() -> None:
    world = World(TODAY, with_entities=True)
    snapshot = world.domain.snapshot()
    before = copy.deepcopy(snapshot.entities)
    world.domain.update("action", FIRE, {"name": "Renamed", "data": {"k": 1}})
    world.domain.delete("action", FIRE, force=True)  # cascades and clears references
    world.domain.create("certificate", create_body("certificate"))
    assert snapshot.entities == before


def test_seed_dates_resolve_only_through_the_seed_module() -> None:
    data = _relative_seed()
    world = World(TODAY)
    loaded = resolve_seed(data, dt.date(2026, 6, 15))
    assert loaded["entities"]["certificate"][0]["date_release"] == "2025-06-15"
    assert data["entities"]["certificate"][0]["date_release"] == "@today-1y"  # kept for the next reset
    # the domain itself takes strings as they are: "@today+30dT09:00:00" is no date-time
    checker = StateChecker(spec())
    domain = Domain(world.domain.resources, world.clock, check_body=checker.check_entity)
    with pytest.raises(ValueError, match=r"action-session-date\[0\]\.date_begin: breaks `pattern: "):
        domain.load(data)
