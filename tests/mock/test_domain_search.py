"""Search of every index (semantics.md, "Pagination and search"): exact vs substring filters,
computed fields in filters and sorts, null lowest, ties by id, pages and their headers."""

from __future__ import annotations

import functools
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.search import Page
from mockworld import O_MILAN, PERSON_1, PERSON_2, PERSON_3, PERSON_4, World


def _search(world: World, segment: str, body: dict[str, Any] | None = None, subscriber_id: str | None = None) -> Page:
    return world.domain.search(segment, body, subscriber_id)


def _ids(page: Page, segment: str = "action") -> list[str]:
    return [item[segment.replace("-", "_") + "_id"] for item in page.items]


def _action_ids(world: World, count: int) -> list[str]:
    return [f"40000000-0000-4000-8000-{n:012d}" for n in range(1, count + 1)]


def test_substring_filter_is_case_insensitive(world: World) -> None:
    a, b, c = _action_ids(world, 3)
    world.action(action_id=a, name="Fire Safety Training")
    world.action(action_id=b, name="SAFETY FIRST")
    world.action(action_id=c, name="Forklift")
    # "safety" is in a and b, whatever the case
    assert _ids(_search(world, "action", {"filter": {"name": "safety"}})) == [a, b]


def test_code_filter_is_a_substring(world: World) -> None:
    a, b, c = _action_ids(world, 3)
    world.action(action_id=a, code="FST-01")
    world.action(action_id=b, code="XFST-9")
    world.action(action_id=c, code=None)
    # "fst" is in FST-01 and XFST-9; a null code contains nothing
    assert _ids(_search(world, "action", {"filter": {"code": "fst"}})) == [a, b]


def test_json_text_filter_is_a_substring(world: World) -> None:
    a, b = _action_ids(world, 2)
    world.action(action_id=a, data='{"priority": "high"}')
    world.action(action_id=b, data='{"priority": "low"}')
    # JSON text is a string: case-insensitive substring
    assert _ids(_search(world, "action", {"filter": {"data": "HIGH"}})) == [a]


def test_id_filter_is_exact(world: World) -> None:
    a, b = _action_ids(world, 2)
    world.action(action_id=a)
    world.action(action_id=b)
    assert _ids(_search(world, "action", {"filter": {"action_id": b}})) == [b]
    # a part of an id matches nothing
    assert _ids(_search(world, "action", {"filter": {"action_id": b[:20]}})) == []


def test_number_filter_is_exact(world: World) -> None:
    a, b, c = _action_ids(world, 3)
    world.action(action_id=a, validity=5, validity_unit="YEAR")
    world.action(action_id=b, validity=15, validity_unit="YEAR")
    world.action(action_id=c, validity=50, validity_unit="DAY")
    # 5 matches only 5, not 15 or 50
    assert _ids(_search(world, "action", {"filter": {"validity": 5}})) == [a]


def test_enum_filter_is_exact(world: World) -> None:
    a, b = _action_ids(world, 2)
    world.action(action_id=a, action_type="CHECK")
    world.action(action_id=b, action_type="HEALTH")
    assert _ids(_search(world, "action", {"filter": {"action_type": "CHECK"}})) == [a]
    # an enum is not a substring match
    assert _ids(_search(world, "action", {"filter": {"action_type": "CHE"}})) == []


def test_date_filter_is_exact(world: World) -> None:
    first = world.certificate(PERSON_1, "2025-01-10")
    world.certificate(PERSON_2, "2025-01-11")
    assert _ids(_search(world, "certificate", {"filter": {"date_release": "2025-01-10"}}), "certificate") == [first]


def test_filters_combine_with_and(world: World) -> None:
    a, b, c = _action_ids(world, 3)
    world.action(action_id=a, action_type="CHECK", name="Scaffold check")
    world.action(action_id=b, action_type="HEALTH", name="Scaffold health")
    world.action(action_id=c, action_type="CHECK", name="Crane check")
    # CHECK and "scaffold": only a
    assert _ids(_search(world, "action", {"filter": {"action_type": "CHECK", "name": "scaffold"}})) == [a]


def test_computed_fields_can_be_filtered(world: World) -> None:
    a, b = _action_ids(world, 2)
    world.action(action_id=a)
    world.action(action_id=b, subtenant_id=O_MILAN)
    world.subscription(a, PERSON_1)
    # countSubscribed is computed (1 for a, 0 for b); office_name is computed (substring)
    assert _ids(_search(world, "action", {"filter": {"countSubscribed": 1}})) == [a]
    assert _ids(_search(world, "action", {"filter": {"office_name": "milan"}})) == [b]


def test_status_filter_matches_the_computed_status(world: World) -> None:
    action = world.action()
    valid = world.subscription(action, PERSON_1)
    new = world.subscription(action, PERSON_2)
    certificate = world.certificate(PERSON_1, "2025-01-01", date_expire="2030-01-01")
    world.link(certificate, action)
    assert _ids(_search(world, "action-subscription", {"filter": {"status": "VALID"}}), "action-subscription") == [valid]
    assert _ids(_search(world, "action-subscription", {"filter": {"status": "NEW"}}), "action-subscription") == [new]


def test_status_sorts_by_its_text(world: World) -> None:
    action = world.action(expire_interval=30)
    expected: list[str] = []
    # one entry per status, created in the order VALID, NEW, EXPIRING, EXPIRED
    for person, expire in ((PERSON_1, "2030-01-01"), (PERSON_2, None), (PERSON_3, "2026-06-20"), (PERSON_4, "2026-01-01")):
        expected.append(world.subscription(action, person))
        if expire:
            world.link(world.certificate(person, "2025-01-01", date_expire=expire), action)
    valid, new, expiring, expired = expected
    # EXPIRED < EXPIRING < NEW < VALID
    assert _ids(_search(world, "action-subscription", {"sort": "status"}), "action-subscription") == [expired, expiring, new, valid]
    assert _ids(_search(world, "action-subscription", {"sort": "-status"}), "action-subscription") == [valid, new, expiring, expired]


def test_object_filter_matches_data_holding_every_key(world: World) -> None:
    both = world.certificate(PERSON_1, "2025-01-01", data={"score": 92, "hours": 8})
    world.certificate(PERSON_2, "2025-01-01", data={"score": 70, "hours": 8})
    world.certificate(PERSON_3, "2025-01-01", data=None)
    # {"score": 92} is held only by the first
    assert _ids(_search(world, "certificate", {"filter": {"data": {"score": 92}}}), "certificate") == [both]


def test_certificate_date_expire_filter_matches_the_computed_expiry(world: World) -> None:
    stored = world.certificate(PERSON_1, "2025-01-01", date_expire="2026-01-01")
    computed = world.certificate(PERSON_2, "2025-01-01", validity=1, validity_unit="YEAR")
    # the filter matches the answered expiry, stored (first) or computed (2025-01-01 + 1 YEAR)
    found = _ids(_search(world, "certificate", {"filter": {"date_expire": "2026-01-01"}}), "certificate")
    assert sorted(found) == sorted([stored, computed])


def test_certificate_date_expire_sort_uses_the_computed_expiry(world: World) -> None:
    # ids: middle < never < late, so that an order by id alone would differ
    middle = world.certificate(PERSON_2, "2025-01-01", validity=2, validity_unit="YEAR",
                               certificate_id="80000000-0000-4000-8000-000000000001")  # 2027-01-01
    never = world.certificate(PERSON_3, "2025-01-01", certificate_id="80000000-0000-4000-8000-000000000002")
    late = world.certificate(PERSON_1, "2025-01-01", date_expire="2027-06-01",
                             certificate_id="80000000-0000-4000-8000-000000000003")
    # ascending: null (never), 2027-01-01 (computed), 2027-06-01 (stored)
    assert _ids(_search(world, "certificate", {"sort": "date_expire"}), "certificate") == [never, middle, late]
    # descending: 2027-06-01, 2027-01-01, null last
    assert _ids(_search(world, "certificate", {"sort": "-date_expire"}), "certificate") == [late, middle, never]


def test_certificate_action_date_expire_sort_uses_the_inherited_date(world: World) -> None:
    early, late = world.action(), world.action()
    certificate = world.certificate(PERSON_1, "2025-01-01", date_expire="2028-01-01")
    # ids: the inherited link (2028-01-01) has the smaller id, the own-date link (2026-01-01) the greater
    inherited = world.link(certificate, early, certificate_action_id="90000000-0000-4000-8000-000000000001")
    own = world.link(certificate, late, date_expire="2026-01-01", certificate_action_id="90000000-0000-4000-8000-000000000002")
    # descending by the answered date: 2028-01-01 (inherited), then 2026-01-01
    assert _ids(_search(world, "certificate-action", {"sort": "-date_expire"}), "certificate-action") == [inherited, own]


def test_certificate_action_date_expire_filter_uses_the_inherited_date(world: World) -> None:
    action = world.action()
    certificate = world.certificate(PERSON_1, "2025-01-01", date_expire="2028-01-01")
    inherited = world.link(certificate, action)
    # the link has no own date: it answers the certificate's 2028-01-01, and filters by it
    found = _ids(_search(world, "certificate-action", {"filter": {"date_expire": "2028-01-01"}}), "certificate-action")
    assert found == [inherited]


def test_sort_puts_null_first_ascending_and_last_descending(world: World) -> None:
    a, b, c, d = _action_ids(world, 4)
    world.action(action_id=a, code="B")
    world.action(action_id=b, code=None)
    world.action(action_id=c, code="A")
    world.action(action_id=d, code=None)
    # ascending: nulls (b, d by id), A (c), B (a)
    assert _ids(_search(world, "action", {"sort": "code"})) == [b, d, c, a]
    # descending: B, A, then the nulls, still b before d (ties by id)
    assert _ids(_search(world, "action", {"sort": "-code"})) == [a, c, b, d]


def test_ties_are_ordered_by_id_in_both_directions(world: World) -> None:
    ids = _action_ids(world, 3)
    for entity_id in reversed(ids):  # created in reverse id order
        world.action(action_id=entity_id, name="Same")
    assert _ids(_search(world, "action", {"sort": "name"})) == ids
    assert _ids(_search(world, "action", {"sort": "-name"})) == ids


def test_without_sort_the_order_is_by_id(world: World) -> None:
    ids = _action_ids(world, 4)
    for entity_id in (ids[2], ids[0], ids[3], ids[1]):
        world.action(action_id=entity_id)
    assert _ids(_search(world, "action")) == ids


def test_sort_by_computed_session_span_puts_sessions_without_dates_first(world: World) -> None:
    action = world.action()
    undated = world.session(action, action_session_id="60000000-0000-4000-8000-000000000009")
    later = world.session(action, action_session_id="60000000-0000-4000-8000-000000000001")
    earlier = world.session(action, action_session_id="60000000-0000-4000-8000-000000000002")
    world.day(later, "2026-09-01")
    world.day(earlier, "2026-08-01")
    # date_begin: null, 2026-08-01, 2026-09-01
    assert _ids(_search(world, "action-session", {"sort": "date_begin"}), "action-session") == [undated, earlier, later]
    assert _ids(_search(world, "action-session", {"sort": "-date_begin"}), "action-session") == [later, earlier, undated]


def test_page_past_the_end_is_empty_with_the_same_totals(world: World) -> None:
    for _ in range(5):
        world.action()
    page = _search(world, "action", {"per-page": 2, "page": 4})
    # 5 entities, pages of 2: 3 pages; page 4 is empty
    assert page.items == []
    assert page.headers() == {
        "X-Pagination-Current-Page": "4",
        "X-Pagination-Page-Count": "3",
        "X-Pagination-Per-Page": "2",
        "X-Pagination-Total-Count": "5",
    }


def test_last_page_holds_the_remainder(world: World) -> None:
    ids = _action_ids(world, 5)
    for entity_id in ids:
        world.action(action_id=entity_id)
    # 5 - (3 - 1) * 2 = 1 entity on page 3
    assert _ids(_search(world, "action", {"per-page": 2, "page": 3})) == ids[4:]


def test_no_match_has_page_count_zero(world: World) -> None:
    world.action(name="Something")
    page = _search(world, "action", {"filter": {"name": "nothing like it"}})
    # total 0: ceil(0 / 100) = 0 pages
    assert (page.items, page.total, page.page_count, page.per_page, page.page) == ([], 0, 0, 100, 1)


def test_defaults_are_page_one_of_a_hundred(world: World) -> None:
    world.action()
    page = _search(world, "action", None)
    assert (page.page, page.per_page, page.total, page.page_count) == (1, 100, 1, 1)


def test_history_is_accepted_and_changes_nothing(world: World) -> None:
    world.action()
    assert _search(world, "action", {"history": True}).total == _search(world, "action", {}).total == 1


def test_subscriber_id_search_lists_dates_of_sessions_the_resource_is_enrolled_in(world: World) -> None:
    action = world.action()
    sub_1, sub_2 = world.subscription(action, PERSON_1), world.subscription(action, PERSON_2)
    joined, other, empty = world.session(action), world.session(action), world.session(action)
    days = [world.day(joined, "2026-07-01"), world.day(joined, "2026-07-02")]
    world.day(other, "2026-08-01")
    world.day(empty, "2026-09-01")
    world.enroll(joined, sub_1)
    world.enroll(other, sub_2)
    found = _ids(_search(world, "action-session-date", {}, subscriber_id=PERSON_1), "action-session-date")
    # PERSON_1 is enrolled only in `joined`: its two dates
    assert sorted(found) == sorted(days)
    assert _search(world, "action-session-date", {}, subscriber_id=PERSON_3).total == 0


# --- property: pages against a tiny model ------------------------------------------------------

_CODES = st.one_of(st.none(), st.text(alphabet="ABC12-", min_size=1, max_size=3))


def _model_order(rows: list[tuple[str, str | None]], sort: str | None) -> list[str]:
    """rows: (id, code). Ids ascending; with a sort, by code (null lowest), direction from the
    sign, ties always by id ascending."""
    if sort is None:
        return sorted(i for i, _ in rows)
    descending = sort.startswith("-")

    def compare(x: tuple[str, str | None], y: tuple[str, str | None]) -> int:
        (xi, xv), (yi, yv) = x, y
        if xv != yv:
            if xv is None:
                lower = True
            elif yv is None:
                lower = False
            else:
                lower = xv < yv
            result = -1 if lower else 1
            return -result if descending else result
        return -1 if xi < yi else (1 if xi > yi else 0)

    return [i for i, _ in sorted(rows, key=functools.cmp_to_key(compare))]


@settings(max_examples=50, deadline=None)
@given(
    codes=st.lists(_CODES, max_size=25),
    per_page=st.integers(1, 7),
    sort=st.sampled_from([None, "code", "-code"]),
    data=st.data(),
)
def test_pages_property_match_a_model_and_partition_the_results(
    codes: list[str | None], per_page: int, sort: str | None, data: st.DataObject
) -> None:
    world = World()
    ids = data.draw(st.permutations([f"40000000-0000-4000-8000-{n:012d}" for n in range(len(codes))]))
    rows = list(zip(ids, codes))
    for entity_id, code in rows:
        world.action(action_id=entity_id, code=code)
    expected = _model_order(rows, sort)
    pages = math.ceil(len(rows) / per_page)
    walked: list[str] = []
    for number in range(1, pages + 2):  # one page past the end as well
        body: dict[str, Any] = {"per-page": per_page, "page": number}
        if sort:
            body["sort"] = sort
        page = _search(world, "action", body)
        start = (number - 1) * per_page
        assert _ids(page) == expected[start:start + per_page]
        assert page.headers() == {
            "X-Pagination-Current-Page": str(number),
            "X-Pagination-Page-Count": str(pages),
            "X-Pagination-Per-Page": str(per_page),
            "X-Pagination-Total-Count": str(len(rows)),
        }
        walked += _ids(page)
    # every entity exactly once over the walk
    assert walked == expected and len(set(walked)) == len(rows)


def test_subscriber_search_follows_a_changed_subscriber(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    date = world.day(session, "2026-07-01")
    world.enroll(session, sub)
    world.domain.update("action-subscription", sub, {"subscriber_id": PERSON_2})
    # the enrolled entry is now PERSON_2's
    assert _search(world, "action-session-date", {}, subscriber_id=PERSON_1).total == 0
    assert _ids(_search(world, "action-session-date", {}, subscriber_id=PERSON_2), "action-session-date") == [date]


def test_indexed_filter_follows_an_update(world: World) -> None:
    first, second = world.action(), world.action()
    session = world.session(first)
    world.domain.update("action-session", session, {"action_id": second})
    # action_id is an indexed exact filter: the session is found under its new action only
    assert _search(world, "action-session", {"filter": {"action_id": first}}).total == 0
    assert _ids(_search(world, "action-session", {"filter": {"action_id": second}}), "action-session") == [session]
