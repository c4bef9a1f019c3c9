"""Derived values follow every change of their inputs, not only their creation.

For every derived field (docs/DECISIONS.md, Computed fields, and the spec's descriptions of the
computed fields) its inputs are: its entity's own stored fields, its parents' fields, its parent
ids, and the links and enrollments of one entry. Each example builds a forest with one entity of
every kind, then changes each kind of input once, in a drawn order (Hypothesis picks the entity,
the input and the new value, boundaries included: month ends, leap days, validity 0, a cleared
validity or expiry, date-times near midnight with an offset). After each change the model says
which entities' derived values it changed; each of those is searched first, by its id and one
derived value at a time (found by the new value, not by the old: a search that reads a copy the
change left behind is seen), then read again, by its view and in its index, and compared with
the model, as is the update's own answer.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import oracle, verify
from .support.build import build_forest, room_of
from .support.client import ApiClient
from .support.scenarios import Sizes, every_input_change, forests
from .support.steps import StepContext, apply_step
from .support.target import Target
from .support.verify import verify_world

# two trees, so that moves have somewhere to go; an entity of every kind in the first
INPUT_SIZES = Sizes(max_trees=2, max_subscribers=2, max_sessions=2, max_dates=1, max_certificates=2, every_kind=True)


@pytest.mark.writes
@given(data=st.data())
def test_derived_values_follow_every_input(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    forest = data.draw(forests(room, INPUT_SIZES), label="forest")
    changes = data.draw(every_input_change(room), label="changes")
    with api.scope() as scope:
        built = build_forest(api, target, forest, room.today)
        world = built.world
        context = StepContext(api, target, world)
        swept: set[tuple[str, str]] = set()  # (resource, field) searched by an unchanged value
        for change in changes:
            before = verify.predictions(world)
            apply_step(context, change)  # the update's answer is compared with the model there
            affected = verify.changed_by(before, verify.predictions(world))
            verify.affected_match_model(api, world, affected, scope.marker, oracle.uncertain(world, room.margin), before, swept)
        verify_world(api, world, scope.marker, margin=room.margin, deep=True)
