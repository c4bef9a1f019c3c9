"""The bundled seed (mock_server/seed/default.yaml) loaded in-process on many days: it loads,
and the reference's scenario holds on each (its dates are relative to the clock)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from mock_server.domain.clock import Clock
from mock_server.domain.service import Domain
from mock_server.seed import read_seed, resolve_seed
from mockworld import MISSING, O_ROME, P_ACME, PERSON_1, directory_data, resources, small_world_data

FST_01 = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"
REFERENCE_SESSION = "b1c2d3e4-f5a6-7890-bcde-f12345678901"
DOMAIN_TODAYS = ("2024-12-31", "2025-03-31", "2026-06-15", "2028-02-29", "2030-01-01", "2041-07-04")


@functools.lru_cache(maxsize=1)
def _seed() -> dict[str, Any]:
    return read_seed()  # parsed once; loading does not change it


def _seeded_domain(today: str) -> Domain:
    domain = Domain(resources(), Clock(dt.date.fromisoformat(today)))
    domain.load(resolve_seed(_seed(), domain.clock.today()))
    return domain


@pytest.mark.parametrize("today", DOMAIN_TODAYS)
def test_seed_loads_and_holds_the_reference_scenario(today: str) -> None:
    domain = _seeded_domain(today)
    action = domain.view("action", FST_01)
    # the reference's example: 25 = 18 valid + 3 scheduled + 4 to do
    assert (action["code"], action["countSubscribed"], action["countValid"], action["countScheduled"], action["countToDo"]) == (
        "FST-01", 25, 18, 3, 4)
    session = domain.view("action-session", REFERENCE_SESSION)
    assert (session["count_subscribed"], session["count_done"], session["count_fail"], session["count_unknown"]) == (12, 10, 1, 1)
    assert (session["date_begin"], session["date_end"]) == ("2024-03-15", "2024-03-16")


@pytest.mark.parametrize("today", DOMAIN_TODAYS)
def test_every_seed_action_and_session_count_adds_up(today: str) -> None:
    domain = _seeded_domain(today)
    actions = domain.search("action", {"per-page": 100}).items
    sessions = domain.search("action-session", {"per-page": 100}).items
    assert actions and sessions
    for action in actions:
        assert action["countSubscribed"] == action["countValid"] + action["countScheduled"] + action["countToDo"], action["code"]
    for session in sessions:
        assert session["count_subscribed"] == session["count_done"] + session["count_fail"] + session["count_unknown"]


def test_relative_seed_dates_resolve_against_the_clock() -> None:
    data = {
        "directory": directory_data(),
        "entities": {
            "action": [{"action_id": "40000000-0000-4000-8000-000000000001", "action_type": "TRAINING", "name": "A",
                        "subtenant_id": O_ROME, "tenant_id": P_ACME}],
            "action-session": [{"action_session_id": "60000000-0000-4000-8000-000000000001",
                                "action_id": "40000000-0000-4000-8000-000000000001",
                                "subtenant_id": O_ROME, "tenant_id": P_ACME}],
            "action-session-date": [{"action_session_id": "60000000-0000-4000-8000-000000000001",
                                     "date_begin": "@today+14dT09:00:00", "date_end": "@todayT17:30:00",
                                     "subtenant_id": O_ROME, "tenant_id": P_ACME}],
            "certificate": [{"certificate_id": "80000000-0000-4000-8000-000000000001", "name": "C",
                             "action_type": "TRAINING", "resource_id": PERSON_1, "tenant_id": P_ACME,
                             "date_release": "@today-2y", "date_expire": "@today+1m"}],
        },
    }
    domain = Domain(resources(), Clock(dt.date(2024, 1, 31)))
    # the date ends before it begins (2024-01-31T17:30 < 2024-02-14T09:00): the seed does not load
    with pytest.raises(ValueError):
        domain.load(resolve_seed(data, domain.clock.today()))
    data["entities"]["action-session-date"][0]["date_end"] = "@today+14dT17:30:00"
    domain.load(resolve_seed(data, domain.clock.today()))
    certificate = domain.view("certificate", "80000000-0000-4000-8000-000000000001")
    # 2024-01-31 - 2 years = 2022-01-31; + 1 month = 2024-02-31, clamped to 2024-02-29
    assert (certificate["date_release"], certificate["date_expire"]) == ("2022-01-31", "2024-02-29")
    session = domain.view("action-session", "60000000-0000-4000-8000-000000000001")
    # 2024-01-31 + 14 days = 2024-02-14
    assert (session["date_begin"], session["date_end"]) == ("2024-02-14", "2024-02-14")


def test_a_seed_that_breaks_a_rule_does_not_load_and_keeps_the_state() -> None:
    domain = _seeded_domain("2026-06-15")
    broken = {"directory": small_world_data()["directory"],
              "entities": {"action-session": [{"action_id": MISSING, "subtenant_id": O_ROME, "tenant_id": P_ACME}]}}
    with pytest.raises(ValueError) as raised:
        domain.load(broken)
    # the message says which entity broke which rule; the seeded state is still there
    assert "action-session[0]" in str(raised.value) and "action_id" in str(raised.value)
    assert domain.view("action", FST_01)["countSubscribed"] == 25


def test_a_seed_entity_that_breaks_several_rules_names_each_of_them() -> None:
    """The message of a refused seed entity holds every rule it breaks (it is quoted up to 300
    characters, more than a client value's 100): here three missing references."""
    domain = _seeded_domain("2026-06-15")
    broken = {"directory": small_world_data()["directory"],
              "entities": {"action-session": [{"action_id": MISSING, "subtenant_id": MISSING, "tenant_id": MISSING}]}}
    with pytest.raises(ValueError) as raised:
        domain.load(broken)
    message = str(raised.value)
    assert message.startswith("entities.action-session[0].action_id: ")
    assert f"tenant_id: project {MISSING} does not exist" in message
    assert f"subtenant_id: office {MISSING} does not exist" in message
