"""Certificate `date_expire` (semantics.md and DECISIONS.md, "Computed fields"): the client's
date wins; else date_release + the certificate's own validity; else + the validity of the action
of its first link (created first); else null. MONTH and YEAR keep the day, clamped to the end of
a shorter month."""

from __future__ import annotations

import calendar
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.clock import add_period
from mockworld import O_ROME, P_ACME, PERSON_1, World


def _expiry(world: World, certificate: str) -> str | None:
    return world.view("certificate", certificate)["date_expire"]


def test_own_validity_gives_the_expiry(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-15", validity=5, validity_unit="YEAR")
    # 2024-01-15 + 5 YEAR
    assert _expiry(world, certificate) == "2029-01-15"


def test_without_validity_or_link_the_certificate_never_expires(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-15")
    # nothing to compute from
    assert _expiry(world, certificate) is None


def test_validity_without_unit_is_not_an_own_validity(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-15", validity=5)
    # "validity + validity_unit when it has them": a number alone is not enough; no link either
    assert _expiry(world, certificate) is None


def test_first_links_action_validity_applies_without_own_validity(world: World) -> None:
    action = world.action(validity=18, validity_unit="MONTH")
    certificate = world.certificate(PERSON_1, "2024-01-15")
    world.link(certificate, action)
    # 2024-01-15 + 18 MONTH = 2025-07-15
    assert _expiry(world, certificate) == "2025-07-15"


def test_own_validity_beats_the_actions(world: World) -> None:
    action = world.action(validity=1, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2024-01-15", validity=30, validity_unit="DAY")
    world.link(certificate, action)
    # 2024-01-15 + 30 DAY (own) = 2024-02-14, not + 1 YEAR
    assert _expiry(world, certificate) == "2024-02-14"


def test_client_date_beats_every_validity(world: World) -> None:
    action = world.action(validity=1, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2024-01-15", date_expire="2024-06-30", validity=5, validity_unit="YEAR")
    world.link(certificate, action)
    # stored by the client: answered as is
    assert _expiry(world, certificate) == "2024-06-30"


def test_clearing_the_client_date_brings_back_the_computed_one(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-15", date_expire="2024-06-30", validity=2, validity_unit="YEAR")
    world.domain.update("certificate", certificate, {"date_expire": None})
    # 2024-01-15 + 2 YEAR
    assert _expiry(world, certificate) == "2026-01-15"


def test_the_first_link_is_the_one_created_first(world: World) -> None:
    # ids chosen so that the link created first has the greater id
    first_action = world.action(validity=1, validity_unit="YEAR")
    second_action = world.action(validity=3, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2024-03-01")
    first = world.link(certificate, first_action, certificate_action_id="9fffffff-0000-4000-8000-000000000000")
    world.link(certificate, second_action, certificate_action_id="90000000-0000-4000-8000-000000000000")
    # created first: + 1 YEAR = 2025-03-01
    assert _expiry(world, certificate) == "2025-03-01"
    world.domain.delete("certificate-action", first, force=False)
    # the remaining link is now the first: + 3 YEAR = 2027-03-01
    assert _expiry(world, certificate) == "2027-03-01"


def test_first_links_action_without_validity_leaves_no_expiry(world: World) -> None:
    without = world.action()
    with_validity = world.action(validity=1, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2024-03-01")
    world.link(certificate, without)
    world.link(certificate, with_validity)
    # only the first link's action counts, and it has no validity
    assert _expiry(world, certificate) is None


def test_month_end_clamps_to_the_end_of_february_in_a_leap_year(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-31", validity=1, validity_unit="MONTH")
    # 2024-02-31 does not exist: clamped to 2024-02-29
    assert _expiry(world, certificate) == "2024-02-29"


def test_leap_day_plus_one_year_clamps_to_february_28(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-02-29", validity=1, validity_unit="YEAR")
    # 2025-02-29 does not exist: 2025-02-28
    assert _expiry(world, certificate) == "2025-02-28"


def test_month_end_clamps_to_a_thirty_day_month(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2025-08-31", validity=1, validity_unit="MONTH")
    # 2025-09-31 does not exist: 2025-09-30
    assert _expiry(world, certificate) == "2025-09-30"


def test_months_cross_the_year_end(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-11-30", validity=3, validity_unit="MONTH")
    # November + 3 = February 2025, day 30 clamped to 28
    assert _expiry(world, certificate) == "2025-02-28"


def test_days_cross_month_ends(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-02-28", validity=2, validity_unit="DAY")
    # 2024-02-28 + 2 days = 2024-03-01 (2024 is a leap year)
    assert _expiry(world, certificate) == "2024-03-01"


def test_link_answers_its_own_date_and_is_not_inherited(world: World) -> None:
    action = world.action()
    certificate = world.certificate(PERSON_1, "2024-01-15", date_expire="2029-01-15")
    link = world.link(certificate, action, date_expire="2027-01-01")
    answered = world.view("certificate-action", link)
    # own date
    assert (answered["date_expire"], answered["is_date_inherited"]) == ("2027-01-01", 0)


def test_link_without_own_date_inherits_the_computed_certificate_expiry(world: World) -> None:
    action = world.action(validity=2, validity_unit="YEAR")
    certificate = world.certificate(PERSON_1, "2024-01-15")
    link = world.link(certificate, action)
    answered = world.view("certificate-action", link)
    # certificate: 2024-01-15 + 2 YEAR (first link's action) = 2026-01-15; inherited
    assert (answered["date_expire"], answered["is_date_inherited"]) == ("2026-01-15", 1)
    # and the link carries the certificate's release, name and resource
    assert answered["date_release"] == "2024-01-15"
    assert answered["resource_id"] == PERSON_1
    assert answered["certificate_name"] == "A certificate"


def test_certificate_takes_office_of_its_first_links_action(world: World) -> None:
    certificate = world.certificate(PERSON_1, "2024-01-15")
    unlinked = world.view("certificate", certificate)
    # no link: no office
    assert (unlinked["subtenant_id"], unlinked["subtenant_type"]) == (None, None)
    world.link(certificate, world.action(subtenant_id=O_ROME, tenant_id=P_ACME))
    linked = world.view("certificate", certificate)
    # Rome Yard, a SITE; resource PERSON_1 is the person Alpha Anna
    assert (linked["subtenant_id"], linked["subtenant_type"]) == (O_ROME, "SITE")
    assert (linked["resource_type"], linked["resource_name"], linked["project_name"]) == ("PERSON", "Alpha Anna", "Acme Test Works")


# --- property: date arithmetic against an independent implementation ------------------------

def _independent_add(start: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "DAY":
        return dt.date.fromordinal(start.toordinal() + amount)
    months = amount * 12 if unit == "YEAR" else amount
    index = start.year * 12 + (start.month - 1) + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


_STARTS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
_UNITS = st.sampled_from(("DAY", "MONTH", "YEAR"))


@settings(max_examples=300, deadline=None)
@given(start=_STARTS, amount=st.integers(0, 120), unit=_UNITS)
def test_add_period_matches_an_independent_implementation(start: dt.date, amount: int, unit: str) -> None:
    assert add_period(start, amount, unit) == _independent_add(start, amount, unit)


@settings(max_examples=40, deadline=None)
@given(start=_STARTS, amount=st.integers(0, 60), unit=_UNITS)
def test_certificate_expiry_property_is_release_plus_validity(start: dt.date, amount: int, unit: str) -> None:
    world = World()
    certificate = world.certificate(PERSON_1, start.isoformat(), validity=amount, validity_unit=unit)
    assert _expiry(world, certificate) == _independent_add(start, amount, unit).isoformat()
