"""The suite's Schemathesis set-up, without a target: which operations a target may receive, that
generated cases touch only what the run created, the project's custom checks on made-up answers,
and Schemathesis reading the spec's formats as the project does."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from mock_server.validation import ecma_pattern

from contract.support import plugin, rules
from contract.support.contract import contract
from contract.support.st_checks import (
    operation_params,
    CreatedEntities,
    count_invariants,
    created_entity_derived_fields,
    pagination_headers_arithmetic,
    session_dates_in_order,
    suite_config,
)
from contract.support.target import (
    DEFAULT_RESOURCE_IDS,
    DEFAULT_SUBTENANT_ID,
    DEFAULT_TENANT_ID,
    AuthMode,
    ResourceRef,
    Target,
    TargetOptions,
)



# ---------------------------------------------------------------- what a shared server may receive


def _remote(*, loopback: bool, writes: bool) -> Target:
    url = "http://127.0.0.1:8080" if loopback else "https://api.example.test"
    return Target(
        client=None,  # type: ignore[arg-type]  # the configuration never talks to the target
        base_url=url,
        token="a-token",
        auth_mode=AuthMode.HEADER,
        tenant_id=DEFAULT_TENANT_ID,
        subtenant_id=DEFAULT_SUBTENANT_ID,
        foreign_subtenant_id=None,
        resources=(ResourceRef(DEFAULT_RESOURCE_IDS[0]),),
        is_loopback=loopback,
        in_process=False,
        writes_allowed=writes,
    )


def _selected_verbs(target: Target) -> set[str]:
    selected = schemathesis.openapi.from_dict(contract(), config=suite_config(target))
    return {result.ok().definition.raw["operationId"].rsplit("_", 1)[1] for result in selected.get_all_operations()}


@pytest.mark.parametrize(
    ("loopback", "writes", "verbs"),
    [
        (True, True, {"index", "view", "create", "update", "delete"}),
        (False, True, {"index", "view", "create"}),
        (False, False, {"index", "view"}),
        (True, False, {"index", "view"}),
    ],
    ids=["loopback", "shared-with-allow-writes", "shared-read-only", "loopback-read-only"],
)
def test_operations_a_target_may_receive(loopback: bool, writes: bool, verbs: set[str]) -> None:
    """Generated updates and deletes never reach a shared server (their ids could be anyone's);
    without permission to write, nothing but index and view is sent."""
    assert _selected_verbs(_remote(loopback=loopback, writes=writes)) == verbs


@pytest.mark.parametrize(("loopback", "writes"), [(True, True), (False, True), (False, False), (True, False)])
def test_tests_of_operations_a_target_may_not_receive_are_deselected(loopback: bool, writes: bool) -> None:
    """The per-operation tests that the plugin keeps are exactly those of the operations
    `suite_config` lets through: a kept test of a refused operation would fail with nothing to run."""
    options = TargetOptions(url="http://127.0.0.1:8080" if loopback else "https://api.example.test", allow_writes=writes, read_only=not writes)
    unmet = plugin.requirement_reasons(options)
    kept = {param.values[0] for param in operation_params() if not {mark.name for mark in param.marks} & set(unmet)}
    selected = schemathesis.openapi.from_dict(contract(), config=suite_config(_remote(loopback=loopback, writes=writes)))
    assert kept == {(result.ok().method.lower(), result.ok().path) for result in selected.get_all_operations()}


def test_updates_and_deletes_only_of_created_entities() -> None:
    created = CreatedEntities()
    operation = _bundled_schema().find_operation_by_label("POST /v2/action/create")
    assert operation is not None
    mine = "3f0e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
    answer = _answer("/v2/action/create", 201, {"action_id": mine.upper(), "name": "x"})
    created.record(answer, operation.Case())
    created.record(_answer("/v2/action/create", 422, [{"field": "tenant_id", "message": "does not exist"}]), operation.Case())
    assert created.ids == {mine: "action"}
    for label in ("PUT /v2/action/update/{id}", "DELETE /v2/action/delete/{id}"):
        operation = _bundled_schema().find_operation_by_label(label)
        assert operation is not None
        assert created.owns_target_of(operation.Case(path_parameters={"id": mine}))
        assert not created.owns_target_of(operation.Case(path_parameters={"id": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"}))
    view = _bundled_schema().find_operation_by_label("GET /v2/action/view/{id}")
    assert view is not None and created.owns_target_of(view.Case(path_parameters={"id": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"}))


@pytest.mark.parametrize("prefix", ["", "/api", "/gateway/v2"])
def test_a_create_is_recorded_under_any_path_prefix(prefix: str) -> None:
    """A target mounted under a path (`--target-url http://host/api`): its creates are still the
    run's, so their links are followed and they are deleted at the end."""
    created = CreatedEntities()
    create = _bundled_schema().find_operation_by_label("POST /v2/action-session/create")
    view = _bundled_schema().find_operation_by_label("GET /v2/action-session/view/{id}")
    assert create is not None and view is not None
    mine = "0b7c4d47-3f5e-4f0c-9d5e-2f6a1b2c3d4e"
    created.record(_answer(f"{prefix}/v2/action-session/create", 201, {"action_session_id": mine}), create.Case())
    created.record(_answer(f"{prefix}/v2/action-session/view/{mine}", 201, {"action_session_id": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"}), view.Case())
    assert created.ids == {mine: "action-session"}


@pytest.mark.parametrize(
    ("label", "body", "replaced"),
    [
        ("POST /v2/certificate-action/create", {"certificate_id": "mine-certificate", "action_id": "mine-action"}, []),
        ("POST /v2/certificate-action/create", {"certificate_id": "mine-certificate", "action_id": "foreign"}, ["action_id"]),
        ("POST /v2/certificate-action/create", {"certificate_id": "foreign", "action_id": "foreign"}, ["certificate_id", "action_id"]),
        ("POST /v2/certificate-action/create", {"certificate_id": "mine-certificate", "action_id": "not a uuid"}, []),
        ("POST /v2/action-session/create", {"action_id": "foreign", "data": "{}"}, ["action_id"]),
        ("POST /v2/action-session/create", {"action_id": 17}, []),
        ("PUT /v2/certificate-action/update/{id}", {"action_id": "foreign"}, ["action_id"]),
        ("POST /v2/action/create", {"tenant_id": "foreign", "subtenant_id": "foreign"}, []),
    ],
)
def test_children_only_of_created_entities(label: str, body: dict[str, Any], replaced: list[str]) -> None:
    """On a shared server a create (or update) never names someone else's entity as its parent (a
    link or a session under their action changes its counts): such a reference becomes a uuid
    that names nothing. References that are not uuids name nobody, and reference data (project,
    office) is not an entity of the API: both stay."""
    ids = {"mine-certificate": "5b0c7a52-0d3e-4f4a-9b1e-2c3d4e5f6a7b", "mine-action": "3f0e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", "foreign": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"}
    created = CreatedEntities()
    created.add("certificate", ids["mine-certificate"])
    created.add("action", ids["mine-action"])
    operation = _bundled_schema().find_operation_by_label(label)
    assert operation is not None
    sent = {name: ids.get(value, value) if isinstance(value, str) else value for name, value in body.items()}
    case = operation.Case(body=dict(sent), path_parameters={"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"} if "{id}" in label else None)
    assert created.drop_foreign_parents(case) == replaced
    for name, value in case.body.items():
        if name in replaced:
            assert value not in ids.values() and uuid.UUID(value), f"{name} still names an entity: {value}"
        else:
            assert value == sent[name]


# ---------------------------------------------------------------- the custom checks catch what they claim to

ACTION = {"action_id": "6f1c1e0e-7a8e-4d55-9a53-0c2b8f8e9a11", "countSubscribed": 3, "countValid": 1, "countScheduled": 1, "countToDo": 1}
SESSION = {
    "action_session_id": "0b7c4d47-3f5e-4f0c-9d5e-2f6a1b2c3d4e",
    "count_subscribed": 2, "count_done": 1, "count_fail": 0, "count_unknown": 1,
    "date_begin": "2026-01-10", "date_end": "2026-01-12",
}
SESSION_DATE = {"action_session_date_id": "5e0b9a3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c", "date_begin": "2026-01-10T09:00:00", "date_end": "2026-01-10T17:00:00+01:00"}
NEW_ACTION = {"action_type": "TRAINING", "name": "new", "subtenant_id": DEFAULT_SUBTENANT_ID, "tenant_id": DEFAULT_TENANT_ID}
NO_COUNTS = {"countSubscribed": 0, "countValid": 0, "countScheduled": 0, "countToDo": 0}
NEW_SESSION = {"action_id": "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f", "subtenant_id": DEFAULT_SUBTENANT_ID, "tenant_id": DEFAULT_TENANT_ID}
NO_ENROLLMENTS = {"count_subscribed": 0, "count_done": 0, "count_fail": 0, "count_unknown": 0, "date_begin": None, "date_end": None}
CERTIFICATE_ID = "7d2b8f1e-4c3a-4e5b-9a6d-1f2e3d4c5b6a"
# released on a month's last day, valid one month: 2024-02-29 (clamped); the client's date wins over it
NEW_CERTIFICATE = {"name": "new", "date_release": "2024-01-31", "validity": 1, "validity_unit": "MONTH", "action_type": "TRAINING",
                   "resource_id": DEFAULT_RESOURCE_IDS[0], "tenant_id": DEFAULT_TENANT_ID}
# what a server answers from its directory for the new entities (office, project, resource)
ACTION_DIRECTORY = {"office_name": "Rome North Site", "project_name": "Acme", "project_type": None, "owned_active": True, "parent_active": True}
CERTIFICATE_DIRECTORY = {"resource_name": "Smith John", "resource_type": "PERSON", "project_name": "Acme", "subtenant_type": None}
PAGE_OF_TWO = {"x-pagination-total-count": "5", "x-pagination-per-page": "2", "x-pagination-current-page": "1", "x-pagination-page-count": "3"}


def _answer(path: str, status: int, body: Any, headers: dict[str, str] | None = None, sent: Any = None) -> schemathesis.Response:
    request = requests.Request("POST", f"http://testserver{path}", json=sent).prepare()
    return schemathesis.Response(
        status_code=status,
        headers={name: [value] for name, value in {"content-type": "application/json", **(headers or {})}.items()},
        content=json.dumps(body).encode(),
        request=request,
        elapsed=0.0,
        verify=True,
    )


@functools.cache
def _bundled_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(contract(), config=schemathesis.Config())


def _unnoted(check: Any) -> Any:
    """The check without the wrapper that notes broken rules in the run's ledger: these answers
    are made up, so what they break is no finding about the target."""
    return check.__wrapped__


def _case(path: str) -> schemathesis.Case:
    operation = _bundled_schema().find_operation_by_label(f"{'GET' if '/view/' in path else 'POST'} {path}")
    assert operation is not None, path
    return operation.Case()

BROKEN = {
    "page count": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], {**PAGE_OF_TWO, "x-pagination-page-count": "2"}, {"per-page": 2}, "pagination_headers_match_body"),
    "per-page not echoed": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], {**PAGE_OF_TWO, "x-pagination-per-page": "100"}, {"per-page": 2}, "pagination_headers_match_body"),
    "default page size": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], PAGE_OF_TWO, None, "pagination_headers_match_body"),
    "body length": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION], PAGE_OF_TWO, {"per-page": 2}, "pagination_headers_match_body"),
    "missing header": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], {k: v for k, v in PAGE_OF_TWO.items() if "page-count" not in k}, {"per-page": 2}, "pagination_headers_present"),
    "header not an integer": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], {**PAGE_OF_TWO, "x-pagination-total-count": "five"}, {"per-page": 2}, "pagination_headers_present"),
    "action counts": (count_invariants, "/v2/action/view/{id}", 200, {**ACTION, "countToDo": 2}, None, None, "counts_add_up"),
    "session counts in an index": (count_invariants, "/v2/action-session/index", 200, [SESSION, {**SESSION, "count_fail": 1}], None, None, "session_counts_match_enrollments"),
    "session span": (session_dates_in_order, "/v2/action-session/create", 201, {**SESSION, "date_begin": "2026-01-13"}, None, None, "session_span_in_order"),
    "session date": (session_dates_in_order, "/v2/action-session-date/index", 200, [{**SESSION_DATE, "date_end": "2026-01-10T08:59:59Z"}], None, None, "session_date_end_not_before_begin"),
    "a new action counted": (created_entity_derived_fields, "/v2/action/create", 201, {**ACTION, **NEW_ACTION, **ACTION_DIRECTORY, **NO_COUNTS, "countSubscribed": 1, "countToDo": 1}, None, NEW_ACTION, "action_counts_match_model"),
    "a new session's count_done": (created_entity_derived_fields, "/v2/action-session/create", 201, {**SESSION, **NEW_SESSION, **NO_ENROLLMENTS, "count_subscribed": 1, "count_done": 1}, None, NEW_SESSION, "session_counts_match_model"),
    "a new session spans a day": (created_entity_derived_fields, "/v2/action-session/create", 201, {**SESSION, **NEW_SESSION, **NO_ENROLLMENTS, "date_begin": "2026-01-10", "date_end": "2026-01-10"}, None, NEW_SESSION, "session_dates_span_its_dates"),
    "the client's date_expire overridden": (created_entity_derived_fields, "/v2/certificate/create", 201, {**NEW_CERTIFICATE, **CERTIFICATE_DIRECTORY, "certificate_id": CERTIFICATE_ID, "date_expire": "2024-02-29", "subtenant_id": None}, None, {**NEW_CERTIFICATE, "date_expire": "2025-01-31"}, "certificate_expiry_derivation"),
    "validity past the month's end": (created_entity_derived_fields, "/v2/certificate/create", 201, {**NEW_CERTIFICATE, **CERTIFICATE_DIRECTORY, "certificate_id": CERTIFICATE_ID, "date_expire": "2024-03-02", "subtenant_id": None}, None, NEW_CERTIFICATE, "certificate_expiry_derivation"),
    "an office without a link": (created_entity_derived_fields, "/v2/certificate/create", 201, {**NEW_CERTIFICATE, **CERTIFICATE_DIRECTORY, "certificate_id": CERTIFICATE_ID, "date_expire": "2024-02-29", "subtenant_id": DEFAULT_SUBTENANT_ID}, None, NEW_CERTIFICATE, "certificate_office_from_first_link"),
}


@pytest.mark.parametrize(("check", "path", "status", "body", "headers", "sent", "rule"), list(BROKEN.values()), ids=list(BROKEN))
def test_custom_check_reports_the_broken_rule(check: Any, path: str, status: int, body: Any, headers: Any, sent: Any, rule: str) -> None:
    answer = _answer(path, status, body, headers, sent)
    with pytest.raises(rules.RuleViolation) as raised:
        _unnoted(check)(None, answer, _case(path))
    assert raised.value.rule == rule
    assert str(raised.value).startswith(f"Rule broken [{rule}]: {rules.RULES[rule].statement}")


KEPT = {
    "a page of two": (pagination_headers_arithmetic, "/v2/action/index", 200, [ACTION, ACTION], PAGE_OF_TWO, {"per-page": 2}),
    "past the last page": (pagination_headers_arithmetic, "/v2/action/index", 200, [], {**PAGE_OF_TWO, "x-pagination-current-page": "9"}, {"per-page": 2, "page": 9}),
    "nothing matches": (pagination_headers_arithmetic, "/v2/action/index", 200, [], {**PAGE_OF_TWO, "x-pagination-total-count": "0", "x-pagination-page-count": "0", "x-pagination-per-page": "100"}, {}),
    "counts": (count_invariants, "/v2/action-session/index", 200, [SESSION, ACTION], None, None),
    "a one-day session, a session without dates": (session_dates_in_order, "/v2/action-session/index", 200, [{**SESSION, "date_end": "2026-01-10"}, {**SESSION, "date_begin": None, "date_end": None}], None, None),
    "a session date with and without offset": (session_dates_in_order, "/v2/action-session-date/view/{id}", 200, SESSION_DATE, None, None),
    "a new action": (created_entity_derived_fields, "/v2/action/create", 201, {**ACTION, **NEW_ACTION, **ACTION_DIRECTORY, **NO_COUNTS}, None, NEW_ACTION),
    "a new session": (created_entity_derived_fields, "/v2/action-session/create", 201, {**SESSION, **NEW_SESSION, **NO_ENROLLMENTS}, None, NEW_SESSION),
    "a new certificate, expiry by its validity": (created_entity_derived_fields, "/v2/certificate/create", 201, {**NEW_CERTIFICATE, **CERTIFICATE_DIRECTORY, "certificate_id": CERTIFICATE_ID, "date_expire": "2024-02-29", "subtenant_id": None}, None, NEW_CERTIFICATE),
    "a new certificate, the client's date": (created_entity_derived_fields, "/v2/certificate/create", 201, {**NEW_CERTIFICATE, **CERTIFICATE_DIRECTORY, "certificate_id": CERTIFICATE_ID, "date_expire": "2025-01-31", "subtenant_id": None}, None, {**NEW_CERTIFICATE, "date_expire": "2025-01-31"}),
}


@pytest.mark.parametrize(("check", "path", "status", "body", "headers", "sent"), list(KEPT.values()), ids=list(KEPT))
def test_custom_check_passes_a_kept_rule(check: Any, path: str, status: int, body: Any, headers: Any, sent: Any) -> None:
    assert _unnoted(check)(None, _answer(path, status, body, headers, sent), _case(path)) is None


# ---------------------------------------------------------------- the spec's formats, as Schemathesis reads them

DATE_TIMES = {
    "2024-03-15T09:00:00": True,  # a local time, as the reference's examples are
    "2024-03-15T09:00:00Z": True,
    "2024-03-15T09:00:00.250+01:00": True,
    "2024-03-15T09:00": False,
    "2024-03-15 09:00:00": False,
    "2024-02-30T09:00:00": False,
    "2024-03-15T24:00:00": False,
    "2024-03-15T09:00:00+24:00": False,
    "2024-03-15": False,
}


@pytest.mark.parametrize(("value", "valid"), list(DATE_TIMES.items()), ids=list(DATE_TIMES))
def test_schemathesis_reads_date_time_as_the_project(value: str, valid: bool) -> None:
    """docs/DECISIONS.md: RFC 3339, but the offset may be left out; the spec says so with a
    `pattern`, which stock Schemathesis reads (no hooks) as the mock does."""
    pattern = contract()["components"]["schemas"]["ActionSessionDateFields"]["properties"]["date_end"]["pattern"]
    assert (ecma_pattern(pattern).search(value) is not None) is valid
    date = {**SESSION_DATE, "action_session_id": SESSION["action_session_id"], "date_end": value}
    date.update(subtenant_id=DEFAULT_SUBTENANT_ID, tenant_id=DEFAULT_TENANT_ID)
    _assert_conformance("/v2/action-session-date/view/{id}", date, valid)


@pytest.mark.parametrize(("text", "valid"), [('{"a": [1, null]}', True), ("0", True), ('"text"', True), ("{a: 1}", True), ("", True)])
def test_schemathesis_reads_json_text_as_the_project(text: str, valid: bool) -> None:
    """JSON text is a plain string (docs/DECISIONS.md, "Reading the spec with stock tools"): stored as sent."""
    date = {**SESSION_DATE, "action_session_id": SESSION["action_session_id"], "data": text}
    date.update(subtenant_id=DEFAULT_SUBTENANT_ID, tenant_id=DEFAULT_TENANT_ID)
    _assert_conformance("/v2/action-session-date/view/{id}", date, valid)


def _assert_conformance(path: str, entity: dict[str, Any], conforms: bool) -> None:
    operation = _bundled_schema().find_operation_by_label(f"GET {path}")
    assert operation is not None
    answer = _answer(path, 200, entity)
    if conforms:
        operation.validate_response(answer)
    else:
        with pytest.raises(AssertionError, match="Response violates schema"):
            operation.validate_response(answer)
