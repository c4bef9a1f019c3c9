"""Rules of every operation: authentication, partial updates, ignored fields, 422 and 400 answers."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import build, malformed, rules, spec_view
from .support.client import ApiClient
from .support.oracle import World
from .support.samples import SAMPLE_ACTION, fresh_create_body, one_of_each, sample_certificate, sample_date
from .support.scenarios import Validity
from .support.resources import id_field
from .support.scoping import SEGMENTS
from .support.spec_view import Operation
from .support.target import AuthMode, Target
from .support.update_values import changed_from, comparable_stored, update_bodies, update_field_values

WRONG_TOKEN = "not-a-valid-token-" + "0" * 8
AUTH_FAILURES = [
    pytest.param(AuthMode.NONE, None, id="no-token"),
    pytest.param(AuthMode.HEADER, WRONG_TOKEN, id="invalid-bearer"),
    pytest.param(AuthMode.QUERY, WRONG_TOKEN, id="invalid-access-token"),
]
# Directory references are not entities of the API: a fresh uuid names none of them.
DIRECTORY_FIELDS = {"subtenant_id", "tenant_id", "resource_id", "subscriber_id"}
MISSING_REFERENCES = [
    ("action", "subtenant_id", {"subtenant_id"}),
    ("action", "tenant_id", {"tenant_id", "subtenant_id"}),
    ("action-session", "action_id", {"action_id"}),
    ("action-session-date", "action_session_id", {"action_session_id"}),
    ("certificate", "resource_id", {"resource_id"}),
    ("certificate", "tenant_id", {"tenant_id"}),
    ("action-subscription", "action_id", {"action_id"}),
    ("action-subscription", "subscriber_id", {"subscriber_id"}),
    ("action-session-subscription", "action_session_id", {"action_session_id"}),
    ("action-session-subscription", "action_subscription_id", {"action_subscription_id"}),
    ("action-session-subscription", "certificate_id", {"certificate_id"}),
    ("certificate-action", "certificate_id", {"certificate_id"}),
    ("certificate-action", "action_id", {"action_id"}),
]
REFERENCED_SEGMENT = {
    "action_id": "action",
    "action_session_id": "action-session",
    "action_subscription_id": "action-subscription",
    "certificate_id": "certificate",
}


@pytest.fixture(scope="module")
def world(target: Target) -> World:
    return World(today=target.today())


@pytest.fixture(scope="module")
def sample(api: ApiClient, target: Target, world: World) -> dict[str, str]:
    """One entity of each kind, created by this run, shared by the module's rule tests."""
    return one_of_each(api, target, world)


# ---------------------------------------------------------------- authentication


def _operations() -> Iterator[Any]:
    for operation in spec_view.operations():
        marks = [pytest.mark.writes] if operation.verb in ("create", "update", "delete") else []
        yield pytest.param(operation, id=operation.operation_id, marks=marks)


UPDATE_PROBES: dict[str, dict[str, Any]] = {
    "action": {"description": "changed without a token"},
    "action-session": {"validity": 9},
    "action-session-date": {"data": json.dumps({"changed": True})},
    "certificate": {"note": "changed without a token"},
    "action-subscription": {"data": json.dumps({"changed": True})},
    "action-session-subscription": {"done": 1},
    "certificate-action": {"date_expire": "2099-12-31"},
}


@pytest.mark.parametrize(("auth", "token"), AUTH_FAILURES)
@pytest.mark.parametrize("operation", list(_operations()))
def test_every_operation_refuses_a_missing_or_invalid_token(
    api: ApiClient, target: Target, request: pytest.FixtureRequest, operation: Operation, auth: AuthMode, token: str | None
) -> None:
    segment = operation.segment
    if operation.verb == "index":
        rules.unauthorized_without_valid_token(api.index(segment, {}, auth=auth, token=token).exchange)
    elif operation.verb == "view":
        rules.unauthorized_without_valid_token(api.view(segment, api.absent_id(segment), auth=auth, token=token).exchange)
    elif operation.verb == "create":
        body = fresh_create_body(api, target, request.getfixturevalue("world"), segment)
        rules.unauthorized_without_valid_token(api.create(segment, body, auth=auth, token=token).exchange)
    else:
        entity_id = request.getfixturevalue("sample")[segment]
        before = api.view_ok(segment, entity_id)
        if operation.verb == "update":
            answer = api.update(segment, entity_id, UPDATE_PROBES[segment], auth=auth, token=token)
        else:
            answer = api.delete(segment, entity_id, force=True, auth=auth, token=token)
        rules.unauthorized_without_valid_token(answer.exchange)
        rules.rejected_request_changes_nothing(before, api.view_or_none(segment, entity_id), [answer.exchange])


@pytest.mark.parametrize("mode", [AuthMode.HEADER, AuthMode.QUERY], ids=["bearer", "access-token"])
@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_valid_token_is_accepted_in_both_forms(api: ApiClient, segment: str, mode: AuthMode) -> None:
    answer = api.index(segment, {"per-page": 1}, auth=mode)
    rules.valid_token_accepted_in_both_forms(answer.exchange)
    rules.success_status(answer.exchange, 200)


# ---------------------------------------------------------------- updates are partial; computed and unknown fields are ignored


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
@given(data=st.data())
def test_update_changes_only_the_fields_sent(api: ApiClient, target: Target, segment: str, data: st.DataObject) -> None:
    with api.scope() as scope:
        world = World(today=target.today())
        entity = api.create_ok(segment, fresh_create_body(api, target, world, segment))
        entity_id = str(entity[id_field(segment)])
        before = api.view_ok(segment, entity_id)
        sent = data.draw(update_bodies(segment, scope.marker, world.today), label="update body")
        answer = api.update(segment, entity_id, sent)
        rules.success_status(answer.exchange, 200)
        expected = {**comparable_stored(segment, before), **comparable_stored(segment, sent)}
        rules.partial_update_keeps_unsent_fields(comparable_stored(segment, answer.body, expected), expected, [answer.exchange])
        viewed = api.view(segment, entity_id)
        rules.partial_update_keeps_unsent_fields(comparable_stored(segment, viewed.body, expected), expected, [answer.exchange, viewed.exchange])


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
@settings(max_examples=max(2, settings().max_examples // 3))  # each example sends every field: fewer suffice
@given(data=st.data())
def test_each_field_an_update_sends_is_stored(api: ApiClient, target: Target, segment: str, data: st.DataObject) -> None:
    """Every field a client may change, one update each, with a value other than the stored one;
    a later view shows that field as sent (`update_is_stored`) and every other field as before
    (`partial_update_keeps_unsent_fields`). A draw of random subsets can leave a field out, or send
    it unchanged, on every example: here none is left out."""
    with api.scope() as scope:
        world = World(today=target.today())
        entity = api.create_ok(segment, fresh_create_body(api, target, world, segment))
        entity_id = str(entity[id_field(segment)])
        before = comparable_stored(segment, api.view_ok(segment, entity_id))
        for name, field in update_field_values(segment, scope.marker, world.today).items():
            sent = data.draw(changed_from(segment, field, before), label=f"{segment} {name}")
            answer = api.update(segment, entity_id, sent)
            rules.success_status(answer.exchange, 200)
            viewed = api.view(segment, entity_id)
            rules.success_status(viewed.exchange, 200)
            stored = comparable_stored(segment, viewed.body)
            rules.update_is_stored({k: stored.get(k) for k in sent}, comparable_stored(segment, sent), [answer.exchange, viewed.exchange])
            unsent = {k: v for k, v in before.items() if k not in sent}
            rules.partial_update_keeps_unsent_fields({k: stored.get(k) for k in unsent}, unsent, [answer.exchange, viewed.exchange])
            before = stored


def _garbage(prop: dict[str, Any]) -> Any:
    """A value no server computes for a fresh entity of this run."""
    if prop.get("type") == "integer":
        return 987
    if prop.get("format") == "uuid":
        return str(uuid.uuid4())
    if prop.get("format") == "date" or "pattern" in prop:
        return "1999-01-01"
    if "enum" in prop:
        return prop["enum"][-1]
    return "zz-sent-by-client"


def _computed_garbage(segment: str) -> dict[str, Any]:
    props = spec_view.properties(spec_view.schema_name(segment))
    # booleans have nothing to tell apart; enums only when their last value is not a fresh entity's
    return {name: _garbage(props[name]) for name in spec_view.computed_fields(segment) if props[name].get("type") != "boolean"}


def _expected_computed(answered: dict[str, Any], twin: dict[str, Any], garbage: dict[str, Any], segment: str) -> dict[str, Any]:
    """What each computed field should be: the twin's value (the same entity created without the
    computed fields). Ids that differ between twins by construction (their parents differ) only
    have to differ from what the client sent."""
    props = spec_view.properties(spec_view.schema_name(segment))
    expected = {}
    for name, sent in garbage.items():
        legitimately_different = props[name].get("format") == "uuid" and answered.get(name) != sent
        expected[name] = answered.get(name) if legitimately_different else twin.get(name)
    return expected


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_computed_and_unknown_fields_sent_on_create_are_ignored(api: ApiClient, target: Target, world: World, segment: str) -> None:
    garbage = _computed_garbage(segment)
    unknown = {"zz_unknown_field": "x", "another_unknown": 1}
    answer = api.create(segment, {**fresh_create_body(api, target, world, segment), **garbage, **unknown})
    rules.success_status(answer.exchange, 201)
    twin = api.create_ok(segment, fresh_create_body(api, target, world, segment))
    answered = {name: answer.body.get(name) for name in garbage}
    rules.computed_fields_from_client_ignored(answered, _expected_computed(answer.body, twin, garbage, segment), [answer.exchange, api.recent[-1]])
    rules.unknown_fields_ignored(answer.body, unknown, [answer.exchange])
    viewed = api.view(segment, str(answer.body[id_field(segment)]))
    rules.unknown_fields_ignored(viewed.body, unknown, [viewed.exchange])


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_computed_and_unknown_fields_sent_on_update_are_ignored(api: ApiClient, sample: dict[str, str], segment: str) -> None:
    entity_id = sample[segment]
    before = api.view_ok(segment, entity_id)
    garbage = _computed_garbage(segment)
    unknown = {"zz_unknown_field": "x"}
    answer = api.update(segment, entity_id, {**garbage, **unknown})
    rules.success_status(answer.exchange, 200)
    after = api.view_ok(segment, entity_id)
    expected = {name: before.get(name) for name in garbage}
    rules.computed_fields_from_client_ignored({name: after.get(name) for name in garbage}, expected, [answer.exchange, api.recent[-1]])
    rules.unknown_fields_ignored(after, unknown, [api.recent[-1]])


# ---------------------------------------------------------------- 404


@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_absent_id_is_404_on_view(api: ApiClient, segment: str) -> None:
    rules.absent_id_is_404(api.view(segment, api.absent_id(segment)).exchange)


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_absent_id_is_404_on_update_and_delete(api: ApiClient, segment: str) -> None:
    entity_id = api.absent_id(segment)
    rules.absent_id_is_404(api.update(segment, entity_id, {}).exchange)
    rules.absent_id_is_404(api.delete(segment, entity_id).exchange)
    rules.absent_id_is_404(api.delete(segment, entity_id, force=True).exchange)


# ---------------------------------------------------------------- 422: well-formed requests that break a rule


def _absent_reference(api: ApiClient, field: str) -> str:
    if field in DIRECTORY_FIELDS:
        return str(uuid.uuid4())
    return api.absent_id(REFERENCED_SEGMENT[field])


@pytest.mark.writes
@pytest.mark.parametrize(("segment", "field", "named"), MISSING_REFERENCES, ids=[f"{s}.{f}" for s, f, _ in MISSING_REFERENCES])
def test_a_missing_reference_is_422(api: ApiClient, target: Target, world: World, segment: str, field: str, named: set[str]) -> None:
    body = {**fresh_create_body(api, target, world, segment), field: _absent_reference(api, field)}
    answer = api.create(segment, body)
    rules.missing_reference_is_422(answer.exchange, named)


@pytest.mark.writes
@pytest.mark.needs_foreign_office
def test_an_office_of_another_project_is_422(api: ApiClient, target: Target, world: World) -> None:
    assert target.foreign_subtenant_id is not None  # deselected otherwise
    body = {**fresh_create_body(api, target, world, "action"), "subtenant_id": target.foreign_subtenant_id}
    rules.office_of_other_project_is_422(api.create("action", body).exchange, {"subtenant_id"})


@pytest.mark.writes
def test_duplicates_are_422(api: ApiClient, target: Target, world: World, sample: dict[str, str]) -> None:
    action_id, subscription_id, session_id = sample["action"], sample["action-subscription"], sample["action-session"]
    twice_subscribed = api.create("action-subscription", build.subscription_body(target, action_id, 0))
    rules.duplicate_is_422(twice_subscribed.exchange, {"subscriber_id", "action_id"})
    twice_linked = api.create("certificate-action", build.link_body(target, sample["certificate"], action_id, None))
    rules.duplicate_is_422(twice_linked.exchange, {"certificate_id", "action_id"})
    twice_enrolled = api.create("action-session-subscription", build.enrollment_body(target, session_id, subscription_id, -1, None))
    rules.duplicate_is_422(twice_enrolled.exchange, {"action_subscription_id", "action_session_id"})
    other_session = build.create_session(api, target, world, build.create_action(api, target, world, SAMPLE_ACTION))
    other_action_session = api.create("action-session-subscription", build.enrollment_body(target, other_session, subscription_id, -1, None))
    rules.duplicate_is_422(other_action_session.exchange, {"action_subscription_id", "action_session_id"})
    existing_id = api.create("action", {**fresh_create_body(api, target, world, "action"), "action_id": action_id})
    rules.duplicate_is_422(existing_id.exchange, {"action_id"})


@pytest.mark.writes
def test_moving_a_parent_of_enrollments_to_another_action_is_422_and_changes_nothing(
    api: ApiClient, target: Target, world: World, sample: dict[str, str]
) -> None:
    """The sample's session and compliance schedule entry share an enrollment: moved to another
    action, either would leave that enrollment joining two actions."""
    other_action = build.create_action(api, target, world, SAMPLE_ACTION)
    for segment in ("action-session", "action-subscription"):
        before = api.view_ok(segment, sample[segment])
        answer = api.update(segment, sample[segment], {"action_id": other_action})
        rules.move_breaking_a_childs_rule_is_422(answer.exchange, "action_id")
        rules.rejected_request_changes_nothing(before, api.view_ok(segment, sample[segment]), [answer.exchange])


@pytest.mark.writes
@pytest.mark.needs_foreign_project
def test_moving_a_linked_action_or_certificate_to_another_project_is_422_and_changes_nothing(
    api: ApiClient, target: Target, sample: dict[str, str]
) -> None:
    """The sample's action and certificate are linked: moved to another project, the certificate
    would be linked to an action of another project."""
    assert target.foreign_tenant_id is not None and target.foreign_subtenant_id is not None  # deselected otherwise
    moves = {
        "action": {"tenant_id": target.foreign_tenant_id, "subtenant_id": target.foreign_subtenant_id},
        "certificate": {"tenant_id": target.foreign_tenant_id},
    }
    for segment, body in moves.items():
        before = api.view_ok(segment, sample[segment])
        answer = api.update(segment, sample[segment], body)
        rules.move_breaking_a_childs_rule_is_422(answer.exchange, "tenant_id")
        rules.rejected_request_changes_nothing(before, api.view_ok(segment, sample[segment]), [answer.exchange])


@pytest.mark.writes
@pytest.mark.needs_foreign_project
def test_a_link_across_projects_is_422_and_changes_nothing(api: ApiClient, target: Target, world: World) -> None:
    """The reference: a certificate is never linked to an action of another project; the spec: a
    link's `tenant_id`, when sent, is the certificate's project."""
    assert target.foreign_tenant_id is not None and target.foreign_subtenant_id is not None  # deselected otherwise
    foreign_action = api.create_ok(
        "action", {**fresh_create_body(api, target, world, "action"), "tenant_id": target.foreign_tenant_id, "subtenant_id": target.foreign_subtenant_id}
    )
    certificate_id = build.create_certificate(api, target, world, sample_certificate(world.today), "TRAINING")
    before = api.view_ok("certificate", certificate_id)
    # without the optional tenant_id: only the action's project is other than the certificate's
    to_foreign = {k: v for k, v in build.link_body(target, certificate_id, str(foreign_action["action_id"]), None).items() if k != "tenant_id"}
    across = api.create("certificate-action", to_foreign)
    rules.link_across_projects_is_422(across.exchange, "action_id")
    own_action = build.create_action(api, target, world, SAMPLE_ACTION)
    mislabelled = api.create("certificate-action", {**build.link_body(target, certificate_id, own_action, None), "tenant_id": target.foreign_tenant_id})
    rules.link_across_projects_is_422(mislabelled.exchange, "tenant_id")
    links, reads = api.index_all("certificate-action", {"certificate_id": certificate_id})
    rules.rejected_request_changes_nothing(
        {"certificate": before, "links": []},
        {"certificate": api.view_ok("certificate", certificate_id), "links": links},
        [across.exchange, mislabelled.exchange, *reads],
    )


FURTHEST_VALIDITY = {"validity": 2147483647, "validity_unit": "DAY"}
LAST_YEAR = "9999-06-01"  # + the sample action's validity of 1 year: past the calendar


@pytest.mark.writes
def test_an_expiry_past_the_calendar_is_422_naming_the_field_that_puts_it_there(api: ApiClient, target: Target, world: World) -> None:
    """DECISIONS (Integers and the calendar): each of the four writes that would put a derived
    expiry past 9999-12-31 is a 422 naming its field and changes nothing; a certificate with a
    validity of its own inherits nothing, so the action's furthest validity is stored when only
    such a certificate is linked."""
    inheriting = replace(sample_certificate(world.today), validity=None)
    own = build.create_certificate(api, target, world, replace(inheriting, validity=Validity(1, "YEAR")), "TRAINING")
    action = build.create_action(api, target, world, SAMPLE_ACTION)  # validity 1 year
    heir = build.create_certificate(api, target, world, inheriting, "TRAINING")
    build.create_link(api, target, world, heir, action, None)
    late = build.create_certificate(api, target, world, replace(inheriting, date_release=dt.date.fromisoformat(LAST_YEAR)), "TRAINING")
    refused_updates = [
        ("certificate", own, FURTHEST_VALIDITY, "validity"),
        ("certificate", heir, {"date_release": LAST_YEAR}, "date_release"),
        ("action", action, FURTHEST_VALIDITY, "validity"),
    ]
    for segment, entity_id, body, named in refused_updates:
        before = api.view_ok(segment, entity_id)
        answer = api.update(segment, entity_id, body)
        rules.expiry_past_the_calendar_is_422(answer.exchange, named)
        rules.rejected_request_changes_nothing(before, api.view_ok(segment, entity_id), [answer.exchange])
    # a link, first or not, through which the certificate would inherit an expiry past the end
    furthest_action = build.create_action(api, target, world, replace(SAMPLE_ACTION, validity=Validity(2147483647, "DAY")))
    for certificate_id, action_id in ((late, action), (heir, furthest_action)):
        certificate_before = api.view_ok("certificate", certificate_id)
        links_before, _ = api.index_all("certificate-action", {"certificate_id": certificate_id})
        link = api.create("certificate-action", build.link_body(target, certificate_id, action_id, None))
        rules.expiry_past_the_calendar_is_422(link.exchange, "action_id")
        links, reads = api.index_all("certificate-action", {"certificate_id": certificate_id})
        rules.rejected_request_changes_nothing(
            {"certificate": certificate_before, "links": links_before},
            {"certificate": api.view_ok("certificate", certificate_id), "links": links},
            [link.exchange, *reads],
        )
    only_own = build.create_action(api, target, world, SAMPLE_ACTION)
    build.create_link(api, target, world, own, only_own, None)
    stored = api.update("action", only_own, FURTHEST_VALIDITY)
    rules.edge_value_stored_or_refused(stored.exchange, "validity")
    world.actions[only_own].validity, world.actions[only_own].validity_unit = FURTHEST_VALIDITY["validity"], FURTHEST_VALIDITY["validity_unit"]


@pytest.mark.writes
def test_immutable_fields_are_422_and_change_nothing(api: ApiClient, sample: dict[str, str]) -> None:
    action_id = sample["action"]
    before = api.view_ok("action", action_id)
    changed_type = api.update("action", action_id, {"action_type": "HEALTH"})
    rules.action_type_is_immutable(changed_type.exchange)
    for segment in SEGMENTS:
        entity_id = sample[segment]
        segment_before = api.view_ok(segment, entity_id)
        answer = api.update(segment, entity_id, {id_field(segment): str(uuid.uuid4())})
        rules.id_is_immutable(answer.exchange, id_field(segment))
        rules.rejected_request_changes_nothing(segment_before, api.view_ok(segment, entity_id), [answer.exchange])
    rules.rejected_request_changes_nothing(before, api.view_ok("action", action_id), [changed_type.exchange])


@pytest.mark.writes
def test_an_end_before_its_begin_is_422(api: ApiClient, target: Target, world: World, sample: dict[str, str]) -> None:
    begin, _ = sample_date(world.today).texts()
    date_body = {**fresh_create_body(api, target, world, "action-session-date"), "date_begin": begin, "date_end": begin.replace("T09:", "T08:")}
    rules.end_before_begin_is_422(api.create("action-session-date", date_body).exchange, {"date_end", "date_begin"})
    date_id = sample["action-session-date"]
    stored = api.view_ok("action-session-date", date_id)
    moved = api.update("action-session-date", date_id, {"date_end": "2000-01-01T10:00:00"})
    rules.end_before_begin_is_422(moved.exchange, {"date_end", "date_begin"})
    rules.rejected_request_changes_nothing(stored, api.view_ok("action-session-date", date_id), [moved.exchange])
    certificate_body = {**fresh_create_body(api, target, world, "certificate"), "date_release": "2024-05-10", "date_expire": "2024-05-09"}
    rules.end_before_begin_is_422(api.create("certificate", certificate_body).exchange, {"date_expire", "date_release"})


# ---------------------------------------------------------------- 400: requests that break the spec


@given(data=st.data())
def test_malformed_path_ids_are_400(api: ApiClient, data: st.DataObject) -> None:
    segment = data.draw(st.sampled_from(SEGMENTS), label="segment")
    entity_id = data.draw(malformed.malformed_ids(), label="id")
    verb = data.draw(st.sampled_from(["view", "update", "delete"]), label="operation")
    if verb == "view":
        answer = api.view(segment, entity_id)
    elif verb == "update":
        answer = api.update(segment, entity_id, {})
    else:
        answer = api.delete(segment, entity_id, force=data.draw(st.sampled_from([None, True, False]), label="force"))
    rules.malformed_input_is_400(answer.exchange, ["id"])


def _breakable_filter_fields(segment: str) -> list[tuple[str, dict[str, Any]]]:
    props = spec_view.properties(f"{spec_view.schema_name(segment)}Filter")
    return [(name, prop) for name, prop in props.items() if malformed.malformed_value_for(prop) is not None]


@given(data=st.data())
def test_malformed_filter_values_are_400(api: ApiClient, data: st.DataObject) -> None:
    segment = data.draw(st.sampled_from(SEGMENTS), label="segment")
    name, prop = data.draw(st.sampled_from(_breakable_filter_fields(segment)), label="filter field")
    value = data.draw(malformed.malformed_value_for(prop), label="value")  # type: ignore[arg-type]
    answer = api.index(segment, {"filter": {name: value}})
    rules.malformed_input_is_400(answer.exchange, [f"filter.{name}"])


@pytest.mark.parametrize("segment", SEGMENTS)
def test_unknown_filter_and_sort_fields_are_400(api: ApiClient, segment: str) -> None:
    unknown_filter = api.index(segment, {"filter": {"zz_no_such_field": "x"}})
    rules.malformed_input_is_400(unknown_filter.exchange, ["filter.zz_no_such_field", "filter"])
    unknown_sort = api.index(segment, {"sort": "zz_no_such_field"})
    rules.malformed_input_is_400(unknown_sort.exchange, ["sort"])
    not_sortable = next((f for f in spec_view.filter_fields(segment) if f not in spec_view.sort_fields(segment)), None)
    if not_sortable:
        answer = api.index(segment, {"sort": f"-{not_sortable}"})
        rules.malformed_input_is_400(answer.exchange, ["sort"])


@pytest.mark.parametrize("segment", SEGMENTS)
@given(body=malformed.not_json_bodies())
def test_an_index_body_that_is_not_json_is_400(api: ApiClient, segment: str, body: bytes) -> None:
    answer = api.raw("POST", f"/v2/{segment}/index", content=body, label=f"index {segment}")
    rules.malformed_input_is_400(answer.exchange, ["body"])


def _breakable_body_fields(segment: str) -> list[tuple[str, dict[str, Any]]]:
    props = spec_view.sendable_fields(segment)
    return [(name, prop) for name, prop in props.items() if malformed.malformed_value_for(prop) is not None]


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
@given(data=st.data())
def test_malformed_create_bodies_are_400(api: ApiClient, target: Target, world: World, segment: str, data: st.DataObject) -> None:
    name, prop = data.draw(st.sampled_from(_breakable_body_fields(segment)), label="field")
    value = data.draw(malformed.malformed_value_for(prop), label="value")  # type: ignore[arg-type]
    body = {**fresh_create_body(api, target, world, segment), name: value}
    rules.malformed_input_is_400(api.create(segment, body, mark=False).exchange, [name])


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
@given(data=st.data())
def test_malformed_update_bodies_are_400_and_change_nothing(api: ApiClient, sample: dict[str, str], segment: str, data: st.DataObject) -> None:
    name, prop = data.draw(st.sampled_from(_breakable_body_fields(segment)), label="field")
    value = data.draw(malformed.malformed_value_for(prop), label="value")  # type: ignore[arg-type]
    entity_id = sample[segment]
    before = api.view_ok(segment, entity_id)
    answer = api.update(segment, entity_id, {name: value})
    rules.malformed_input_is_400(answer.exchange, [name])
    rules.rejected_request_changes_nothing(before, api.view_ok(segment, entity_id), [answer.exchange])


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_create_body_that_is_not_json_is_400(api: ApiClient, segment: str) -> None:
    answer = api.raw("POST", f"/v2/{segment}/create", content=b"{not json", label=f"create {segment}")
    rules.malformed_input_is_400(answer.exchange, ["body"])


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_create_without_a_required_field_is_400(api: ApiClient, target: Target, world: World, segment: str) -> None:
    body = fresh_create_body(api, target, world, segment)
    for name in spec_view.required_on_create(segment):
        answer = api.create(segment, {k: v for k, v in body.items() if k != name}, mark=False)
        rules.malformed_input_is_400(answer.exchange, [name, "body"])
