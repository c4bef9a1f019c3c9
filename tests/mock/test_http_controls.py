"""The /__mock/ test controls (mock_server/controls.py): health, reset, state export and import
(all or nothing), and the clock that statuses and counts are computed for."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockhttp import create, view
from mockworld import (
    CERT_1, ENROLLMENT_2, FIRE, MISSING, SESSION_NEXT, SUB_1, create_body,
)

pytestmark = pytest.mark.http

SMALL_WORLD_COUNTS = {
    "action": 3, "action-session": 2, "action-session-date": 3, "certificate": 2,
    "action-subscription": 4, "action-session-subscription": 2, "certificate-action": 1,
}


def _state(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/__mock/state")
    assert response.status_code == 200
    return response.json()


def _set_today(client: httpx.Client, today: str | None) -> dict[str, Any]:
    response = client.put("/__mock/clock", json={"today": today})
    assert response.status_code == 200, response.text
    return response.json()


# --- health and reset --------------------------------------------------------------------------------

def test_health_reports_status_clock_and_counts(anonymous: httpx.Client) -> None:
    response = anonymous.get("/__mock/health")  # outside /v2: no token needed
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "today": "2026-06-15", "entities": SMALL_WORLD_COUNTS,
        # the simulated network and the webhooks, off by default (tests/mock/test_http_network.py)
        "network": {"faults": [], "latency": {"default": None, "operations": {}}, "fault_seed": None},
        "webhooks": {"receivers": 0, "counts": {"queued": 0, "delivered": 0, "failed": 0, "overflowed": 0,
                                                "cancelled": 0}},
    }


def test_reset_brings_back_the_loaded_state(api: httpx.Client) -> None:
    initial = _state(api)
    created = create(api, "action", create_body("action"))
    assert api.delete(f"/v2/action/delete/{FIRE}", params={"force": "true"}).status_code == 204
    response = api.post("/__mock/reset")
    assert response.status_code == 200
    assert response.json()["entities"] == SMALL_WORLD_COUNTS
    assert _state(api) == initial
    assert api.get(f"/v2/action/view/{created['action_id']}").status_code == 404
    assert view(api, "action", FIRE)["countSubscribed"] == 3


# --- state export and import ------------------------------------------------------------------------

def test_state_export_has_directory_and_every_resource(api: httpx.Client) -> None:
    state = _state(api)
    assert set(state) == {"directory", "entities"}
    assert set(state["entities"]) == set(SMALL_WORLD_COUNTS)
    assert {k: len(v) for k, v in state["entities"].items()} == SMALL_WORLD_COUNTS
    assert len(state["directory"]["projects"]) == 2 and len(state["directory"]["offices"]) == 3


def test_state_import_of_the_export_is_a_round_trip(api: httpx.Client) -> None:
    exported = _state(api)
    response = api.put("/__mock/state", json=exported)
    assert response.status_code == 200, response.text
    assert response.json()["entities"] == SMALL_WORLD_COUNTS
    assert _state(api) == exported


def test_state_import_restores_an_earlier_export(api: httpx.Client) -> None:
    earlier = _state(api)
    fire_before = view(api, "action", FIRE)
    created = create(api, "certificate", create_body("certificate"))
    assert api.put(f"/v2/action-session-subscription/update/{ENROLLMENT_2}", json={"done": 1}).status_code == 200
    assert api.put("/__mock/state", json=earlier).status_code == 200
    # the certificate created since is gone, the update undone, computed fields as before
    assert api.get(f"/v2/certificate/view/{created['certificate_id']}").status_code == 404
    assert view(api, "action-session-subscription", ENROLLMENT_2)["done"] == -1
    assert view(api, "action", FIRE) == fire_before


def test_state_import_of_a_changed_state_serves_it(api: httpx.Client) -> None:
    state = _state(api)
    state["entities"]["action"][0]["name"] = "Imported Name"
    assert api.put("/__mock/state", json=state).status_code == 200
    assert view(api, "action", state["entities"]["action"][0]["action_id"])["name"] == "Imported Name"


def _first(state: dict[str, Any], segment: str) -> dict[str, Any]:
    return state["entities"][segment][0]


# label -> how to break an exported state (a copy) in place; the import must answer 400
BREAKAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "an enrollment of a missing session": lambda s: _first(s, "action-session-subscription").update(action_session_id=MISSING),
    "a session of a missing action": lambda s: _first(s, "action-session").update(action_id=MISSING),
    "a date ending before it begins": lambda s: _first(s, "action-session-date").update(date_end="2000-01-01T00:00:00"),
    "two actions with one id": lambda s: s["entities"]["action"].append(dict(_first(s, "action"))),
    "an unknown resource type": lambda s: s["entities"].update(widget=[]),
    "an office with an unknown field": lambda s: s["directory"]["offices"][0].update(colour="blue"),
    "an action of a project missing from the directory": lambda s: s["directory"].update(projects=[]),
    "an entity that is not an object": lambda s: s["entities"]["action"].append(42),
    "an action without its required name": lambda s: _first(s, "action").pop("name"),
    "a certificate whose date_release is not a date": lambda s: _first(s, "certificate").update(date_release="soon"),
    "an action whose action_type is outside its enum": lambda s: _first(s, "action").update(action_type="COURSE"),
}


# label -> the field the 400 names (the dotted path in the state document)
BROKEN_FIELDS = {
    "an enrollment of a missing session": "entities.action-session-subscription[0].action_session_id",
    "a session of a missing action": "entities.action-session[0].action_id",
    "a date ending before it begins": "entities.action-session-date[0].date_end",
    "two actions with one id": "entities.action[3].action_id",
    "an unknown resource type": "entities.widget",
    "an office with an unknown field": "directory.offices[0].colour",
    "an action of a project missing from the directory": "directory.offices[0].project_id",
    "an entity that is not an object": "entities.action[3]",
    "an action without its required name": "entities.action[0].name",
    "a certificate whose date_release is not a date": "entities.certificate[0].date_release",
    "an action whose action_type is outside its enum": "entities.action[0].action_type",
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_state_import_of_a_broken_state_is_400_and_changes_nothing(api: httpx.Client, breakage: str) -> None:
    before = _state(api)
    broken = copy.deepcopy(before)
    BREAKAGES[breakage](broken)
    response = api.put("/__mock/state", json=broken)
    changed = _state(api) != before
    expected = (400, "application/problem+json", BROKEN_FIELDS[breakage], False)
    answered = (response.status_code, response.headers["Content-Type"], response.json().get("field"), changed)
    assert answered == expected, response.text[:300]


def test_state_import_of_an_array_is_400_and_changes_nothing(api: httpx.Client) -> None:
    before = _state(api)
    response = api.put("/__mock/state", json=[before])
    assert (response.status_code, response.json()["field"]) == (400, "body")
    assert _state(api) == before


def test_state_import_of_text_that_is_not_json_is_400(api: httpx.Client) -> None:
    before = _state(api)
    response = api.put("/__mock/state", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["field"] == "body"
    assert _state(api) == before


def test_state_import_applies_the_rules_of_the_api(api: httpx.Client) -> None:
    state = _state(api)
    # CERT_1 released 2025-01-10: an expiry the day before breaks "date_expire not before date_release"
    for certificate in state["entities"]["certificate"]:
        if certificate["certificate_id"] == CERT_1:
            certificate["date_expire"] = "2025-01-09"
    response = api.put("/__mock/state", json=state)
    assert response.status_code == 400
    assert "certificate" in response.json()["detail"]


# --- the clock ---------------------------------------------------------------------------------------

def test_clock_reports_the_fixed_date(anonymous: httpx.Client) -> None:
    assert anonymous.get("/__mock/clock").json() == {"today": "2026-06-15", "fixed": True}


def test_setting_the_clock_changes_statuses(clock: httpx.Client) -> None:
    # SUB_1: CERT_1 released 2025-01-10 + 5 YEAR (FIRE) = 2030-01-10; expire_interval 90
    assert view(clock, "action-subscription", SUB_1)["status"] == "VALID"
    assert _set_today(clock, "2029-12-01") == {"today": "2029-12-01", "fixed": True}
    # 2029-12-01 + 90 days = 2030-02-28 >= 2030-01-10
    assert view(clock, "action-subscription", SUB_1)["status"] == "EXPIRING"
    _set_today(clock, "2030-01-10")
    # the expiry day itself
    assert view(clock, "action-subscription", SUB_1)["status"] == "EXPIRING"
    _set_today(clock, "2030-01-11")
    assert view(clock, "action-subscription", SUB_1)["status"] == "EXPIRED"
    assert clock.get("/__mock/health").json()["today"] == "2030-01-11"


def test_setting_the_clock_changes_scheduled_counts(clock: httpx.Client) -> None:
    # SESSION_NEXT ends 2026-07-02; SUB_2 is enrolled in it with done -1
    _set_today(clock, "2026-07-02")
    assert view(clock, "action", FIRE)["countScheduled"] == 1
    _set_today(clock, "2026-07-03")
    fire = view(clock, "action", FIRE)
    assert (fire["countValid"], fire["countScheduled"], fire["countToDo"]) == (1, 0, 2)
    assert view(clock, "action-session", SESSION_NEXT)["date_end"] == "2026-07-02"


def test_unsetting_the_clock_follows_the_real_date(clock: httpx.Client) -> None:
    answered = _set_today(clock, None)
    real = dt.date.today()
    assert answered == {"today": real.isoformat(), "fixed": False}
    # the status by hand for the real date: expiry 2030-01-10, interval 90
    expiry = dt.date(2030, 1, 10)
    expected = "EXPIRED" if expiry < real else ("EXPIRING" if expiry <= real + dt.timedelta(days=90) else "VALID")
    assert view(clock, "action-subscription", SUB_1)["status"] == expected


@pytest.mark.parametrize("body", [{"today": "2026-02-30"}, {"today": "tomorrow"}, {"today": 20260615}])
def test_setting_the_clock_to_a_non_date_is_400_and_keeps_it(clock: httpx.Client, body: dict[str, Any]) -> None:
    response = clock.put("/__mock/clock", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["field"] == "today"
    assert clock.get("/__mock/clock").json() == {"today": "2026-06-15", "fixed": True}
