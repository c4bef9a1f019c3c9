"""The model's part in following input changes: which entities a change affects, the session
dates' people, and what a validity edit sends. The expected values are written out here from the
rules (docs/DECISIONS.md, Computed fields), not computed by the code under test; no server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from contract.support import rules
from contract.support.oracle import ActionModel, CertificateModel, DateModel, LinkModel, SessionModel, SubscriptionModel, World, date_people
from contract.support.scenarios import DateSpec, ValidityEdit
from contract.support.steps import _validity_body
from contract.support.verify import changed_by, derived_fields_match_model, predictions

OFFICE, PROJECT, PERSON = "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01", "953e1ebf-06ce-42ab-88f7-0dd04b8f1ab3"
ACTION, OTHER_ACTION, SESSION, DATE = "0a000000-0000-4000-8000-000000000001", "0a000000-0000-4000-8000-000000000002", "0b000000-0000-4000-8000-000000000001", "0c000000-0000-4000-8000-000000000001"
CERTIFICATE, LINK, SUBSCRIPTION = "0d000000-0000-4000-8000-000000000001", "0e000000-0000-4000-8000-000000000001", "0f000000-0000-4000-8000-000000000001"
MANAGERS = json.dumps({"resource_id": "m1"})


def world() -> World:
    """Two actions; the first with an entry, a session (one date) and a linked certificate that
    takes its expiry from its own validity; the second with nothing below it."""
    model = World(today=dt.date(2026, 3, 1))
    model.actions[ACTION] = ActionModel(ACTION, "TRAINING", "ct-a", "A1", None, None, None, OFFICE, PROJECT, manager=MANAGERS)
    model.actions[OTHER_ACTION] = ActionModel(OTHER_ACTION, "TRAINING", "ct-b", None, None, None, None, OFFICE, PROJECT)
    model.subscriptions[SUBSCRIPTION] = SubscriptionModel(SUBSCRIPTION, ACTION, PERSON, "PERSON")
    model.sessions[SESSION] = SessionModel(SESSION, ACTION)
    model.dates[DATE] = DateModel(DATE, SESSION, "2026-03-10T00:30:00+02:00", "2026-03-10T23:30:00-05:00")
    model.certificates[CERTIFICATE] = CertificateModel(CERTIFICATE, "ct-c", PERSON, "TRAINING", dt.date(2026, 2, 28), None, 1, "MONTH", PROJECT)
    model.links[LINK] = LinkModel(LINK, CERTIFICATE, ACTION, None, model.next_seq())
    return model


def test_a_rename_of_an_action_affects_what_copies_its_name_and_nothing_else() -> None:
    model = world()
    before = predictions(model)
    model.actions[ACTION].name = "ct-renamed"
    affected = set(changed_by(before, predictions(model)))
    assert affected == {("action-session", SESSION), ("action-session-date", DATE), ("action-subscription", SUBSCRIPTION), ("certificate-action", LINK)}


def test_a_release_update_affects_the_certificate_and_the_link_that_inherits_its_expiry() -> None:
    model = world()
    before = predictions(model)
    model.certificates[CERTIFICATE].date_release = dt.date(2024, 1, 31)  # + 1 MONTH: 2024-02-29, expired (was 2026-03-28, valid)
    affected = set(changed_by(before, predictions(model)))
    # the entry's status changes (VALID -> EXPIRED) and with it the action's counts
    assert affected == {("certificate", CERTIFICATE), ("certificate-action", LINK), ("action-subscription", SUBSCRIPTION), ("action", ACTION)}


def test_a_date_moved_to_an_empty_session_of_another_action_affects_both_sessions_and_itself() -> None:
    model = world()
    other_session = "0b000000-0000-4000-8000-000000000002"
    model.sessions[other_session] = SessionModel(other_session, OTHER_ACTION)
    before = predictions(model)
    model.dates[DATE].session_id = other_session
    assert set(changed_by(before, predictions(model))) == {("action-session", SESSION), ("action-session", other_session), ("action-session-date", DATE)}


def test_a_session_date_answers_the_session_people_when_set_else_the_action_people() -> None:
    model = world()
    assert date_people(model, DATE) == {"manager": MANAGERS, "assignee": None, "watcher": None}
    model.sessions[SESSION].manager = json.dumps({"resource_id": "s1"})
    assert date_people(model, DATE)["manager"] == '{"resource_id": "s1"}'


def test_people_are_compared_as_the_json_they_hold() -> None:
    model = world()
    right = {"action_session_date_id": DATE, "action_id": ACTION, "action_code": "A1", "action_name": "ct-a", "action_type": "TRAINING", "assignee": None, "watcher": None}
    derived_fields_match_model(model, "action-session-date", {**right, "manager": '{"resource_id":"m1"}'}, [])
    with pytest.raises(rules.RuleViolation) as raised:
        derived_fields_match_model(model, "action-session-date", {**right, "manager": None}, [])
    assert raised.value.rule == "parent_fields_copied"


def test_the_date_part_is_the_local_day_written_whatever_the_offset() -> None:
    model = world()
    session = {"action_session_id": SESSION, "action_code": "A1", "action_name": "ct-a", "action_type": "TRAINING",
               "count_subscribed": 0, "count_done": 0, "count_fail": 0, "count_unknown": 0, "date_begin": "2026-03-10", "date_end": "2026-03-10"}
    derived_fields_match_model(model, "action-session", session, [])
    with pytest.raises(rules.RuleViolation) as raised:  # read through UTC: 2026-03-09 and 2026-03-11
        derived_fields_match_model(model, "action-session", {**session, "date_begin": "2026-03-09", "date_end": "2026-03-11"}, [])
    assert raised.value.rule == "session_dates_span_its_dates"


def test_a_date_spec_writes_its_offsets_after_the_local_times() -> None:
    spec = DateSpec(dt.datetime(2024, 3, 15, 0, 30), dt.datetime(2024, 3, 15, 23, 30), "+02:00", "Z")
    assert spec.texts() == ("2024-03-15T00:30:00+02:00", "2024-03-15T23:30:00Z")


@pytest.mark.parametrize(
    ("edit", "stored", "sent"),
    [
        (ValidityEdit("validity", 0, "DAY"), (2, "YEAR"), {"validity": 0}),
        (ValidityEdit("validity", 3, "DAY"), (None, None), {"validity": 3, "validity_unit": "DAY"}),
        (ValidityEdit("validity_unit", 3, "MONTH"), (2, "YEAR"), {"validity_unit": "MONTH"}),
        (ValidityEdit("validity_unit", 3, "MONTH"), (None, None), {"validity": 3, "validity_unit": "MONTH"}),
        (ValidityEdit("clear", 3, "MONTH"), (2, "YEAR"), {"validity": None, "validity_unit": None}),
        (ValidityEdit("both", 1, "YEAR"), (2, "DAY"), {"validity": 1, "validity_unit": "YEAR"}),
    ],
)
def test_a_validity_edit_sends_one_field_alone_only_when_the_other_is_stored(edit: ValidityEdit, stored: tuple, sent: dict) -> None:
    assert _validity_body(edit, *stored) == sent
