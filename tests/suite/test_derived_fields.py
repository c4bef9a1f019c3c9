"""The one comparison of derived fields (`verify.derived_fields_match_model`) over answers made up
by hand: whatever operation answered them, a wrong derived field is the rule it breaks.

The world and the right answers are written out here from the rules (docs/DECISIONS.md), not
computed by the oracle; no server is involved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from contract.support import rules
from contract.support.client import Answer
from contract.support.exchange import Exchange
from contract.support.oracle import (
    ActionModel,
    CertificateModel,
    EnrollmentModel,
    LinkModel,
    SessionModel,
    SubscriptionModel,
    Uncertain,
    World,
)
from contract.support.verify import derived_fields_match_model, views_match_model

pytestmark = pytest.mark.suite_self_test  # judges made-up answers: no verdict on the target

TODAY = dt.date(2026, 3, 1)
OFFICE = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
PROJECT = "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01"
PERSON = "953e1ebf-06ce-42ab-88f7-0dd04b8f1ab3"
ACTION, SESSION, CERTIFICATE, LINK = "0a000000-0000-4000-8000-000000000001", "0b000000-0000-4000-8000-000000000001", "0c000000-0000-4000-8000-000000000001", "0d000000-0000-4000-8000-000000000001"
SUBSCRIPTIONS = ["0e000000-0000-4000-8000-000000000001", "0e000000-0000-4000-8000-000000000002", "0e000000-0000-4000-8000-000000000003"]
ENROLLMENTS = ["0f000000-0000-4000-8000-000000000001", "0f000000-0000-4000-8000-000000000002", "0f000000-0000-4000-8000-000000000003"]


def world() -> World:
    """An action with three entries, a session without dates that enrolls them (done 1, 1, 0), and
    a certificate of the first entry's person that the client gave an expiry and a validity,
    linked to the action without a date of its own."""
    model = World(today=TODAY)
    model.actions[ACTION] = ActionModel(ACTION, "TRAINING", "ct-first aid", "FA1", None, None, 30, OFFICE, PROJECT)
    for number, subscription_id in enumerate(SUBSCRIPTIONS):
        model.subscriptions[subscription_id] = SubscriptionModel(subscription_id, ACTION, PERSON if number == 0 else f"{number}{PERSON[1:]}", "PERSON")
    model.sessions[SESSION] = SessionModel(SESSION, ACTION)
    for enrollment_id, subscription_id, done in zip(ENROLLMENTS, SUBSCRIPTIONS, (1, 1, 0), strict=True):
        model.enrollments[enrollment_id] = EnrollmentModel(enrollment_id, SESSION, subscription_id, done)
    model.certificates[CERTIFICATE] = CertificateModel(
        CERTIFICATE, "ct-card", PERSON, "TRAINING", dt.date(2025, 6, 1), dt.date(2027, 1, 15), 1, "YEAR", PROJECT
    )
    model.links[LINK] = LinkModel(LINK, CERTIFICATE, ACTION, None, model.next_seq())
    return model


# The answers the rules ask for, field by field (stored fields left out: they are not judged here).
PARENT = {"action_code": "FA1", "action_name": "ct-first aid", "action_type": "TRAINING"}
RIGHT: dict[str, dict[str, Any]] = {
    # the first entry's certificate expires 2027-01-15, beyond today + 30 days: VALID; the others NEW
    "action": {"action_id": ACTION, "countSubscribed": 3, "countValid": 1, "countScheduled": 0, "countToDo": 2, "owned_active": True},
    "action-session": {"action_session_id": SESSION, **PARENT, "count_subscribed": 3, "count_done": 2, "count_fail": 1, "count_unknown": 0, "date_begin": None, "date_end": None},
    "action-subscription": {"action_subscription_id": SUBSCRIPTIONS[0], **PARENT, "status": "VALID"},
    "action-session-subscription": {"action_session_subscription_id": ENROLLMENTS[0], "action_type": "TRAINING"},
    # the client's date_expire wins over date_release + validity (2026-06-01); the office is the link's action's
    "certificate": {"certificate_id": CERTIFICATE, "date_expire": "2027-01-15", "subtenant_id": OFFICE},
    "certificate-action": {
        "certificate_action_id": LINK, **PARENT, "date_expire": "2027-01-15", "is_date_inherited": 1,
        "resource_id": PERSON, "certificate_name": "ct-card", "date_release": "2025-06-01",
        "office_name": "Rome North Site",  # its action's office: a directory value, set
    },
}

TAMPERED = {
    "a view's count_done one more": ("action-session", {"count_done": 3, "count_subscribed": 4}, "session_counts_match_model"),
    "a view's count_done alone one more": ("action-session", {"count_done": 3}, "session_counts_match_enrollments"),
    "an update answer's entry to do counted valid": ("action", {"countValid": 2, "countToDo": 1}, "action_counts_match_model"),
    "an index item's entry to do counted scheduled": ("action", {"countScheduled": 1, "countToDo": 1}, "action_counts_match_model"),
    "counts that do not add up": ("action", {"countToDo": 3}, "counts_add_up"),
    "a session spanning a day without dates": ("action-session", {"date_begin": "2026-03-02", "date_end": "2026-03-02"}, "session_dates_span_its_dates"),
    "the client's date_expire overridden": ("certificate", {"date_expire": "2026-06-01"}, "certificate_expiry_derivation"),
    "a certificate without its link's office": ("certificate", {"subtenant_id": None}, "certificate_office_from_first_link"),
    "an entry's status": ("action-subscription", {"status": "EXPIRING"}, "subscription_status_matches_certificates"),
    "a link's own date claimed": ("certificate-action", {"is_date_inherited": 0}, "link_expiry_inherited"),
    "a link's certificate name": ("certificate-action", {"certificate_name": "another"}, "parent_fields_copied"),
    "a link's release date": ("certificate-action", {"date_release": "2025-06-02"}, "parent_fields_copied"),
    "an enrollment's action type": ("action-session-subscription", {"action_type": "MEDICAL"}, "parent_fields_copied"),
    "a session's action code": ("action-session", {"action_code": "ct-first aid"}, "parent_fields_copied"),
    "a link without its action's office name": ("certificate-action", {"office_name": None}, "directory_values_agree"),
    "an action not owned_active": ("action", {"owned_active": False}, "directory_values_agree"),
}


@pytest.mark.parametrize("segment", list(RIGHT))
def test_the_right_answer_holds(segment: str) -> None:
    derived_fields_match_model(world(), segment, RIGHT[segment], [])


@pytest.mark.parametrize(("segment", "change", "rule"), list(TAMPERED.values()), ids=list(TAMPERED))
def test_a_tampered_answer_names_its_rule(segment: str, change: dict[str, Any], rule: str) -> None:
    with pytest.raises(rules.RuleViolation) as raised:
        derived_fields_match_model(world(), segment, {**RIGHT[segment], **change}, [])
    assert raised.value.rule == rule


def test_ids_are_compared_without_regard_to_case() -> None:
    answer = {**RIGHT["certificate-action"], "certificate_action_id": LINK.upper(), "resource_id": PERSON.upper()}
    derived_fields_match_model(world(), "certificate-action", answer, [])
    with pytest.raises(rules.RuleViolation):
        derived_fields_match_model(world(), "certificate-action", {**answer, "date_expire": "2027-01-16"}, [])


def test_an_entity_the_model_does_not_know_is_not_judged() -> None:
    stranger = {**RIGHT["action-session"], "action_session_id": "0b000000-0000-4000-8000-000000000099", "count_done": 9}
    derived_fields_match_model(world(), "action-session", stranger, [])


def test_what_today_could_decide_either_way_is_left_out() -> None:
    unsure = Uncertain(subscriptions=frozenset({SUBSCRIPTIONS[0]}), actions=frozenset({ACTION}))
    derived_fields_match_model(world(), "action-subscription", {**RIGHT["action-subscription"], "status": "EXPIRING"}, [], unsure)
    derived_fields_match_model(world(), "action", {**RIGHT["action"], "countValid": 0, "countToDo": 3}, [], unsure)
    with pytest.raises(rules.RuleViolation):  # only today's part is left out: the copied fields still count
        derived_fields_match_model(world(), "action-subscription", {**RIGHT["action-subscription"], "action_code": "x"}, [], unsure)


class AnsweringViews:
    """Stands in for the client: every view answers 200 with the given entity."""

    def __init__(self, answers: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.answers = answers

    def view(self, segment: str, entity_id: str) -> Answer:
        body = json.dumps(self.answers[(segment, entity_id)]).encode()
        return Answer(Exchange("GET", f"/v2/{segment}/view/{entity_id}", {}, None, 200, {"content-type": "application/json"}, body))

    def gather(self, calls: Sequence[Callable[[], Answer]]) -> list[Answer]:
        return [call() for call in calls]


def test_views_name_a_wrong_status_before_the_counts_it_decides() -> None:
    # the first entry answered NEW, and its action's counts with it: one valid entry fewer
    answers = {
        ("action", ACTION): {**RIGHT["action"], "countValid": 0, "countToDo": 3},
        ("action-subscription", SUBSCRIPTIONS[0]): {**RIGHT["action-subscription"], "status": "NEW"},
    }
    with pytest.raises(rules.RuleViolation) as raised:
        views_match_model(AnsweringViews(answers), world(), list(answers))  # type: ignore[arg-type]
    assert raised.value.rule == "subscription_status_matches_certificates"


def test_two_answers_naming_one_office_differently_break_the_directory_rule() -> None:
    """The action (its own office) and its link (the action's office) answer the office's name:
    once learned from one answer, another answer with another name breaks the rule."""
    model = world()
    action = {**RIGHT["action"], "subtenant_id": OFFICE, "office_name": "Rome North Site", "parent_active": True}
    derived_fields_match_model(model, "action", action, [])
    derived_fields_match_model(model, "certificate-action", RIGHT["certificate-action"], [])  # the same name
    with pytest.raises(rules.RuleViolation) as raised:
        derived_fields_match_model(model, "certificate-action", {**RIGHT["certificate-action"], "office_name": "Turin Plant"}, [])
    assert raised.value.rule == "directory_values_agree"
