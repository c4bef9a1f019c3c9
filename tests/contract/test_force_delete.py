"""Force delete: the preview deletes nothing and lists exactly what force=true then deletes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import build, oracle, rules
from .support.build import build_forest, room_of
from .support.client import ApiClient
from .support.exchange import Exchange
from .support.oracle import World
from .support.samples import one_of_each
from .support.scenarios import ActionSpec, CertificateSpec, ForestSpec, Sizes, forests
from .support.scoping import SEGMENTS
from .support.target import Target
from .support.verify import verify_world, views_match_model

# every_kind: each forest has an entity of every kind to delete, so no example is drawn in vain
DELETE_SIZES = Sizes(max_trees=2, max_subscribers=3, max_sessions=2, max_dates=2, max_certificates=3, every_kind=True)

Snapshot = dict[tuple[str, str], dict[str, Any] | None]


def snapshot(api: ApiClient, world: World, keys: list[tuple[str, str]], margin: int) -> Snapshot:
    """Every entity as the target answers it now (None when it answers 404), each view's derived
    fields compared with the model."""
    return views_match_model(api, world, keys, oracle.uncertain(world, margin))


def recent(api: ApiClient, count: int) -> list[Exchange]:
    return list(api.recent)[-count:]


def holds(forest: ForestSpec, segment: str) -> bool:
    """Whether the forest has an entity of the kind. An every_kind forest has one of each, but
    loses its certificate links when an expiry could fall on a boundary under a date margin
    (`forests`): such a forest is drawn again before anything is created."""
    return segment != "certificate-action" or bool(forest.links)


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
@given(data=st.data())
def test_delete_previews_then_force_deletes_exactly_the_subtree(api: ApiClient, target: Target, segment: str, data: st.DataObject) -> None:
    room = room_of(target)
    today = room.today
    forest = data.draw(forests(room, DELETE_SIZES).filter(lambda drawn: holds(drawn, segment)), label="forest")
    with api.scope() as scope:
        built = build_forest(api, target, forest, today)
        world: World = built.world
        candidates = list(world.table(segment))
        assert candidates, f"the forest was drawn with a {segment} to delete: {forest}"
        victim = data.draw(st.sampled_from(candidates), label=f"{segment} to delete")
        below = oracle.descendants(world, segment, victim)
        everything = world.all_keys()
        before = snapshot(api, world, everything, room.margin)
        force_flag = data.draw(st.sampled_from([None, False]), label="force absent or false")

        first = api.delete(segment, victim, force=force_flag)
        if below:
            rules.preview_is_well_formed(first.exchange)
            rules.preview_lists_exactly_what_force_deletes(first.exchange, below)
            after_preview = snapshot(api, world, everything, room.margin)
            rules.preview_deletes_nothing(before, after_preview, [first.exchange])
            second = api.delete(segment, victim, force=True)
            rules.success_status(second.exchange, 204)
        else:
            rules.delete_without_descendants_succeeds(first.exchange)

        removed = oracle.remove(world, segment, victim)
        after = snapshot(api, world, everything, room.margin)
        still_there = [key for key in removed if after[key] is not None]
        rules.force_delete_removes_listed(still_there, recent(api, 3))
        if segment == "certificate":
            for key, entity in before.items():
                if key[0] == "action-session-subscription" and entity and entity.get("certificate_id") == victim:
                    rules.enrollment_certificate_cleared(after[key], api.recent[-1])
        wrongly_gone = [key for key in everything if key not in removed and after[key] is None]
        rules.delete_spares_unrelated(wrongly_gone, recent(api, 3))
        api.forget(removed)
        # parents' counts, statuses and derived dates reflect the removal
        verify_world(api, world, scope.marker, margin=target.date_margin, deep=True)


@pytest.mark.writes
def test_deleting_a_certificate_keeps_the_enrollments_that_named_it(api: ApiClient, target: Target) -> None:
    with api.scope() as scope:
        world = World(today=target.today())
        ids = one_of_each(api, target, world)  # its enrollment names its certificate
        enrollment_key = ("action-session-subscription", ids["action-session-subscription"])
        answer = api.delete("certificate", ids["certificate"], force=True)
        rules.success_status(answer.exchange, 204)
        rules.enrollment_certificate_cleared(api.view_or_none(*enrollment_key), answer.exchange)
        api.forget(oracle.remove(world, "certificate", ids["certificate"]))
        verify_world(api, world, scope.marker, margin=target.date_margin, deep=True)


PLAIN_ACTION = ActionSpec(action_type="TRAINING", label="plain", code=None, validity=None, expire_interval=None)


def _create_lonely(api: ApiClient, target: Target, world: World, segment: str) -> str:
    """One entity of the kind with nothing below it (parents are created as needed)."""
    if segment == "certificate":
        spec = CertificateSpec(resource=0, label="plain", date_release=world.today, date_expire=None, validity=None)
        return build.create_certificate(api, target, world, spec, "TRAINING")
    action_id = build.create_action(api, target, world, PLAIN_ACTION)
    if segment == "action-session":
        return build.create_session(api, target, world, action_id)
    if segment == "action-subscription":
        return build.create_subscription(api, target, world, action_id, 0)
    return action_id


@pytest.mark.writes
@pytest.mark.parametrize("segment", ["action", "certificate", "action-session", "action-subscription"])
def test_entity_with_nothing_below_is_deleted_without_force(api: ApiClient, target: Target, segment: str) -> None:
    with api.scope():
        world = World(today=target.today())
        victim = _create_lonely(api, target, world, segment)
        answer = api.delete(segment, victim)
        rules.delete_without_descendants_succeeds(answer.exchange)
        rules.absent_id_is_404(api.view(segment, victim).exchange)
        api.forget([(segment, victim)])
