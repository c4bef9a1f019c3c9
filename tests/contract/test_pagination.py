"""Pagination and search: header arithmetic, pages that partition a result set in order, filters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .support import build, malformed, oracle, rules, spec_view
from .support.build import build_forest, room_of
from .support.client import ApiClient
from .support.samples import fresh_create_body, sample_date
from .support.scenarios import CASE_SEPARATING_LABELS, Sizes, forests
from .support.resources import id_field
from .support.scoping import FILTERS, SEGMENTS, matches, scoped
from .support.target import Target
from .support.verify import items_match_model

# Larger than the default sizes: pages need several entities to be worth walking.
PAGING_SIZES = Sizes(max_trees=3, max_subscribers=4, max_sessions=3, max_dates=2, max_certificates=4)
READ_ONLY_WALK_PAGES = 20
# Fields whose value depends on the server's today (left out when it is only roughly known).
TODAY_DEPENDENT = {"status", "countValid", "countScheduled", "countToDo"}
READ_ONLY_PER_PAGE = 7


def _ids(items: list[dict[str, Any]], segment: str) -> list[str]:
    return [str(item[id_field(segment)]).lower() for item in items]


# ---------------------------------------------------------------- on whatever the target holds (no writes)


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize(
    "paging",
    [{}, {"per-page": 1}, {"per-page": 1, "page": 2}, {"per-page": 3, "page": 2}, {"per-page": 100}, {"page": 1}],
    ids=["defaults", "per-page-1", "per-page-1-page-2", "per-page-3-page-2", "per-page-100", "page-1"],
)
def test_headers_match_body_on_any_index(api: ApiClient, segment: str, paging: dict[str, int]) -> None:
    answer = api.index(segment, paging)  # the client checks the header arithmetic on every 200
    rules.success_status(answer.exchange, 200)
    rules.pagination_headers_match_body(answer.exchange)


@pytest.mark.whole_dataset
@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("per_page", [1, 4, 100])
def test_page_past_the_end_is_empty(api: ApiClient, segment: str, per_page: int) -> None:
    first = api.index(segment, {"per-page": per_page})
    rules.success_status(first.exchange, 200)
    page_count = int(first.exchange.header("X-Pagination-Page-Count") or 0)
    for past in (page_count + 1, page_count + 3):
        answer = api.index(segment, {"per-page": per_page, "page": past})
        rules.page_past_end_is_empty(answer.exchange, first.exchange)


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize(
    ("paging", "field"),
    [({"per-page": 0}, "per-page"), ({"per-page": 101}, "per-page"), ({"per-page": -5}, "per-page"), ({"page": 0}, "page"), ({"page": -1}, "page"), ({"per-page": "ten"}, "per-page"), ({"page": 1.5}, "page")],
    ids=["per-page-0", "per-page-101", "per-page-negative", "page-0", "page-negative", "per-page-text", "page-fraction"],
)
def test_paging_out_of_range_is_400(api: ApiClient, segment: str, paging: dict[str, Any], field: str) -> None:
    answer = api.index(segment, paging)
    rules.malformed_input_is_400(answer.exchange, [field])


@pytest.mark.whole_dataset
@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("history", [True, False])
def test_history_is_accepted_and_changes_nothing(api: ApiClient, segment: str, history: bool) -> None:
    without = api.index(segment, {"per-page": 100})
    rules.success_status(without.exchange, 200)
    with_history = api.index(segment, {"per-page": 100, "history": history})
    rules.history_changes_nothing(with_history.exchange, without.exchange)


def _orderable_without_collation(segment: str, name: str) -> bool:
    """Sort fields whose order does not depend on a database collation: dates, numbers, enums."""
    prop = spec_view.properties(spec_view.schema_name(segment)).get(name, {})
    return prop.get("format") == "date" or "pattern" in prop or prop.get("type") == "integer" or "enum" in prop


def _answered_sort_value(item: dict[str, Any], name: str) -> Any:
    value = item.get(name)
    return value[:19] if isinstance(value, str) and "T" in value else value


@pytest.mark.whole_dataset
@pytest.mark.parametrize("segment", SEGMENTS)
def test_walking_any_result_set_partitions_it_in_order(api: ApiClient, segment: str) -> None:
    """On data the run did not make: the order is judged on the answered values themselves."""
    sorts: list[str | None] = [None]
    for name in spec_view.sort_fields(segment):
        if _orderable_without_collation(segment, name):
            sorts += [name, f"-{name}"]
    for sort in sorts:
        pages = []
        for page in range(1, READ_ONLY_WALK_PAGES + 1):
            request: dict[str, Any] = {"per-page": READ_ONLY_PER_PAGE, "page": page}
            if sort:
                request["sort"] = sort
            answer = api.index(segment, request)
            rules.success_status(answer.exchange, 200)
            pages.append(answer.exchange)
            if page >= int(answer.exchange.header("X-Pagination-Page-Count") or 0):
                break
        items = [item for exchange in pages for item in exchange.json()]
        walked_everything = len(items) == int(pages[0].header("X-Pagination-Total-Count") or -1)
        if walked_everything:
            rules.pages_partition_result_set(pages, id_field(segment))
        rows = [(str(item[id_field(segment)]).lower(), _answered_sort_value(item, sort.lstrip("-")) if sort else None) for item in items]
        answered = [row[0] for row in rows]
        rules.pages_follow_requested_order(answered, oracle.expected_order(rows, sort), sort, pages)


# ---------------------------------------------------------------- on the run's own entities


def _sorts(segment: str, today_known: bool) -> st.SearchStrategy[str | None]:
    known = oracle.known_sort_fields(segment, spec_view.sort_fields(segment))
    if not today_known:
        known = [name for name in known if name not in TODAY_DEPENDENT]
    both = [name for field in known for name in (field, f"-{field}")]
    return st.one_of(st.none(), st.sampled_from(both)) if both else st.none()


@pytest.mark.writes
@given(data=st.data())
def test_pages_partition_the_result_set_in_requested_order(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    today = room.today
    forest = data.draw(forests(room, PAGING_SIZES), label="forest")
    with api.scope() as scope:
        built = build_forest(api, target, forest, today)
        unsure = oracle.uncertain(built.world, room.margin)  # statuses today could decide either way
        for segment in SEGMENTS:
            confined = scoped(segment, built, scope.marker)
            sort = data.draw(_sorts(segment, not unsure), label=f"{segment} sort")
            per_page = data.draw(st.one_of(st.sampled_from([1, 100]), st.integers(1, len(confined.ids) + 2)), label=f"{segment} per-page")
            items, pages = api.index_all(segment, confined.filter, sort=sort, per_page=per_page)
            rules.pages_partition_result_set(pages, id_field(segment), confined.ids)
            items_match_model(built.world, segment, items, pages, unsure)
            expected = oracle.expected_order(oracle.sort_rows(built.world, segment, confined.ids, sort), sort)
            rules.pages_follow_requested_order(_ids(items, segment), expected, sort, pages)
            past = api.index(segment, {"filter": confined.filter, "per-page": per_page, "page": len(pages) + 1})
            rules.page_past_end_is_empty(past.exchange, pages[0])


@pytest.mark.writes
@given(data=st.data())
def test_filters_select_exactly_the_matching_entities(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    today = room.today
    forest = data.draw(forests(room, PAGING_SIZES), label="forest")
    with api.scope() as scope:
        built = build_forest(api, target, forest, today)
        world = built.world
        unsure = oracle.uncertain(world, room.margin)  # statuses today could decide either way
        for segment in SEGMENTS:
            confined = scoped(segment, built, scope.marker)
            if not confined.ids:
                continue
            fields = [f for f in FILTERS[segment] if not (unsure and f.name in TODAY_DEPENDENT)]
            field = data.draw(st.sampled_from(fields), label=f"{segment} filter field")
            model = world.table(segment)
            picked = data.draw(st.sampled_from(confined.ids), label=f"{segment} entity")
            value = field.value_of(world, picked)
            if value is None:
                continue  # a null is not a filter value
            needle: Any = value
            if isinstance(value, str) and field.match.value == "text":
                start = data.draw(st.integers(0, max(0, len(value) - 1)), label="substring start")
                needle = value[start:].upper()  # case-insensitive substring
            filter_ = {**confined.filter, field.name: needle}
            items, pages = api.index_all(segment, filter_)
            expected = [i for i in confined.ids if i in model and matches(field, field.value_of(world, i), needle)]
            rules.filter_matches_exactly(_ids(items, segment), expected, filter_, pages)
            items_match_model(world, segment, items, pages, unsure)
        # case-insensitive marker search: the whole scope, whatever the case
        items, pages = api.index_all("action", {"name": scope.marker.upper()})
        rules.filter_matches_exactly(_ids(items, "action"), list(world.actions), {"name": scope.marker.upper()}, pages)
        items_match_model(world, "action", items, pages, unsure)


@pytest.mark.writes
@given(data=st.data())
def test_dates_of_a_subscriber_are_those_of_its_sessions(api: ApiClient, target: Target, data: st.DataObject) -> None:
    room = room_of(target)
    forest = data.draw(forests(room, PAGING_SIZES), label="forest")
    resource_index = data.draw(st.integers(0, room.resource_count - 1), label="resource")
    with api.scope() as scope:
        built = build_forest(api, target, forest, room.today)
        world = built.world
        resource_id = target.resources[resource_index].resource_id
        # Always present: a session of an action of the resource in which it is enrolled and one
        # in which it is not, both with a date.
        action_id = built.trees[0].action_id
        subscription_id = next(
            (s.id for s in world.subscriptions.values() if s.action_id == action_id and s.subscriber_id == resource_id),
            None,
        ) or build.create_subscription(api, target, world, action_id, resource_index)
        enrolled, not_enrolled = (build.create_session(api, target, world, action_id) for _ in range(2))
        build.create_enrollment(api, target, world, enrolled, subscription_id, -1)
        for session_id in (enrolled, not_enrolled):
            build.create_date(api, target, world, session_id, sample_date(room.today))
        enrolled_sessions = {
            e.session_id for e in world.enrollments.values() if world.subscriptions[e.subscription_id].subscriber_id == resource_id
        }
        confined = scoped("action-session-date", built, scope.marker)
        expected = [d.id for d in world.dates.values() if d.session_id in enrolled_sessions]
        items, pages = api.index_all("action-session-date", confined.filter, params={"subscriber_id": resource_id})
        rules.dates_of_subscriber(_ids(items, "action-session-date"), expected, pages)
        items_match_model(world, "action-session-date", items, pages)


@given(value=malformed.malformed_ids())
def test_a_malformed_subscriber_id_is_400(api: ApiClient, value: str) -> None:
    answer = api.index("action-session-date", {}, params={"subscriber_id": value})
    rules.malformed_input_is_400(answer.exchange, ["subscriber_id"])


# ---------------------------------------------------------------- strings sort without regard to case

# (segment, sort field, the create field that holds the label): string sorts of stored fields
CASE_SORTS = [("action", "name", "name"), ("action", "code", "code"), ("certificate", "name", "name")]


@pytest.mark.writes
@pytest.mark.parametrize(("segment", "sort_field", "label_field"), CASE_SORTS, ids=[f"{s}-{f}" for s, f, _ in CASE_SORTS])
def test_strings_sort_without_regard_to_case(api: ApiClient, target: Target, segment: str, sort_field: str, label_field: str) -> None:
    """docs/DECISIONS.md (Search): strings sort without regard to case. The labels order
    differently under a case-sensitive reading, so a server that sorts by bytes answers another
    order (generated labels are lowercase and cannot tell the two apart)."""
    with api.scope() as scope:
        world = oracle.World(today=target.today())
        for label in CASE_SEPARATING_LABELS:
            body = fresh_create_body(api, target, world, segment)
            body[label_field] = label
            api.create_ok(segment, body)
        for sort in (sort_field, f"-{sort_field}"):
            items, pages = api.index_all(segment, {"name": scope.marker}, sort=sort, per_page=2)
            rows = [(str(item[id_field(segment)]).lower(), item.get(sort_field)) for item in items]
            assert len(rows) == len(CASE_SEPARATING_LABELS), f"the marker filter found {len(rows)} of {len(CASE_SEPARATING_LABELS)}"
            rules.pages_follow_requested_order([row[0] for row in rows], oracle.expected_order(rows, sort), sort, pages)
