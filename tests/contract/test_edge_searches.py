"""Filters and sorts at their edges, for every filter and sort field the spec declares.

One scenario (`support/edges.py`) puts entities exactly on the edges: 0 and not 0, null and not
null, the empty string, false, outcomes -1/0/1, ties, dates on and next to the boundaries, and the
computed fields (counts, statuses, spans, `date_expire` stored or derived) at the same edges. Each
index answer must hold exactly the run's matching entities (the model's values, else the answered
ones), in the requested order with ties by id.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import oracle, profiles, rules, spec_view
from .support.build import room_of
from .support.client import ApiClient
from .support.edges import (
    build_edge_forest,
    edge_forests,
    needles,
    scope_for,
    scopes,
    values_of,
)
from .support.filter_semantics import match_kind, matches
from .support.resources import id_field
from .support.scoping import SEGMENTS
from .support.target import Target
from .support.verify import items_match_model
from .test_pagination import TODAY_DEPENDENT


def _ids(items: list[dict[str, Any]], segment: str) -> list[str]:
    return [str(item[id_field(segment)]).lower() for item in items]


def _walk_scope(api: ApiClient, world: oracle.World, segment: str, filter_: dict[str, Any], ids: list[str], unsure: oracle.Uncertain) -> dict[str, dict[str, Any]]:
    """The scope's entities as answered (each judged against the model), by id."""
    items, pages = api.index_all(segment, filter_)
    rules.filter_matches_exactly(_ids(items, segment), ids, filter_, pages)
    items_match_model(world, segment, items, pages, unsure)
    return {str(item[id_field(segment)]).lower(): item for item in items}


@pytest.mark.writes
@pytest.mark.needs_two_resources
@given(data=st.data())
def test_filters_at_their_edges_select_exactly_the_matching_entities(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    forest = data.draw(edge_forests(room), label="edge forest")
    with api.scope() as scope:
        built = build_edge_forest(api, target, forest, room.today)
        world = built.world
        unsure = oracle.uncertain(world, room.margin)
        for segment in SEGMENTS:
            options = scopes(segment, built, scope.marker)
            answered: dict[str, dict[str, Any]] = {}
            for option in options:
                answered.update(_walk_scope(api, world, segment, option.filter, option.ids, unsure))
            searches: list[tuple[dict[str, Any], list[str]]] = []  # (filter, the ids it must select)
            for field in spec_view.filter_fields(segment):
                if unsure and field in TODAY_DEPENDENT:
                    continue
                option = scope_for(field, options)
                values = values_of(segment, field, world, option.ids, answered)
                kind = match_kind(segment, field)
                for needle in needles(segment, field, list(values.values()), option.field, scope.marker):
                    searches.append(({**option.filter, field: needle}, [i for i, value in values.items() if matches(kind, value, needle)]))
            # independent reads: side by side over a network, judged in order
            walks = api.gather([functools.partial(api.index_all, segment, filter_) for filter_, _ in searches])
            for (filter_, expected), (items, pages) in zip(searches, walks):
                rules.filter_matches_exactly(_ids(items, segment), expected, filter_, pages)


@pytest.mark.writes
@pytest.mark.needs_two_resources
@given(data=st.data())
def test_sorts_at_their_edges_follow_the_requested_order(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    forest = data.draw(edge_forests(room), label="edge forest")
    per_page = data.draw(st.sampled_from(profiles.economy().edge_sort_page_sizes), label="per-page")  # 2: ties fall across pages
    with api.scope() as scope:
        built = build_edge_forest(api, target, forest, room.today)
        world = built.world
        unsure = oracle.uncertain(world, room.margin)
        for segment in SEGMENTS:
            option = scopes(segment, built, scope.marker)[0]
            answered = _walk_scope(api, world, segment, option.filter, option.ids, unsure)
            sorts: list[tuple[str, list[str]]] = []  # (sort, the ids in the order it must answer)
            for field in spec_view.sort_fields(segment):
                if unsure and field in TODAY_DEPENDENT:
                    continue
                values = values_of(segment, field, world, option.ids, answered)
                sorts += [(sort, oracle.expected_order(list(values.items()), sort)) for sort in (field, f"-{field}")]
            walks = api.gather([functools.partial(api.index_all, segment, option.filter, sort=sort, per_page=per_page) for sort, _ in sorts])
            for (sort, expected), (items, pages) in zip(sorts, walks):
                rules.pages_partition_result_set(pages, id_field(segment), option.ids)
                rules.pages_follow_requested_order(_ids(items, segment), expected, sort, pages)
