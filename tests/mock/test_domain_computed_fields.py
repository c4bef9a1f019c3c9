"""Computed fields copied from related entities and the directory (semantics.md and
DECISIONS.md, "Computed fields"), and the local-time comparison of date-times."""

from __future__ import annotations

import pytest

from mock_server.domain.errors import RuleViolations
from mockworld import CRANE, O_MILAN, O_ROME, PERSON_1, PERSON_2, PERSON_3, World


def test_session_date_takes_action_and_names_from_session_action_office_project(world: World) -> None:
    action = world.action(code="WAH-01", name="Working at Height", action_type="TRAINING")
    session = world.session(action)
    date = world.date(session, "2026-07-01T09:00:00", "2026-07-01T17:00:00", subtenant_id=O_MILAN)
    answered = world.view("action-session-date", date)
    # action fields via the session; office and project names of the date's own office/project
    assert (answered["action_id"], answered["action_code"], answered["action_name"], answered["action_type"]) == (
        action, "WAH-01", "Working at Height", "TRAINING")
    assert (answered["office_name"], answered["project_name"]) == ("Milan Office", "Acme Test Works")


def test_session_date_people_come_from_the_session_when_set(world: World) -> None:
    action = world.action(manager='["action manager"]', assignee='["action assignee"]', watcher='["action watcher"]')
    session = world.session(action, manager='["session manager"]')
    answered = world.view("action-session-date", world.day(session, "2026-07-01"))
    # manager set on the session wins; assignee and watcher fall back to the action's
    assert (answered["manager"], answered["assignee"], answered["watcher"]) == (
        '["session manager"]', '["action assignee"]', '["action watcher"]')


def test_session_date_people_are_null_when_neither_sets_them(world: World) -> None:
    session = world.session(world.action())
    answered = world.view("action-session-date", world.day(session, "2026-07-01"))
    assert (answered["manager"], answered["assignee"], answered["watcher"]) == (None, None, None)


def test_session_date_people_follow_an_update_of_the_session(world: World) -> None:
    action = world.action(watcher='["a"]')
    session = world.session(action)
    date = world.day(session, "2026-07-01")
    world.domain.update("action-session", session, {"watcher": '["s"]'})
    # the session now has its own watcher
    assert world.view("action-session-date", date)["watcher"] == '["s"]'


def test_enrollment_answers_the_type_of_its_sessions_action(world: World) -> None:
    action = world.action(action_type="HEALTH")
    enrollment = world.enroll(world.session(action), world.subscription(action, PERSON_1))
    assert world.view("action-session-subscription", enrollment)["action_type"] == "HEALTH"


def test_enrollment_done_defaults_to_unknown(world: World) -> None:
    action = world.action()
    enrollment = world.enroll(world.session(action), world.subscription(action, PERSON_1))
    # done not sent: -1, outcome not recorded
    assert world.view("action-session-subscription", enrollment)["done"] == -1


def test_subscription_answers_names_of_action_subscriber_office_and_project(world: World) -> None:
    action = world.action(code="MNT-9", name="Crane check", action_type="MAINTENANCE")
    sub = world.subscription(action, CRANE, subscriber_type="EQUIPMENT", subtenant_id=O_MILAN)
    answered = world.view("action-subscription", sub)
    assert (answered["action_code"], answered["action_name"], answered["action_type"]) == ("MNT-9", "Crane check", "MAINTENANCE")
    assert (answered["subscriber_name"], answered["office_name"], answered["project_name"]) == (
        "Tower Crane T1", "Milan Office", "Acme Test Works")


def test_link_answers_action_fields_and_the_actions_office(world: World) -> None:
    action = world.action(code="FST-7", name="Fire", action_type="TRAINING", subtenant_id=O_ROME)
    certificate = world.certificate(PERSON_2, "2025-01-01", name="Fire certificate")
    answered = world.view("certificate-action", world.link(certificate, action))
    assert (answered["action_code"], answered["action_name"], answered["action_type"]) == ("FST-7", "Fire", "TRAINING")
    assert (answered["office_name"], answered["certificate_name"], answered["resource_id"]) == ("Rome Yard", "Fire certificate", PERSON_2)


def test_names_follow_an_update_of_the_action(world: World) -> None:
    action = world.action(name="Old name")
    session = world.session(action)
    sub = world.subscription(action, PERSON_3)
    world.domain.update("action", action, {"name": "New name"})
    # copied names are read at answer time
    assert world.view("action-session", session)["action_name"] == "New name"
    assert world.view("action-subscription", sub)["action_name"] == "New name"


def test_date_end_is_compared_by_the_local_time_written(world: World) -> None:
    session = world.session(world.action())
    # 09:30Z is after 10:00+02:00 (08:00Z) in UTC, but the local times written say 09:30 < 10:00
    with pytest.raises(RuleViolations) as raised:
        world.date(session, "2024-03-15T10:00:00+02:00", "2024-03-15T09:30:00Z")
    assert [v.field for v in raised.value.violations] == ["date_end"]


def test_date_end_later_in_local_time_is_accepted_whatever_the_offsets(world: World) -> None:
    session = world.session(world.action())
    # 11:00-05:00 is 16:00Z, 10:00+02:00 is 08:00Z: local 11:00 >= 10:00, accepted either way
    date = world.date(session, "2024-03-15T10:00:00+02:00", "2024-03-15T11:00:00-05:00")
    answered = world.view("action-session-date", date)
    # kept as sent
    assert (answered["date_begin"], answered["date_end"]) == ("2024-03-15T10:00:00+02:00", "2024-03-15T11:00:00-05:00")
