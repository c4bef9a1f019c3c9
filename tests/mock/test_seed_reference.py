"""The mock started on the bundled seed (mock_server/seed/default.yaml) on two days: the
reference's scenario holds whatever the date (its dates are relative to the clock), its counts
add up, and every request example of the spec's four main resources is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockhttp import RunningMock, index_all, start_mock, view
from mockworld import id_field, spec

FST_01 = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"
REFERENCE_SESSION = "b1c2d3e4-f5a6-7890-bcde-f12345678901"
# The seed id of each main resource, used when an update example has no response example.
REFERENCE_IDS = {
    "action": FST_01,
    "action-session": REFERENCE_SESSION,
    "action-session-date": "c2d3e4f5-a6b7-8901-cdef-123456789012",
    "certificate": "f6a7b8c9-d0e1-2f3a-4b5c-6d7e8f9a0b1c",
}
MAIN = tuple(REFERENCE_IDS)
HTTP_TODAYS = ("2026-06-15", "2030-01-01")

pytestmark = pytest.mark.http


# --- the real server on two days ------------------------------------------------------------------

@pytest.fixture(scope="module", params=HTTP_TODAYS)
def seeded_mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    mock = start_mock(today=request.param)  # the bundled seed
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(scope="module")
def _seeded_client(seeded_mock: RunningMock) -> Iterator[httpx.Client]:
    with seeded_mock.client() as client:
        yield client


@pytest.fixture
def seeded(_seeded_client: httpx.Client) -> Iterator[httpx.Client]:
    try:
        yield _seeded_client
    finally:
        assert _seeded_client.post("/__mock/reset").status_code == 200



def test_reference_action_counts(seeded: httpx.Client) -> None:
    action = view(seeded, "action", FST_01)
    assert (action["countSubscribed"], action["countValid"], action["countScheduled"], action["countToDo"]) == (25, 18, 3, 4)
    assert (action["code"], action["office_name"], action["project_name"]) == ("FST-01", "Rome North Site", "Acme Construction Ltd")


def test_reference_session_counts_and_span(seeded: httpx.Client) -> None:
    session = view(seeded, "action-session", REFERENCE_SESSION)
    assert (session["count_subscribed"], session["count_done"], session["count_fail"], session["count_unknown"]) == (12, 10, 1, 1)
    assert (session["date_begin"], session["date_end"]) == ("2024-03-15", "2024-03-16")
    assert session["action_code"] == "FST-01"


def test_the_mock_runs_on_the_requested_day(seeded: httpx.Client, seeded_mock: RunningMock) -> None:
    assert seeded.get("/__mock/clock").json()["today"] in HTTP_TODAYS


def test_every_actions_counts_add_up_and_match_its_entries(seeded: httpx.Client) -> None:
    subscriptions = index_all(seeded, "action-subscription")
    for action in index_all(seeded, "action"):
        entries = [s for s in subscriptions if s["action_id"] == action["action_id"]]
        valid = [s for s in entries if s["status"] in ("VALID", "EXPIRING")]
        assert action["countSubscribed"] == len(entries), action["code"]
        assert action["countValid"] == len(valid), action["code"]
        assert action["countSubscribed"] == action["countValid"] + action["countScheduled"] + action["countToDo"], action["code"]


def test_every_sessions_counts_add_up_and_match_its_enrollments(seeded: httpx.Client) -> None:
    enrollments = index_all(seeded, "action-session-subscription")
    sessions = index_all(seeded, "action-session")
    assert sessions
    for session in sessions:
        outcomes = [e["done"] for e in enrollments if e["action_session_id"] == session["action_session_id"]]
        assert (session["count_subscribed"], session["count_done"], session["count_fail"], session["count_unknown"]) == (
            len(outcomes), outcomes.count(1), outcomes.count(0), outcomes.count(-1)), session["action_session_id"]


# --- every request example of the four main resources ------------------------------------------------

def _json_examples(media: dict[str, Any]) -> list[tuple[str, Any]]:
    if "example" in media:
        return [("example", media["example"])]
    return [(name, example["value"]) for name, example in media.get("examples", {}).items()]


def _request_examples() -> list[Any]:
    """(verb, segment, example name, body, id of the update) of every request example."""
    cases = []
    for path, item in spec()["paths"].items():
        segment = path.split("/")[2]
        if segment not in MAIN:
            continue
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            verb = operation["operationId"].rsplit("_", 1)[1]
            media = operation["requestBody"]["content"]["application/json"]
            answers = dict(_json_examples(operation["responses"].get("200", {}).get("content", {}).get("application/json", {})))
            for name, body in _json_examples(media):
                target = None
                if verb == "update":
                    answer = answers.get(name, answers.get("example")) if answers else None
                    target = answer.get(id_field(segment)) if isinstance(answer, dict) else None
                    target = target or REFERENCE_IDS[segment]
                cases.append(pytest.param(verb, segment, body, target, id=f"{operation['operationId']}:{name}"))
    return cases


REQUEST_EXAMPLES = _request_examples()


def test_every_main_resource_has_request_examples() -> None:
    verbs = {(p.values[1], p.values[0]) for p in REQUEST_EXAMPLES}
    assert verbs == {(segment, verb) for segment in MAIN for verb in ("index", "create", "update")}


@pytest.mark.parametrize("verb, segment, body, target", REQUEST_EXAMPLES)
def test_every_request_example_is_accepted(seeded: httpx.Client, verb: str, segment: str, body: Any, target: str | None) -> None:
    body = dict(body)
    if verb == "index":
        response = seeded.post(f"/v2/{segment}/index", json=body)
    elif verb == "create":
        taken = body.get(id_field(segment))
        if taken and seeded.get(f"/v2/{segment}/view/{taken}").status_code == 200:
            del body[id_field(segment)]
        response = seeded.post(f"/v2/{segment}/create", json=body)
    else:
        response = seeded.put(f"/v2/{segment}/update/{target}", json=body)
    assert 200 <= response.status_code < 300, response.text[:500]
    if verb != "index":
        answered = response.json()
        assert {k: answered[k] for k in body} == body


def test_reset_re_dates_the_seed_to_the_clock(seeded: httpx.Client) -> None:
    started_on = seeded.get("/__mock/clock").json()["today"]
    try:
        assert seeded.put("/__mock/clock", json={"today": "2033-03-03"}).status_code == 200
        assert seeded.post("/__mock/reset").json()["today"] == "2033-03-03"
        # relative seed dates are resolved again against the new today: the scenario holds
        action = view(seeded, "action", FST_01)
        assert (action["countSubscribed"], action["countValid"], action["countScheduled"], action["countToDo"]) == (25, 18, 3, 4)
    finally:
        seeded.put("/__mock/clock", json={"today": started_on})
