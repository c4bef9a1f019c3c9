"""The five operations of every resource over HTTP, against the mock started as a real server
on the small world (`--today 2026-06-15`): success paths and documented error answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockhttp import create, documented_media_type, view
from mockworld import (
    DATE_NEXT_1, DATE_NEXT_2, EXISTING, FIRE, MISSING, O_TURIN, P_ACME, PERSON_2, SEGMENTS, SESSION_NEXT, SUB_2,
    SUB_3, create_body, id_field, update_body,
)

pytestmark = pytest.mark.http

# A required field of each create body (left out: 400 naming it).
REQUIRED = {
    "action": "name",
    "action-session": "action_id",
    "action-session-date": "date_begin",
    "certificate": "date_release",
    "action-subscription": "subscriber_id",
    "action-session-subscription": "action_subscription_id",
    "certificate-action": "certificate_id",
}

# A reference to nothing in each create body (422 naming it).
BROKEN_REFERENCE = {
    "action": ("subtenant_id", O_TURIN),  # an office of another project
    "action-session": ("action_id", MISSING),
    "action-session-date": ("action_session_id", MISSING),
    "certificate": ("resource_id", MISSING),
    "action-subscription": ("action_id", MISSING),
    "action-session-subscription": ("action_session_id", MISSING),
    "certificate-action": ("certificate_id", MISSING),
}


def _problem(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(documented_media_type(response))
    body = response.json()
    assert body["status"] == status
    return body


def _violations(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body, list) and body
    for violation in body:
        assert set(violation) == {"field", "message"}
        assert isinstance(violation["field"], str) and isinstance(violation["message"], str) and violation["message"]
    return body


# --- success -------------------------------------------------------------------------------------

@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_answers_201_with_the_stored_entity(api: httpx.Client, segment: str) -> None:
    body = create_body(segment)
    response = api.post(f"/v2/{segment}/create", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    # every field sent is answered, the id was generated, and a view answers the same entity
    assert {k: created[k] for k in body} == body
    assert created[id_field(segment)]
    assert view(api, segment, created[id_field(segment)]) == created


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_keeps_a_client_id(api: httpx.Client, segment: str) -> None:
    chosen = "abcdef01-2345-4678-9abc-def012345678"
    created = create(api, segment, {**create_body(segment), id_field(segment): chosen})
    assert created[id_field(segment)] == chosen
    assert view(api, segment, chosen)[id_field(segment)] == chosen


@pytest.mark.parametrize("segment", SEGMENTS)
def test_view_answers_every_field_of_the_schema(api: httpx.Client, segment: str, small_spec_fields: dict[str, set[str]]) -> None:
    answered = view(api, segment, EXISTING[segment])
    # optional stored fields are answered as null when unset (DECISIONS.md, "Shapes")
    assert set(answered) == small_spec_fields[segment]
    assert answered[id_field(segment)] == EXISTING[segment]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_is_partial_and_answers_the_updated_entity(api: httpx.Client, segment: str) -> None:
    entity_id = EXISTING[segment]
    before = view(api, segment, entity_id)
    body = update_body(segment)
    response = api.put(f"/v2/{segment}/update/{entity_id}", json=body)
    assert response.status_code == 200, response.text
    after = response.json()
    # the fields sent changed; the others (computed ones aside) kept their value
    assert {k: after[k] for k in body} == body
    unchanged = {k for k in before if k not in body}
    changed_by_rule = {"date_end", "status", "count_subscribed", "count_done", "count_fail", "count_unknown",
                       "countValid", "countScheduled", "countToDo", "is_date_inherited"}
    assert {k: after[k] for k in unchanged - changed_by_rule} == {k: before[k] for k in unchanged - changed_by_rule}
    assert view(api, segment, entity_id) == after


@pytest.mark.parametrize("segment", SEGMENTS)
def test_index_finds_a_created_entity_by_its_id(api: httpx.Client, segment: str) -> None:
    created = create(api, segment, create_body(segment))
    response = api.post(f"/v2/{segment}/index", json={"filter": {id_field(segment): created[id_field(segment)]}})
    assert response.status_code == 200, response.text
    assert response.json() == [created]
    assert response.headers["X-Pagination-Total-Count"] == "1"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_index_without_body_answers_everything_with_headers(api: httpx.Client, segment: str) -> None:
    response = api.post(f"/v2/{segment}/index")
    assert response.status_code == 200, response.text
    items = response.json()
    total = len(items)
    # the small world holds fewer than 100 of each: one page
    assert response.headers["X-Pagination-Total-Count"] == str(total)
    assert response.headers["X-Pagination-Page-Count"] == ("1" if total else "0")
    assert response.headers["X-Pagination-Per-Page"] == "100"
    assert response.headers["X-Pagination-Current-Page"] == "1"
    ids = [item[id_field(segment)] for item in items]
    # without sort: ordered by id
    assert ids == sorted(ids)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_delete_of_a_created_entity_answers_204_then_view_404(api: httpx.Client, segment: str) -> None:
    created = create(api, segment, create_body(segment))
    entity_id = created[id_field(segment)]
    response = api.delete(f"/v2/{segment}/delete/{entity_id}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    _problem(api.get(f"/v2/{segment}/view/{entity_id}"), 404)


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("force", ["false", "true"])
def test_delete_with_force_of_an_entity_with_nothing_below_deletes_it(api: httpx.Client, segment: str, force: str) -> None:
    entity_id = create(api, segment, create_body(segment))[id_field(segment)]
    assert api.delete(f"/v2/{segment}/delete/{entity_id}", params={"force": force}).status_code == 204
    assert api.get(f"/v2/{segment}/view/{entity_id}").status_code == 404


def test_create_ignores_computed_and_unknown_fields(api: httpx.Client) -> None:
    body = {**create_body("action"), "countValid": 7, "office_name": "Nowhere", "colour": "blue"}
    created = create(api, "action", body)
    # a new action has no entries; its office is Rome Yard; the unknown field is not kept
    assert created["countValid"] == 0 and created["office_name"] == "Rome Yard"
    assert "colour" not in created


def test_update_ignores_computed_and_unknown_fields(api: httpx.Client) -> None:
    response = api.put(f"/v2/action-session/update/{SESSION_NEXT}", json={"count_done": 9, "date_end": "2020-01-01", "x": 1})
    assert response.status_code == 200, response.text
    # SESSION_NEXT: one enrollment, nothing done; dates end 2026-07-02
    assert (response.json()["count_done"], response.json()["date_end"]) == (0, "2026-07-02")
    assert "x" not in response.json()


def test_enrollment_created_without_done_answers_minus_one(api: httpx.Client) -> None:
    created = create(api, "action-session-subscription", create_body("action-session-subscription"))
    # the schema default: outcome not recorded
    assert created["done"] == -1
    assert view(api, "action-session", SESSION_NEXT)["count_unknown"] == 2


def test_filters_over_http_are_exact_or_substring(api: httpx.Client) -> None:
    # FIRE is "Fire Safety Training" (TRAINING, FST-01): substring on name, exact on the enum
    assert [a["action_id"] for a in api.post("/v2/action/index", json={"filter": {"name": "SAFETY"}}).json()] == [FIRE]
    assert api.post("/v2/action/index", json={"filter": {"code": "fst"}}).json()[0]["action_id"] == FIRE
    statuses = api.post("/v2/action-subscription/index", json={"filter": {"status": "NEW"}}).json()
    # SUB_2, SUB_3 (FIRE, no link) and SUB_CRANE are NEW
    assert len(statuses) == 3


@pytest.mark.parametrize("needle", ["priority", "HIGH", '"high"'])
def test_json_text_filter_is_a_substring_over_http(api: httpx.Client, needle: str) -> None:
    assert api.put(f"/v2/action-subscription/update/{SUB_3}", json={"data": '{"priority": "high"}'}).status_code == 200
    # JSON text is a string: any case-insensitive substring matches, JSON itself or not
    response = api.post("/v2/action-subscription/index", json={"filter": {"data": needle}})
    assert response.status_code == 200, response.text
    assert [s["action_subscription_id"] for s in response.json()] == [SUB_3]


def test_session_date_index_by_subscriber(api: httpx.Client) -> None:
    response = api.post("/v2/action-session-date/index", params={"subscriber_id": PERSON_2}, json={})
    assert response.status_code == 200, response.text
    # PERSON_2 (SUB_2) is enrolled only in SESSION_NEXT, which has two dates
    assert sorted(d["action_session_date_id"] for d in response.json()) == [DATE_NEXT_1, DATE_NEXT_2]


def test_session_date_index_by_malformed_subscriber_is_400(api: httpx.Client) -> None:
    body = _problem(api.post("/v2/action-session-date/index", params={"subscriber_id": "nope"}, json={}))
    assert body["field"] == "subscriber_id"


# --- 404 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("segment", SEGMENTS)
def test_view_of_a_missing_id_is_404(api: httpx.Client, segment: str) -> None:
    _problem(api.get(f"/v2/{segment}/view/{MISSING}"), 404)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_of_a_missing_id_is_404(api: httpx.Client, segment: str) -> None:
    _problem(api.put(f"/v2/{segment}/update/{MISSING}", json=update_body(segment)), 404)
    # and nothing was created under that id
    assert api.get(f"/v2/{segment}/view/{MISSING}").status_code == 404


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("force", [None, "true"])
def test_delete_of_a_missing_id_is_404(api: httpx.Client, segment: str, force: str | None) -> None:
    params = {"force": force} if force else {}
    _problem(api.delete(f"/v2/{segment}/delete/{MISSING}", params=params), 404)


# --- 400 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method, verb", [("GET", "view"), ("PUT", "update"), ("DELETE", "delete")])
def test_malformed_id_in_the_path_is_400_naming_id(api: httpx.Client, segment: str, method: str, verb: str) -> None:
    body = update_body(segment) if verb == "update" else None
    response = api.request(method, f"/v2/{segment}/{verb}/not-a-uuid", json=body)
    assert _problem(response)["field"] == "id"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_without_a_required_field_is_400_naming_it(api: httpx.Client, segment: str) -> None:
    body = create_body(segment)
    del body[REQUIRED[segment]]
    assert _problem(api.post(f"/v2/{segment}/create", json=body))["field"] == REQUIRED[segment]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_with_a_malformed_uuid_is_400_naming_it(api: httpx.Client, segment: str) -> None:
    field = BROKEN_REFERENCE[segment][0]
    body = {**create_body(segment), field: "1234"}
    assert _problem(api.post(f"/v2/{segment}/create", json=body))["field"] == field


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("verb, method", [("create", "POST"), ("update", "PUT"), ("index", "POST")])
@pytest.mark.parametrize("content", [b"{not json", b"[]", b'"text"'])
def test_body_that_is_not_a_json_object_is_400_naming_body(api: httpx.Client, segment: str, verb: str, method: str, content: bytes) -> None:
    path = f"/v2/{segment}/{verb}" + (f"/{EXISTING[segment]}" if verb == "update" else "")
    response = api.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert _problem(response)["field"] == "body"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_with_a_wrongly_typed_field_is_400_naming_it(api: httpx.Client, segment: str) -> None:
    field = BROKEN_REFERENCE[segment][0]
    body = {**create_body(segment), field: 12}
    assert _problem(api.post(f"/v2/{segment}/create", json=body))["field"] == field


@pytest.mark.parametrize("segment, field, value", [
    ("certificate", "date_release", "2024-02-30"),
    ("certificate", "date_release", "15/01/2024"),
    ("certificate", "date_expire", "2029-1-15"),
    ("action-session-date", "date_begin", "2026-07-03 09:00:00"),
    ("action-session-date", "date_end", "2026-07-03T25:00:00"),
    ("certificate-action", "date_expire", "tomorrow"),
])
def test_malformed_date_or_date_time_is_400_naming_it(api: httpx.Client, segment: str, field: str, value: str) -> None:
    body = {**create_body(segment), field: value}
    assert _problem(api.post(f"/v2/{segment}/create", json=body))["field"] == field


@pytest.mark.parametrize("segment, field", [
    ("action", "manager"),
    ("action", "data"),
    ("action-session", "manager"),
    ("action-session-date", "data"),
    ("action-subscription", "data"),
    ("action-session-subscription", "data"),
])
def test_json_text_is_a_plain_string_kept_as_sent(api: httpx.Client, segment: str, field: str) -> None:
    """docs/DECISIONS.md, "Reading the spec with stock tools": the spec types JSON text as a plain
    string (no format a stock tool would read otherwise), so any string is stored as sent."""
    body = {**create_body(segment), field: "{not json"}
    created = create(api, segment, body)
    assert created[field] == "{not json"
    # the same on update
    response = api.put(f"/v2/{segment}/update/{EXISTING[segment]}", json={field: "[1,"})
    assert response.status_code == 200, response.text
    assert response.json()[field] == "[1,"


def test_json_text_that_is_json_is_accepted(api: httpx.Client) -> None:
    created = create(api, "action", {**create_body("action"), "manager": '[{"id": 1}]'})
    assert created["manager"] == '[{"id": 1}]'


@pytest.mark.parametrize("segment, field, value", [
    ("action", "action_type", "COURSE"),
    ("action-session", "validity_unit", "WEEK"),
    ("certificate", "warning", 2),
    ("certificate", "validity_unit", "year"),
    ("action-subscription", "subscriber_type", "ROBOT"),
    ("action-session-subscription", "done", 2),
])
def test_enum_value_outside_the_list_is_400_naming_it(api: httpx.Client, segment: str, field: str, value: Any) -> None:
    assert _problem(api.post(f"/v2/{segment}/create", json={**create_body(segment), field: value}))["field"] == field


@pytest.mark.parametrize("segment, field", [
    ("action", "name"),
    ("action-session-date", "date_begin"),
    ("certificate-action", "action_id"),
    ("action-session-subscription", "done"),
])
def test_null_for_a_field_that_is_not_nullable_is_400_naming_it(api: httpx.Client, segment: str, field: str) -> None:
    assert _problem(api.post(f"/v2/{segment}/create", json={**create_body(segment), field: None}))["field"] == field


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("verb, method", [("index", "POST"), ("view", "GET"), ("create", "POST")])
def test_unknown_query_parameter_is_400_naming_it(api: httpx.Client, segment: str, verb: str, method: str) -> None:
    path = f"/v2/{segment}/{verb}" + (f"/{EXISTING[segment]}" if verb == "view" else "")
    body = create_body(segment) if verb == "create" else None
    response = api.request(method, path, params={"colour": "blue"}, json=body)
    assert _problem(response)["field"] == "colour"


def test_malformed_force_is_400_naming_it(api: httpx.Client) -> None:
    assert _problem(api.delete(f"/v2/action/delete/{FIRE}", params={"force": "maybe"}))["field"] == "force"
    assert api.get(f"/v2/action/view/{FIRE}").status_code == 200


# --- index: filter, sort and paging errors ---------------------------------------------------------

@pytest.mark.parametrize("segment", SEGMENTS)
def test_unknown_filter_key_is_400_naming_it(api: httpx.Client, segment: str) -> None:
    response = api.post(f"/v2/{segment}/index", json={"filter": {"colour": "blue"}})
    assert _problem(response)["field"] == "filter.colour"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_malformed_uuid_in_a_filter_is_400_naming_it(api: httpx.Client, segment: str) -> None:
    key = id_field(segment)
    assert _problem(api.post(f"/v2/{segment}/index", json={"filter": {key: "x"}}))["field"] == f"filter.{key}"


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("sort", ["colour", "-colour", "+name", ""])
def test_sort_outside_the_list_is_400_naming_sort(api: httpx.Client, segment: str, sort: str) -> None:
    assert _problem(api.post(f"/v2/{segment}/index", json={"sort": sort}))["field"] == "sort"


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("paging, field", [
    ({"per-page": 0}, "per-page"),
    ({"per-page": 101}, "per-page"),
    ({"per-page": "10"}, "per-page"),
    ({"page": 0}, "page"),
    ({"page": -1}, "page"),
    ({"history": "yes"}, "history"),
])
def test_paging_outside_its_range_is_400_naming_it(api: httpx.Client, segment: str, paging: dict[str, Any], field: str) -> None:
    assert _problem(api.post(f"/v2/{segment}/index", json=paging))["field"] == field


def test_unknown_index_body_key_is_400_naming_it(api: httpx.Client) -> None:
    assert _problem(api.post("/v2/action/index", json={"filters": {}}))["field"] == "filters"


def test_malformed_date_in_a_filter_is_400_naming_it(api: httpx.Client) -> None:
    assert _problem(api.post("/v2/certificate/index", json={"filter": {"date_release": "2024-13-01"}}))["field"] == "filter.date_release"
    assert _problem(api.post("/v2/action-session-date/index", json={"filter": {"date_begin": "2024-03-15"}}))["field"] == "filter.date_begin"


def test_index_accepts_per_page_1_and_100_and_history(api: httpx.Client) -> None:
    for body in ({"per-page": 1}, {"per-page": 100}, {"history": True}, {"history": False, "page": 3}):
        assert api.post("/v2/action/index", json=body).status_code == 200


# --- 422 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_with_a_broken_reference_is_422_naming_it(api: httpx.Client, segment: str) -> None:
    field, value = BROKEN_REFERENCE[segment]
    before = api.post(f"/v2/{segment}/index").headers["X-Pagination-Total-Count"]
    response = api.post(f"/v2/{segment}/create", json={**create_body(segment), field: value})
    assert field in {v["field"] for v in _violations(response)}
    # nothing stored
    assert api.post(f"/v2/{segment}/index").headers["X-Pagination-Total-Count"] == before


@pytest.mark.parametrize("segment", SEGMENTS)
def test_create_with_a_taken_id_is_422_naming_it(api: httpx.Client, segment: str) -> None:
    body = {**create_body(segment), id_field(segment): EXISTING[segment]}
    assert id_field(segment) in {v["field"] for v in _violations(api.post(f"/v2/{segment}/create", json=body))}


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_changing_the_id_is_422_and_changes_nothing(api: httpx.Client, segment: str) -> None:
    entity_id = EXISTING[segment]
    before = view(api, segment, entity_id)
    response = api.put(f"/v2/{segment}/update/{entity_id}", json={**update_body(segment), id_field(segment): MISSING})
    assert id_field(segment) in {v["field"] for v in _violations(response)}
    assert view(api, segment, entity_id) == before


@pytest.mark.parametrize("segment", SEGMENTS)
def test_update_with_a_broken_reference_is_422_and_changes_nothing(api: httpx.Client, segment: str) -> None:
    field, value = BROKEN_REFERENCE[segment]
    entity_id = EXISTING[segment]
    before = view(api, segment, entity_id)
    response = api.put(f"/v2/{segment}/update/{entity_id}", json={field: value})
    assert field in {v["field"] for v in _violations(response)}
    assert view(api, segment, entity_id) == before


def test_changing_action_type_is_422(api: httpx.Client) -> None:
    response = api.put(f"/v2/action/update/{FIRE}", json={"action_type": "HEALTH"})
    assert {v["field"] for v in _violations(response)} == {"action_type"}
    assert view(api, "action", FIRE)["action_type"] == "TRAINING"


def test_date_end_before_date_begin_is_422(api: httpx.Client) -> None:
    body = {**create_body("action-session-date"), "date_end": "2026-07-03T08:00:00"}
    assert "date_end" in {v["field"] for v in _violations(api.post("/v2/action-session-date/create", json=body))}


def test_date_expire_before_date_release_is_422(api: httpx.Client) -> None:
    body = {**create_body("certificate"), "date_expire": "2026-01-01"}
    assert "date_expire" in {v["field"] for v in _violations(api.post("/v2/certificate/create", json=body))}


def test_subscribing_a_resource_twice_is_422(api: httpx.Client) -> None:
    body = {**create_body("action-subscription"), "subscriber_id": PERSON_2}
    assert "subscriber_id" in {v["field"] for v in _violations(api.post("/v2/action-subscription/create", json=body))}


def test_enrolling_an_entry_twice_in_a_session_is_422(api: httpx.Client) -> None:
    body = {**create_body("action-session-subscription"), "action_subscription_id": SUB_2}
    response = api.post("/v2/action-session-subscription/create", json=body)
    assert "action_subscription_id" in {v["field"] for v in _violations(response)}


def test_office_of_another_project_is_422(api: httpx.Client) -> None:
    body = {**create_body("action-session"), "subtenant_id": O_TURIN, "tenant_id": P_ACME}
    assert "subtenant_id" in {v["field"] for v in _violations(api.post("/v2/action-session/create", json=body))}
