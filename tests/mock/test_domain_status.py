"""ActionSubscription `status` (supporting-resources.md and semantics.md, "Computed fields"):
computed from the links of the same action whose certificate is issued to the subscriber.
Today is 2026-06-15 unless a test says otherwise."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mockworld import PERSON_1, PERSON_2, TODAY, World

RELEASED = "2025-01-01"  # before every expiry used here


def _days(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def _subscribed(world: World, expire_interval: int | None = 30, **action_fields: object) -> tuple[str, str]:
    action = world.action(expire_interval=expire_interval, **action_fields)
    return action, world.subscription(action, PERSON_1)


def _status(world: World, subscription: str) -> str:
    return world.view("action-subscription", subscription)["status"]


def _certified(world: World, action: str, expire: str | None, **link_fields: object) -> str:
    certificate = world.certificate(PERSON_1, RELEASED, date_expire=expire)
    world.link(certificate, action, **link_fields)
    return certificate


def test_status_is_new_without_any_link(world: World) -> None:
    _, sub = _subscribed(world)
    # no certificate linked to the action for this resource
    assert _status(world, sub) == "NEW"


def test_status_is_new_when_the_certificate_is_not_linked_to_this_action(world: World) -> None:
    action, sub = _subscribed(world)
    other_action = world.action()
    _certified(world, other_action, _days(400))
    world.certificate(PERSON_1, RELEASED, date_expire=_days(400))  # not linked at all
    # links exist only for another action, or not at all
    assert _status(world, sub) == "NEW"


def test_status_is_new_when_the_linked_certificate_is_of_another_resource(world: World) -> None:
    action, sub = _subscribed(world)
    certificate = world.certificate(PERSON_2, RELEASED, date_expire=_days(400))
    world.link(certificate, action)
    # the link counts for PERSON_2's entry, not PERSON_1's
    assert _status(world, sub) == "NEW"


def test_status_is_expired_when_expiry_was_yesterday(world: World) -> None:
    action, sub = _subscribed(world)
    _certified(world, action, _days(-1))
    # expiry 2026-06-14 < today 2026-06-15
    assert _status(world, sub) == "EXPIRED"


def test_status_is_expiring_on_the_expiry_day_with_interval_zero(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=0)
    _certified(world, action, _days(0))
    # today <= 2026-06-15 <= today + 0: valid through its expiry day, and within the interval
    assert _status(world, sub) == "EXPIRING"


def test_status_with_null_interval_counts_it_as_zero(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=None)
    _certified(world, action, _days(0))
    # null interval = 0: expiry today is EXPIRING
    assert _status(world, sub) == "EXPIRING"


def test_status_with_null_interval_is_valid_the_day_before_expiry(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=None)
    _certified(world, action, _days(1))
    # expiry 2026-06-16 > today + 0
    assert _status(world, sub) == "VALID"


def test_status_is_expiring_on_the_last_day_of_the_interval(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30)
    _certified(world, action, _days(30))
    # expiry 2026-07-15 == today + 30
    assert _status(world, sub) == "EXPIRING"


def test_status_is_valid_one_day_after_the_interval(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30)
    _certified(world, action, _days(31))
    # expiry 2026-07-16 == today + 30 + 1
    assert _status(world, sub) == "VALID"


def test_status_is_valid_when_the_certificate_never_expires(world: World) -> None:
    action, sub = _subscribed(world)  # the action has no validity
    _certified(world, action, None)  # no date_expire, no validity
    # no expiry anywhere: never expires
    assert _status(world, sub) == "VALID"


def test_a_link_that_never_expires_wins_over_an_expired_one(world: World) -> None:
    action, sub = _subscribed(world)
    _certified(world, action, _days(-100))
    _certified(world, action, None)
    # one link expired, one never expires: the never-expiring one wins
    assert _status(world, sub) == "VALID"


def test_the_link_with_the_latest_expiry_wins(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30)
    _certified(world, action, _days(-10))
    _certified(world, action, _days(10))
    _certified(world, action, _days(-400))
    # latest expiry: today + 10, within the interval
    assert _status(world, sub) == "EXPIRING"


def test_the_latest_expiry_wins_whatever_the_creation_order(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30)
    _certified(world, action, _days(200))
    _certified(world, action, _days(-5))
    # latest expiry today + 200 is beyond the interval
    assert _status(world, sub) == "VALID"


def test_the_links_own_date_beats_a_later_certificate_date(world: World) -> None:
    action, sub = _subscribed(world)
    _certified(world, action, _days(400), date_expire=_days(-1))
    # the link's own 2026-06-14 wins over the certificate's 2027-07-20
    assert _status(world, sub) == "EXPIRED"


def test_the_links_own_date_beats_an_expired_certificate_date(world: World) -> None:
    action, sub = _subscribed(world)
    _certified(world, action, _days(-200), date_expire=_days(400))
    # the link's own date is a year away
    assert _status(world, sub) == "VALID"


def test_a_link_without_own_date_inherits_the_computed_certificate_expiry(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30, validity=1, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2025-06-20")
    world.link(certificate, action)
    # 2025-06-20 + 1 YEAR (the action's validity) = 2026-06-20, within today + 30
    assert _status(world, sub) == "EXPIRING"


def test_status_follows_the_clock(world: World) -> None:
    action, sub = _subscribed(world, expire_interval=30)
    _certified(world, action, "2026-12-31")
    # 2026-06-15: 2026-12-31 is beyond 2026-07-15
    assert _status(world, sub) == "VALID"
    world.set_today(dt.date(2026, 12, 1))
    # 2026-12-01 <= 2026-12-31 <= 2026-12-31
    assert _status(world, sub) == "EXPIRING"
    world.set_today(dt.date(2027, 1, 1))
    # 2026-12-31 < 2027-01-01
    assert _status(world, sub) == "EXPIRED"


def test_status_returns_to_new_when_its_only_link_is_deleted(world: World) -> None:
    action, sub = _subscribed(world)
    certificate = world.certificate(PERSON_1, RELEASED, date_expire=_days(400))
    link = world.link(certificate, action)
    assert _status(world, sub) == "VALID"
    world.domain.delete("certificate-action", link, force=False)
    # no link left
    assert _status(world, sub) == "NEW"


def test_status_returns_to_new_when_the_certificate_is_force_deleted(world: World) -> None:
    action, sub = _subscribed(world)
    certificate = _certified(world, action, _days(400))
    world.domain.delete("certificate", certificate, force=True)
    # its link went with it
    assert _status(world, sub) == "NEW"


def test_status_follows_an_update_of_the_certificate_expiry(world: World) -> None:
    action, sub = _subscribed(world)
    certificate = _certified(world, action, _days(400))
    world.domain.update("certificate", certificate, {"date_expire": _days(-3)})
    # now 2026-06-12 < today
    assert _status(world, sub) == "EXPIRED"


# --- property: the status against an independent model ------------------------------------

_LINK = st.tuples(
    st.one_of(st.none(), st.integers(-40, 60)),  # expiry offset from today; None: never expires
    st.booleans(),  # True: the date is the link's own (the certificate carries a decoy date)
    st.integers(-40, 60),  # the decoy
)


def _model_status(expiries: list[int | None], interval: int | None) -> str:
    if not expiries:
        return "NEW"
    if any(e is None for e in expiries):
        return "VALID"
    latest = max(e for e in expiries if e is not None)
    if latest < 0:
        return "EXPIRED"
    if latest <= (interval or 0):
        return "EXPIRING"
    return "VALID"


@settings(max_examples=60, deadline=None)
@given(links=st.lists(_LINK, max_size=4), interval=st.one_of(st.none(), st.integers(0, 45)))
def test_status_property_matches_a_model_of_latest_expiry(links: list[tuple[int | None, bool, int]], interval: int | None) -> None:
    world = World()
    action = world.action(expire_interval=interval)
    sub = world.subscription(action, PERSON_1)
    expiries: list[int | None] = []
    for offset, on_link, decoy in links:
        if offset is not None and on_link:
            certificate = world.certificate(PERSON_1, "2020-01-01", date_expire=_days(decoy))
            world.link(certificate, action, date_expire=_days(offset))
        else:
            certificate = world.certificate(PERSON_1, "2020-01-01", date_expire=None if offset is None else _days(offset))
            world.link(certificate, action)
        expiries.append(offset)
    assert _status(world, sub) == _model_status(expiries, interval)


def test_status_follows_a_change_of_the_certificates_resource(world: World) -> None:
    action = world.action()
    first, second = world.subscription(action, PERSON_1), world.subscription(action, PERSON_2)
    certificate = _certified(world, action, _days(400))
    assert (_status(world, first), _status(world, second)) == ("VALID", "NEW")
    world.domain.update("certificate", certificate, {"resource_id": PERSON_2})
    # the link now counts for PERSON_2's entry, not PERSON_1's
    assert (_status(world, first), _status(world, second)) == ("NEW", "VALID")


def test_status_follows_a_change_of_the_entrys_subscriber(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_2)
    _certified(world, action, _days(400))  # PERSON_1's
    assert _status(world, sub) == "NEW"
    world.domain.update("action-subscription", sub, {"subscriber_id": PERSON_1})
    assert _status(world, sub) == "VALID"


def test_sending_back_an_inherited_link_date_stores_it_as_its_own(world: World) -> None:
    action = world.action()
    certificate = world.certificate(PERSON_1, RELEASED, date_expire=_days(400))
    link = world.link(certificate, action)
    answered = world.view("certificate-action", link)
    assert (answered["date_expire"], answered["is_date_inherited"]) == (_days(400), 1)
    world.domain.update("certificate-action", link, {"date_expire": answered["date_expire"]})
    world.domain.update("certificate", certificate, {"date_expire": _days(-1)})
    # the link kept the date sent back as its own, so the certificate's new date does not reach it
    after = world.view("certificate-action", link)
    assert (after["date_expire"], after["is_date_inherited"]) == (_days(400), 0)
    assert _status(world, world.subscription(action, PERSON_1)) == "VALID"
