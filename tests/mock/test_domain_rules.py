"""Rules of create and update answered with 422 naming the field (semantics.md, "Operations and
status codes" and "Referential rules"), checked on the small world with its entities."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain.errors import RuleViolations
from mockworld import (
    CERT_1, CERT_UNLINKED, DATE_NEXT_1, ENROLLMENT_2, EXISTING, FIRE, FOOD_HYGIENE, LINK_1, MISSING,
    O_ROME, O_TURIN, P_ACME, P_BOREALIS, PERSON_1, PERSON_3, SEGMENTS, SESSION_NEXT, SUB_1, SUB_2,
    SUB_3, SUB_CRANE, World, create_body, id_field, update_body,
)


@pytest.fixture
def small() -> World:
    return World(with_entities=True)


def _fields_of_violation(action: Any) -> list[str]:
    with pytest.raises(RuleViolations) as raised:
        action()
    violations = raised.value.violations
    assert violations, "a 422 lists at least one violation"
    return [v.field for v in violations]


def _count(world: World, segment: str) -> int:
    return len(world.domain.store.table(segment))


# (rule, segment, fields that replace the valid body's, the field the 422 must name)
BROKEN_CREATES: list[tuple[str, str, dict[str, Any], str]] = [
    ("project must exist", "action", {"tenant_id": MISSING}, "tenant_id"),
    ("office must exist", "action", {"subtenant_id": MISSING}, "subtenant_id"),
    ("office must be of the project", "action", {"subtenant_id": O_TURIN}, "subtenant_id"),
    ("action must exist", "action-session", {"action_id": MISSING}, "action_id"),
    ("office must be of the project", "action-session", {"tenant_id": P_BOREALIS}, "subtenant_id"),
    ("session must exist", "action-session-date", {"action_session_id": MISSING}, "action_session_id"),
    ("office must be of the project", "action-session-date", {"subtenant_id": O_TURIN}, "subtenant_id"),
    ("date_end not before date_begin", "action-session-date", {"date_end": "2026-07-03T08:59:59"}, "date_end"),
    ("date_end not before date_begin on an earlier day", "action-session-date", {"date_end": "2026-07-02T23:00:00"}, "date_end"),
    ("resource must exist", "certificate", {"resource_id": MISSING}, "resource_id"),
    ("project must exist", "certificate", {"tenant_id": MISSING}, "tenant_id"),
    ("date_expire not before date_release", "certificate", {"date_expire": "2026-01-31"}, "date_expire"),
    ("action must exist", "action-subscription", {"action_id": MISSING}, "action_id"),
    ("resource must exist", "action-subscription", {"subscriber_id": MISSING}, "subscriber_id"),
    ("one resource subscribed once to one action", "action-subscription", {"subscriber_id": PERSON_1}, "subscriber_id"),
    ("office must be of the project", "action-subscription", {"subtenant_id": O_TURIN}, "subtenant_id"),
    ("session must exist", "action-session-subscription", {"action_session_id": MISSING}, "action_session_id"),
    ("entry must exist", "action-session-subscription", {"action_subscription_id": MISSING}, "action_subscription_id"),
    ("certificate must exist", "action-session-subscription", {"certificate_id": MISSING}, "certificate_id"),
    ("one entry enrolled once in one session", "action-session-subscription", {"action_subscription_id": SUB_2}, "action_subscription_id"),
    ("entry enrolled only in a session of its action", "action-session-subscription", {"action_subscription_id": SUB_CRANE}, "action_subscription_id"),
    ("office must be of the project", "action-session-subscription", {"tenant_id": P_BOREALIS}, "subtenant_id"),
    ("certificate must exist", "certificate-action", {"certificate_id": MISSING}, "certificate_id"),
    ("action must exist", "certificate-action", {"action_id": MISSING}, "action_id"),
    ("one certificate linked once to one action", "certificate-action", {"certificate_id": CERT_1}, "action_id"),
    ("certificate linked only to an action of its project", "certificate-action", {"action_id": FOOD_HYGIENE}, "action_id"),
    ("link tenant must be the certificate's project", "certificate-action", {"tenant_id": P_BOREALIS}, "tenant_id"),
]


@pytest.mark.parametrize(
    "segment, overrides, field",
    [pytest.param(s, o, f, id=f"{s}: {rule}") for rule, s, o, f in BROKEN_CREATES],
)
def test_create_breaking_a_rule_is_refused_naming_the_field(small: World, segment: str, overrides: dict[str, Any], field: str) -> None:
    before = _count(small, segment)
    fields = _fields_of_violation(lambda: small.domain.create(segment, {**create_body(segment), **overrides}))
    assert field in fields
    # nothing was stored
    assert _count(small, segment) == before


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_with_an_existing_id_is_refused(small: World, segment: str) -> None:
    body = {**create_body(segment), id_field(segment): EXISTING[segment]}
    before = small.view(segment, EXISTING[segment])
    assert id_field(segment) in _fields_of_violation(lambda: small.domain.create(segment, body))
    # the stored entity is untouched
    assert small.view(segment, EXISTING[segment]) == before


@pytest.mark.parametrize("segment", SEGMENTS)
def test_valid_create_body_is_accepted(small: World, segment: str) -> None:
    # the baseline of the table above: without the broken field, the body is accepted
    created = small.domain.create(segment, create_body(segment))
    assert small.exists(segment, created[id_field(segment)])


def test_date_end_equal_to_date_begin_is_accepted(small: World) -> None:
    body = {**create_body("action-session-date"), "date_end": "2026-07-03T09:00:00"}
    # not before: equal is fine
    assert small.domain.create("action-session-date", body)["date_end"] == "2026-07-03T09:00:00"


def test_date_expire_equal_to_date_release_is_accepted(small: World) -> None:
    body = {**create_body("certificate"), "date_expire": "2026-02-01"}
    assert small.domain.create("certificate", body)["date_expire"] == "2026-02-01"


def test_action_type_cannot_change_on_update(small: World) -> None:
    before = small.view("action", FIRE)
    assert "action_type" in _fields_of_violation(lambda: small.domain.update("action", FIRE, {"action_type": "HEALTH"}))
    assert small.view("action", FIRE) == before


def test_action_type_sent_unchanged_is_accepted(small: World) -> None:
    assert small.domain.update("action", FIRE, {"action_type": "TRAINING", "code": "FST-02"})["code"] == "FST-02"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_id_cannot_change_on_update(small: World, segment: str) -> None:
    entity_id = EXISTING[segment]
    before = small.view(segment, entity_id)
    body = {**update_body(segment), id_field(segment): MISSING}
    assert id_field(segment) in _fields_of_violation(lambda: small.domain.update(segment, entity_id, body))
    # no change at all, and no entity under the other id
    assert small.view(segment, entity_id) == before
    assert not small.exists(segment, MISSING)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_sending_its_own_id_is_accepted(small: World, segment: str) -> None:
    entity_id = EXISTING[segment]
    updated = small.domain.update(segment, entity_id, {**update_body(segment), id_field(segment): entity_id})
    assert updated[id_field(segment)] == entity_id


def test_update_checks_date_end_against_the_stored_date_begin(small: World) -> None:
    # DATE_NEXT_1 begins 2026-07-01T09:00:00; only date_end is sent
    before = small.view("action-session-date", DATE_NEXT_1)
    fields = _fields_of_violation(lambda: small.domain.update("action-session-date", DATE_NEXT_1, {"date_end": "2026-07-01T08:00:00"}))
    assert "date_end" in fields
    assert small.view("action-session-date", DATE_NEXT_1) == before


def test_update_checks_date_release_against_the_stored_date_expire(small: World) -> None:
    certificate = small.domain.create("certificate", {**create_body("certificate"), "date_expire": "2026-03-01"})["certificate_id"]
    # release moved after the stored expiry 2026-03-01
    fields = _fields_of_violation(lambda: small.domain.update("certificate", certificate, {"date_release": "2026-04-01"}))
    assert set(fields) & {"date_expire", "date_release"}
    assert small.view("certificate", certificate)["date_release"] == "2026-02-01"


def test_update_checks_date_expire_against_the_stored_date_release(small: World) -> None:
    # CERT_1 was released 2025-01-10
    assert "date_expire" in _fields_of_violation(lambda: small.domain.update("certificate", CERT_1, {"date_expire": "2025-01-09"}))


def test_update_to_a_missing_reference_is_refused(small: World) -> None:
    assert "action_id" in _fields_of_violation(lambda: small.domain.update("action-session", SESSION_NEXT, {"action_id": MISSING}))


def test_update_to_a_foreign_office_is_refused(small: World) -> None:
    assert "subtenant_id" in _fields_of_violation(lambda: small.domain.update("action", FIRE, {"subtenant_id": O_TURIN}))


def test_update_of_an_entry_to_an_already_subscribed_resource_is_refused(small: World) -> None:
    # SUB_3 (PERSON_3) -> PERSON_1, who already has SUB_1 on FIRE
    assert "subscriber_id" in _fields_of_violation(lambda: small.domain.update("action-subscription", SUB_3, {"subscriber_id": PERSON_1}))
    assert small.view("action-subscription", SUB_3)["subscriber_id"] == PERSON_3


def test_update_of_an_enrollment_to_an_entry_already_in_the_session_is_refused(small: World) -> None:
    enrollment = small.enroll(SESSION_NEXT, SUB_3)
    # SUB_2 is already enrolled in SESSION_NEXT (ENROLLMENT_2)
    fields = _fields_of_violation(lambda: small.domain.update("action-session-subscription", enrollment, {"action_subscription_id": SUB_2}))
    assert "action_subscription_id" in fields


def test_update_of_an_enrollment_to_a_session_of_another_action_is_refused(small: World) -> None:
    foreign = small.session(FOOD_HYGIENE, subtenant_id=O_TURIN, tenant_id=P_BOREALIS)
    fields = _fields_of_violation(lambda: small.domain.update("action-session-subscription", ENROLLMENT_2, {"action_session_id": foreign}))
    assert "action_subscription_id" in fields or "action_session_id" in fields


def test_update_of_a_link_to_an_action_already_linked_is_refused(small: World) -> None:
    link = small.link(CERT_UNLINKED, small.action())
    # CERT_UNLINKED -> FIRE is fine, but then LINK_1 (CERT_1 -> FIRE) cannot become CERT_UNLINKED -> FIRE
    small.link(CERT_UNLINKED, FIRE)
    assert "action_id" in _fields_of_violation(lambda: small.domain.update("certificate-action", link, {"action_id": FIRE}))
    assert "action_id" in _fields_of_violation(lambda: small.domain.update("certificate-action", LINK_1, {"certificate_id": CERT_UNLINKED}))


@pytest.mark.parametrize("segment, body", [
    ("action-subscription", {"subscriber_id": PERSON_1}),
    ("action-session-subscription", {"action_subscription_id": SUB_2}),
    ("certificate-action", {"action_id": FIRE}),
])
def test_update_repeating_its_own_unique_pair_is_not_a_duplicate(small: World, segment: str, body: dict[str, Any]) -> None:
    entity_id = {"action-subscription": SUB_1, "action-session-subscription": ENROLLMENT_2, "certificate-action": LINK_1}[segment]
    # the entity does not collide with itself
    assert small.domain.update(segment, entity_id, body)[id_field(segment)] == entity_id


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_is_partial(small: World, segment: str) -> None:
    entity_id = EXISTING[segment]
    before = small.view(segment, entity_id)
    body = update_body(segment)
    after = small.domain.update(segment, entity_id, body)
    # the sent fields changed, every other stored field stayed
    for name, value in body.items():
        assert after[name] == value
    stored = set(small.domain.resources[segment].stored) - set(body)
    assert {k: after[k] for k in stored} == {k: before[k] for k in stored}


def test_computed_and_unknown_fields_sent_on_create_are_ignored(small: World) -> None:
    body = {**create_body("action"), "countValid": 99, "office_name": "Elsewhere", "colour": "blue"}
    created = small.domain.create("action", body)
    # computed from the world, not from the body; the unknown field is not answered
    assert created["countValid"] == 0 and created["office_name"] == "Rome Yard"
    assert "colour" not in created


def test_computed_and_unknown_fields_sent_on_update_are_ignored(small: World) -> None:
    updated = small.domain.update("action-session", SESSION_NEXT, {"count_subscribed": 50, "date_begin": "2020-01-01", "x": 1})
    # SESSION_NEXT: one enrollment, dates 2026-07-01..2026-07-02
    assert (updated["count_subscribed"], updated["date_begin"], updated["date_end"]) == (1, "2026-07-01", "2026-07-02")
    assert "x" not in updated
    assert O_ROME == updated["subtenant_id"] and P_ACME == updated["tenant_id"]
