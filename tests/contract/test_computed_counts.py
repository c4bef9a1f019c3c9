"""Computed fields follow every change: counts, session spans, statuses, derived expiries."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import build, oracle, rules
from .support.build import build_forest, room_of
from .support.client import ApiClient
from .support.oracle import World
from .support.scenarios import (
    ActionSpec,
    CertificateSpec,
    Sizes,
    Validity,
    forests,
    steps,
    updates_of_every_kind,
)
from .support.steps import StepContext, apply_step
from .support.target import Target
from .support.verify import verify_certificates, verify_world

STEP_SIZES = Sizes(max_trees=2, max_subscribers=3, max_sessions=2, max_dates=2, max_certificates=2, every_kind=True)


@pytest.mark.writes
@given(data=st.data())
def test_built_scenario_matches_the_model(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    forest = data.draw(forests(room), label="forest")
    with api.scope() as scope:
        built = build_forest(api, target, forest, room.today)
        verify_world(api, built.world, scope.marker, margin=room.margin, deep=True)


@pytest.mark.writes
@given(data=st.data())
def test_counts_follow_every_step(api: ApiClient, target: Target, data: st.DataObject) -> None:
    """Every example first updates an entity of every kind (each answer against the model), then
    takes drawn steps, the model checked after each."""
    room = room_of(target)
    forest = data.draw(forests(room, STEP_SIZES), label="forest")
    updates = data.draw(updates_of_every_kind(room), label="updates")
    step_list = data.draw(st.lists(steps(room), min_size=1, max_size=8), label="steps")
    with api.scope() as scope:
        built = build_forest(api, target, forest, room.today)
        context = StepContext(api, target, built.world)
        try:
            for update in updates:
                apply_step(context, update)
            verify_world(api, context.world, scope.marker, margin=room.margin)
            for step in step_list:
                apply_step(context, step)
                verify_world(api, context.world, scope.marker, margin=room.margin)
            verify_world(api, context.world, scope.marker, margin=room.margin, deep=True)
        finally:
            if context.world.today != room.today:
                target.set_today(room.today)


# Releases on the last days of months, where adding MONTH or YEAR validities clamps the day.
MONTH_END_CASES = [
    (dt.date(2024, 1, 31), Validity(1, "MONTH"), dt.date(2024, 2, 29)),
    (dt.date(2023, 1, 31), Validity(1, "MONTH"), dt.date(2023, 2, 28)),
    (dt.date(2024, 3, 31), Validity(1, "MONTH"), dt.date(2024, 4, 30)),
    (dt.date(2024, 8, 31), Validity(6, "MONTH"), dt.date(2025, 2, 28)),
    (dt.date(2024, 2, 29), Validity(1, "YEAR"), dt.date(2025, 2, 28)),
    (dt.date(2024, 2, 29), Validity(4, "YEAR"), dt.date(2028, 2, 29)),
    (dt.date(2024, 12, 31), Validity(2, "MONTH"), dt.date(2025, 2, 28)),
    (dt.date(2024, 12, 31), Validity(30, "DAY"), dt.date(2025, 1, 30)),
]


@pytest.mark.writes
@pytest.mark.parametrize("through", ["own validity", "first link's action"])
@pytest.mark.parametrize(("release", "validity", "expiry"), MONTH_END_CASES, ids=[f"{r}+{v.amount}{v.unit}" for r, v, _ in MONTH_END_CASES])
def test_derived_expiry_clamps_to_the_end_of_the_month(
    api: ApiClient, target: Target, release: dt.date, validity: Validity, expiry: dt.date, through: str
) -> None:
    assert oracle.add_validity(release, validity.amount, validity.unit) == expiry  # the model agrees with the table
    with api.scope() as scope:
        world = World(today=target.today())
        own = validity if through == "own validity" else None
        action = ActionSpec("TRAINING", "clamp", None, None if own else validity, 0)
        certificate_id = build.create_certificate(api, target, world, CertificateSpec(0, "clamp", release, None, own), "TRAINING")
        build.create_link(api, target, world, certificate_id, build.create_action(api, target, world, action), None)
        answered = api.view_ok("certificate", certificate_id)
        rules.certificate_expiry_derivation(answered, {"date_expire": expiry.isoformat()}, [api.recent[-1]])
        verify_certificates(api, world, scope.marker)


def _edge_offsets(interval: int | None, margin: int) -> list[int]:
    """Expiry offsets from today on each side of both status boundaries (today, today + interval);
    right on them when the target's date is exactly known, `margin` days away otherwise."""
    edge = interval or 0
    step = max(margin, 1)
    around = [0, edge] if margin == 0 else []
    return sorted({-step, step, edge - step, edge + step, *around})


@pytest.mark.writes
@pytest.mark.parametrize("interval", [None, 0, 30])
def test_status_changes_on_the_boundary_days(api: ApiClient, target: Target, interval: int | None) -> None:
    with api.scope() as scope:
        world = World(today=target.today())
        for offset in _edge_offsets(interval, target.date_margin):
            expiry = world.today + dt.timedelta(days=offset)
            action_id = build.create_action(api, target, world, ActionSpec("TRAINING", "edge", None, None, interval))
            build.create_subscription(api, target, world, action_id, 0)
            release = min(expiry, world.today) - dt.timedelta(days=10)
            certificate = CertificateSpec(resource=0, label="edge", date_release=release, date_expire=expiry, validity=None)
            build.create_link(api, target, world, build.create_certificate(api, target, world, certificate, "TRAINING"), action_id, None)
        verify_world(api, world, scope.marker, margin=target.date_margin)
