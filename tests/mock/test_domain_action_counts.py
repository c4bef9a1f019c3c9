"""Action compliance counts (semantics.md, "Computed fields"): countValid = entries VALID or
EXPIRING; countScheduled = the others enrolled with done -1 in a session of this action whose
date_end >= today; countToDo = the rest. Today is 2026-06-15 unless a test says otherwise."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mockworld import O_MILAN, PERSON_1, TODAY, World

YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)


def _counts(world: World, action: str) -> tuple[int, int, int, int]:
    answered = world.view("action", action)
    return answered["countSubscribed"], answered["countValid"], answered["countScheduled"], answered["countToDo"]


def _certify(world: World, action: str, person: str, expire: dt.date | None) -> None:
    certificate = world.certificate(person, "2020-01-01", date_expire=expire.isoformat() if expire else None)
    world.link(certificate, action)


def test_action_without_entries_counts_zero(world: World) -> None:
    # no compliance schedule entry
    assert _counts(world, world.action()) == (0, 0, 0, 0)


def test_new_entry_without_enrollment_is_to_do(world: World) -> None:
    action = world.action()
    world.subscription(action, PERSON_1)
    # NEW, not enrolled anywhere
    assert _counts(world, action) == (1, 0, 0, 1)


def test_valid_and_expiring_entries_count_as_valid(world: World) -> None:
    action = world.action(expire_interval=30)
    p = world.people
    for person in p[:2]:
        world.subscription(action, person)
    _certify(world, action, p[0], TODAY + dt.timedelta(days=300))  # VALID
    _certify(world, action, p[1], TODAY + dt.timedelta(days=5))  # EXPIRING
    # both count as valid
    assert _counts(world, action) == (2, 2, 0, 0)


def test_expired_entry_without_enrollment_is_to_do(world: World) -> None:
    action = world.action()
    world.subscription(action, PERSON_1)
    _certify(world, action, PERSON_1, YESTERDAY)
    # EXPIRED and not enrolled
    assert _counts(world, action) == (1, 0, 0, 1)


def test_entry_enrolled_with_unknown_outcome_in_a_session_ending_today_is_scheduled(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.day(session, TODAY)
    world.enroll(session, sub, done=-1)
    # date_end 2026-06-15 >= today
    assert _counts(world, action) == (1, 0, 1, 0)


def test_entry_enrolled_in_a_session_that_ended_yesterday_is_to_do(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.day(session, YESTERDAY)
    world.enroll(session, sub)
    # date_end 2026-06-14 < today
    assert _counts(world, action) == (1, 0, 0, 1)


def test_session_end_is_its_latest_date(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.day(session, YESTERDAY - dt.timedelta(days=10))
    world.day(session, TOMORROW)
    world.enroll(session, sub)
    # the session spans past days and tomorrow: its date_end is tomorrow
    assert _counts(world, action) == (1, 0, 1, 0)


def test_entry_enrolled_in_a_session_without_dates_is_to_do(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.enroll(session, sub)
    # date_end is null: not "today or later"
    assert _counts(world, action) == (1, 0, 0, 1)


def test_entry_with_a_recorded_outcome_is_not_scheduled(world: World) -> None:
    action = world.action()
    failed, completed = (world.subscription(action, p) for p in world.people[:2])
    session = world.session(action)
    world.day(session, TOMORROW)
    world.enroll(session, failed, done=0)
    world.enroll(session, completed, done=1)  # completed, but no certificate linked: still NEW
    # outcome recorded (0 and 1): neither is scheduled; neither is valid
    assert _counts(world, action) == (2, 0, 0, 2)


def test_valid_entry_enrolled_in_a_future_session_counts_as_valid_only(world: World) -> None:
    action = world.action(expire_interval=90)
    sub = world.subscription(action, PERSON_1)
    _certify(world, action, PERSON_1, TODAY + dt.timedelta(days=20))  # EXPIRING
    session = world.session(action)
    world.day(session, TOMORROW)
    world.enroll(session, sub)
    # valid wins: countScheduled counts only the entries not counted as valid
    assert _counts(world, action) == (1, 1, 0, 0)


def test_expired_entry_enrolled_in_a_future_session_is_scheduled(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    _certify(world, action, PERSON_1, YESTERDAY)
    session = world.session(action)
    world.day(session, TOMORROW)
    world.enroll(session, sub)
    # EXPIRED, enrolled with done -1 in a session ending tomorrow
    assert _counts(world, action) == (1, 0, 1, 0)


def test_a_past_unknown_outcome_does_not_schedule_but_a_future_one_does(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    past, future = world.session(action), world.session(action)
    world.day(past, YESTERDAY)
    world.day(future, TOMORROW)
    world.enroll(past, sub, done=-1)
    enrollment = world.enroll(future, sub, done=0)
    # -1 only in the past session, 0 in the future one: to do
    assert _counts(world, action) == (1, 0, 0, 1)
    world.domain.update("action-session-subscription", enrollment, {"done": -1})
    # now -1 in the future session: scheduled
    assert _counts(world, action) == (1, 0, 1, 0)


def test_scheduled_becomes_to_do_when_the_session_end_passes(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.day(session, TOMORROW)
    world.enroll(session, sub)
    assert _counts(world, action) == (1, 0, 1, 0)
    world.set_today(TOMORROW)
    # date_end == the new today: still scheduled
    assert _counts(world, action) == (1, 0, 1, 0)
    world.set_today(TOMORROW + dt.timedelta(days=1))
    # date_end < today
    assert _counts(world, action) == (1, 0, 0, 1)


def test_counts_follow_a_force_deleted_session(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    world.day(session, TOMORROW)
    world.enroll(session, sub)
    world.domain.delete("action-session", session, force=True)
    # the enrollment went with the session: to do again
    assert _counts(world, action) == (1, 0, 0, 1)


def test_counts_of_one_action_ignore_another_actions_entries(world: World) -> None:
    action, other = world.action(), world.action()
    world.subscription(other, PERSON_1)
    _certify(world, other, PERSON_1, None)
    # the entry and the certificate are of the other action
    assert _counts(world, action) == (0, 0, 0, 0)
    assert _counts(world, other) == (1, 1, 0, 0)


def test_office_and_project_fields_of_an_action(world: World) -> None:
    answered = world.view("action", world.action(subtenant_id=O_MILAN))
    # Milan Office (not active) of Acme Test Works (COMPANY); owned_active always true
    assert answered["office_name"] == "Milan Office"
    assert answered["project_name"] == "Acme Test Works"
    assert answered["project_type"] == "COMPANY"
    assert answered["parent_active"] is False
    assert answered["owned_active"] is True


# --- property: the counts against an independent model -------------------------------------

_CERT_STATES = ("none", "expired", "expiring", "valid", "never")
_SESSION_KINDS = ("past", "today", "future", "no-dates")
_ENTRY = st.tuples(
    st.sampled_from(_CERT_STATES),
    st.dictionaries(st.sampled_from(_SESSION_KINDS), st.sampled_from((-1, 0, 1)), max_size=4),
)


@settings(max_examples=40, deadline=None)
@given(entries=st.lists(_ENTRY, min_size=1, max_size=10))
def test_action_counts_property_match_a_model(entries: list[tuple[str, dict[str, int]]]) -> None:
    world = World(TODAY, extra_people=10)
    action = world.action(expire_interval=30)
    sessions = {kind: world.session(action) for kind in _SESSION_KINDS}
    world.day(sessions["past"], YESTERDAY)
    world.day(sessions["today"], TODAY)
    world.day(sessions["future"], TODAY + dt.timedelta(days=40))
    expiry = {
        "expired": TODAY - dt.timedelta(days=3),
        "expiring": TODAY + dt.timedelta(days=30),
        "valid": TODAY + dt.timedelta(days=31),
    }
    valid = scheduled = 0
    for person, (state, enrollments) in zip(world.people, entries):
        sub = world.subscription(action, person)
        if state == "never":
            _certify(world, action, person, None)
        elif state != "none":
            _certify(world, action, person, expiry[state])
        for kind, done in enrollments.items():
            world.enroll(sessions[kind], sub, done=done)
        # model: valid = VALID/EXPIRING; scheduled = not valid and -1 in a session ending today or later
        if state in ("expiring", "valid", "never"):
            valid += 1
        elif any(done == -1 and kind in ("today", "future") for kind, done in enrollments.items()):
            scheduled += 1
    total = len(entries)
    assert _counts(world, action) == (total, valid, scheduled, total - valid - scheduled)
