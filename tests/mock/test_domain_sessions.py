"""ActionSession computed fields: enrollment counts and the span of its dates (semantics.md,
"Computed fields"). Every expected value is worked out by hand from the rule."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mockworld import PERSON_1, PERSON_2, PERSON_3, PERSON_4, PERSON_5, World


def _session_with_subscriptions(world: World, count: int) -> tuple[str, list[str]]:
    action = world.action()
    subscriptions = [world.subscription(action, person) for person in (PERSON_1, PERSON_2, PERSON_3, PERSON_4, PERSON_5)[:count]]
    return world.session(action), subscriptions


def test_session_without_enrollments_counts_zero_everywhere(world: World) -> None:
    session = world.session(world.action())
    answered = world.view("action-session", session)
    # no enrollment at all: every count is 0
    assert (answered["count_subscribed"], answered["count_done"], answered["count_fail"], answered["count_unknown"]) == (0, 0, 0, 0)


def test_session_counts_enrollments_by_outcome(world: World) -> None:
    session, subs = _session_with_subscriptions(world, 5)
    world.enroll(session, subs[0], done=1)
    world.enroll(session, subs[1], done=1)
    world.enroll(session, subs[2], done=0)
    world.enroll(session, subs[3], done=-1)
    world.enroll(session, subs[4])  # done not sent: -1 by default
    answered = world.view("action-session", session)
    # 5 enrollments: done 1 twice, 0 once, -1 twice (one explicit, one by default)
    assert answered["count_subscribed"] == 5
    assert answered["count_done"] == 2
    assert answered["count_fail"] == 1
    assert answered["count_unknown"] == 2


def test_session_counts_follow_an_outcome_update(world: World) -> None:
    session, subs = _session_with_subscriptions(world, 1)
    enrollment = world.enroll(session, subs[0])
    world.domain.update("action-session-subscription", enrollment, {"done": 0})
    answered = world.view("action-session", session)
    # the only enrollment went from -1 to 0: one failure, nothing unknown
    assert (answered["count_subscribed"], answered["count_fail"], answered["count_unknown"]) == (1, 1, 0)


def test_session_counts_follow_a_deleted_enrollment(world: World) -> None:
    session, subs = _session_with_subscriptions(world, 2)
    kept = world.enroll(session, subs[0], done=1)
    gone = world.enroll(session, subs[1], done=0)
    world.domain.delete("action-session-subscription", gone, force=False)
    answered = world.view("action-session", session)
    # one enrollment left (done 1)
    assert world.exists("action-session-subscription", kept)
    assert (answered["count_subscribed"], answered["count_done"], answered["count_fail"]) == (1, 1, 0)


def test_session_counts_only_its_own_enrollments(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    mine, other = world.session(action), world.session(action)
    world.enroll(other, sub, done=1)
    # the enrollment is in the other session: this one has none
    assert world.view("action-session", mine)["count_subscribed"] == 0
    assert world.view("action-session", other)["count_subscribed"] == 1


def test_session_without_dates_has_null_span(world: World) -> None:
    session = world.session(world.action())
    answered = world.view("action-session", session)
    # no dates: both ends are null
    assert answered["date_begin"] is None and answered["date_end"] is None


def test_session_span_is_date_part_of_earliest_begin_and_latest_end(world: World) -> None:
    session = world.session(world.action())
    world.date(session, "2024-03-16T09:00:00", "2024-03-16T13:00:00")
    world.date(session, "2024-03-15T09:00:00", "2024-03-15T17:00:00")
    world.date(session, "2024-03-18T08:00:00", "2024-03-19T02:00:00")
    answered = world.view("action-session", session)
    # earliest begin 2024-03-15T09:00; latest end 2024-03-19T02:00 (a night shift): date parts
    assert (answered["date_begin"], answered["date_end"]) == ("2024-03-15", "2024-03-19")


def test_session_span_takes_latest_end_even_from_a_date_that_does_not_begin_last(world: World) -> None:
    session = world.session(world.action())
    world.date(session, "2024-05-01T09:00:00", "2024-05-10T17:00:00")  # begins first, ends last
    world.date(session, "2024-05-03T09:00:00", "2024-05-03T17:00:00")
    answered = world.view("action-session", session)
    # begin: 2024-05-01 (first date); end: 2024-05-10 (also the first date's end, the latest)
    assert (answered["date_begin"], answered["date_end"]) == ("2024-05-01", "2024-05-10")


def test_session_span_uses_the_local_date_written_not_utc(world: World) -> None:
    session = world.session(world.action())
    world.date(session, "2024-03-15T22:00:00-05:00", "2024-03-15T23:30:00-05:00")
    answered = world.view("action-session", session)
    # the text says 2024-03-15 (local); in UTC it would be 2024-03-16, which must not be answered
    assert (answered["date_begin"], answered["date_end"]) == ("2024-03-15", "2024-03-15")


def test_session_span_follows_deleted_and_updated_dates(world: World) -> None:
    session = world.session(world.action())
    first = world.day(session, "2024-01-10")
    last = world.day(session, "2024-01-20")
    world.domain.delete("action-session-date", last, force=False)
    # only 2024-01-10 left
    assert world.view("action-session", session)["date_end"] == "2024-01-10"
    world.domain.update("action-session-date", first, {"date_begin": "2024-01-08T09:00:00"})
    # the remaining date now begins 2024-01-08 and still ends 2024-01-10
    answered = world.view("action-session", session)
    assert (answered["date_begin"], answered["date_end"]) == ("2024-01-08", "2024-01-10")
    world.domain.delete("action-session-date", first, force=False)
    # no date left: null again
    answered = world.view("action-session", session)
    assert (answered["date_begin"], answered["date_end"]) == (None, None)


def test_session_takes_code_name_and_type_of_its_action(world: World) -> None:
    action = world.action(action_type="HEALTH", code="HLT-9", name="Eye examination")
    answered = world.view("action-session", world.session(action))
    # copied from the action
    assert (answered["action_code"], answered["action_name"], answered["action_type"]) == ("HLT-9", "Eye examination", "HEALTH")


_DAYS = st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2026, 12, 31))


@st.composite
def _date_rows(draw: st.DrawFn) -> list[tuple[str, str]]:
    rows = []
    for _ in range(draw(st.integers(1, 5))):
        begin_day = draw(_DAYS)
        begin_hour = draw(st.integers(0, 23))
        length_hours = draw(st.integers(0, 60))
        begin = dt.datetime.combine(begin_day, dt.time(begin_hour))
        end = begin + dt.timedelta(hours=length_hours)
        rows.append((begin.isoformat(), end.isoformat()))
    return rows


@settings(max_examples=40, deadline=None)
@given(rows=_date_rows())
def test_session_span_property_matches_min_begin_and_max_end(rows: list[tuple[str, str]]) -> None:
    world = World()
    session = world.session(world.action())
    for begin, end in rows:
        world.date(session, begin, end)
    answered = world.view("action-session", session)
    # independent model: parse every date-time, take the earliest begin and the latest end
    expected_begin = min(dt.datetime.fromisoformat(b) for b, _ in rows).date().isoformat()
    expected_end = max(dt.datetime.fromisoformat(e) for _, e in rows).date().isoformat()
    assert (answered["date_begin"], answered["date_end"]) == (expected_begin, expected_end)


def test_counts_follow_an_enrollment_moved_to_another_session(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    first, second = world.session(action), world.session(action)
    enrollment = world.enroll(first, sub, done=1)
    world.domain.update("action-session-subscription", enrollment, {"action_session_id": second})
    # the enrollment now counts for the second session only
    assert world.view("action-session", first)["count_subscribed"] == 0
    assert (world.view("action-session", second)["count_subscribed"], world.view("action-session", second)["count_done"]) == (1, 1)


def test_span_follows_a_date_moved_to_another_session(world: World) -> None:
    action = world.action()
    first, second = world.session(action), world.session(action)
    date = world.day(first, "2024-02-02")
    world.domain.update("action-session-date", date, {"action_session_id": second})
    # the first session has no date left; the second spans 2024-02-02
    assert world.view("action-session", first)["date_begin"] is None
    assert world.view("action-session", second)["date_end"] == "2024-02-02"
