"""Schemathesis creates whose answer was lost: marked before sending, looked for, never sent twice
blindly (support/st_reconcile.py).

The marking tests need no target; the reconciliation tests lose the answer of real creates of the
target (the request reaches it, the answer is dropped on the way back).
"""

from __future__ import annotations

import functools
import json
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from mock_server.spec import load_spec
from schemathesis import GenerationMode

from contract.support import spec_view, st_reconcile, transport
from contract.support.client import ApiClient, ReconcileError
from contract.support.oracle import World
from contract.support.resources import ALL, MARKER_JSON_KEY, MarkerPlacement
from contract.support.samples import fresh_create_body
from contract.support.st_checks import CreatedEntities, load_schema, suite_config
from contract.support.st_reconcile import UnreconciledCreate, call_reconciled, mark_case
from contract.support.target import AuthMode, Target

MARKED_SEGMENTS = [r.segment for r in ALL if r.marker_placement is not MarkerPlacement.NONE]
MARKER = "ct0123abcdst"


@functools.cache
def _bundled_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(load_spec(), config=schemathesis.Config())


def _create_operation(segment: str) -> Any:
    operation = _bundled_schema().find_operation_by_label(f"POST /v2/{segment}/create")
    assert operation is not None, segment
    return operation


def _validator(segment: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_create_operation(segment).get_body_for_media_type("application/json").validation_schema)


def _holds_marker(segment: str, body: dict[str, Any], marker: str) -> bool:
    """Whether the body carries the marker where the suite's index search looks for it."""
    resource = next(r for r in ALL if r.segment == segment)
    value = body.get(resource.marker_field or "")
    if resource.marker_placement is MarkerPlacement.PREFIX:
        return isinstance(value, str) and value.startswith(f"{marker}-")
    if spec_view.is_json_text(segment, resource.marker_field or ""):
        return isinstance(value, str) and json.dumps(marker) in value
    return isinstance(value, dict) and value.get(MARKER_JSON_KEY) == marker


# ---------------------------------------------------------------- marking keeps the case what it was

PROPERTY_SETTINGS = hypothesis.settings(
    deadline=None, database=None, max_examples=20
)


@pytest.mark.parametrize("segment", MARKED_SEGMENTS)
@PROPERTY_SETTINGS
@hypothesis.given(data=st.data())
def test_a_marked_positive_body_stays_valid_and_holds_the_marker(segment: str, data: st.DataObject) -> None:
    case = data.draw(_create_operation(segment).as_strategy(GenerationMode.POSITIVE))
    generated = json.loads(json.dumps(case.body))
    marking = mark_case(case, MARKER)
    if marking.marked:
        assert _validator(segment).is_valid(case.body), (marking, case.body)
        assert case.meta.generation.mode is GenerationMode.POSITIVE  # Schemathesis' own reading agrees
        assert _holds_marker(segment, case.body, MARKER), case.body
        changed = {name for name in set(generated) | set(case.body) if generated.get(name, KeyError) != case.body.get(name, KeyError)}
        assert changed <= {next(r for r in ALL if r.segment == segment).marker_field}
    else:
        assert case.body == generated  # left exactly as generated


@pytest.mark.parametrize("segment", MARKED_SEGMENTS)
@PROPERTY_SETTINGS
@hypothesis.given(data=st.data())
def test_a_marked_negative_body_breaks_what_it_broke(segment: str, data: st.DataObject) -> None:
    case = data.draw(_create_operation(segment).as_strategy(GenerationMode.NEGATIVE))
    hypothesis.assume(isinstance(case.body, dict) and not _validator(segment).is_valid(case.body))
    before = {(tuple(e.absolute_path), e.validator) for e in _validator(segment).iter_errors(case.body)}
    if mark_case(case, MARKER).marked:
        assert {(tuple(e.absolute_path), e.validator) for e in _validator(segment).iter_errors(case.body)} == before
        assert case.meta.generation.mode is GenerationMode.NEGATIVE


NAME_LIMIT = spec_view.sendable_fields("action")["name"]["maxLength"]


@pytest.mark.parametrize(
    ("name", "marked_length"),
    [("x", len(MARKER) + 2), ("n" * NAME_LIMIT, NAME_LIMIT), ("n" * (NAME_LIMIT + 1), NAME_LIMIT + 1)],
    ids=["short", "at maxLength", "past maxLength"],
)
def test_a_marked_name_keeps_its_side_of_max_length(name: str, marked_length: int) -> None:
    case = _create_operation("action").Case(body={"action_type": "TRAINING", "name": name}, media_type="application/json")
    assert mark_case(case, MARKER).marked
    assert case.body["name"].startswith(f"{MARKER}-") and len(case.body["name"]) == marked_length


@pytest.mark.parametrize(
    ("segment", "body", "reason"),
    [
        ("action", ["not", "an", "object"], "not a JSON object"),
        ("action", {"action_type": "TRAINING", "name": 12}, "sends as generated"),
        ("action-session-date", {"data": 7}, "sends as generated"),
        ("certificate-action", {"certificate_id": str(uuid.uuid4())}, "no field to hold a marker"),
    ],
    ids=["array body", "name of another type", "data of another type", "certificate-action"],
)
def test_a_case_that_cannot_hold_the_marker_is_left_alone(segment: str, body: Any, reason: str) -> None:
    case = _create_operation(segment).Case(body=json.loads(json.dumps(body)), media_type="application/json")
    marking = mark_case(case, MARKER)
    assert not marking.marked and reason in marking.reason
    assert case.body == body


@pytest.mark.parametrize(
    ("data", "marked"),
    [
        ('{"a": [1, 2]}', '{"contract_run": "ct0123abcdst", "a": [1, 2]}'),
        (" {}", ' {"contract_run": "ct0123abcdst"}'),
        ("free text", 'free text {"contract_run": "ct0123abcdst"}'),
        (None, '{"contract_run": "ct0123abcdst"}'),
    ],
    ids=["object text", "empty object text", "other text", "null"],
)
def test_json_text_gets_the_marker_and_keeps_its_text(data: str | None, marked: str) -> None:
    case = _create_operation("action-session-date").Case(body={"data": data}, media_type="application/json")
    assert mark_case(case, MARKER).marked
    assert case.body["data"] == marked


# ---------------------------------------------------------------- a lost answer, against the target


@pytest.fixture
def st_created(target: Target) -> Iterator[CreatedEntities]:
    entities = CreatedEntities()
    yield entities
    assert not entities.cleanup(target)


def _create_case(target: Target, segment: str, body: Any) -> Any:
    schema = load_schema(target, suite_config(target), operation=("post", f"/v2/{segment}/create"))
    operation = schema.find_operation_by_label(f"POST /v2/{segment}/create")
    assert operation is not None
    # the token as the target takes it (a case built by hand gets no auth from the configuration)
    if target.auth_mode is AuthMode.QUERY:
        return operation.Case(body=body, media_type="application/json", query={"access-token": target.token})
    return operation.Case(body=body, media_type="application/json", headers={"Authorization": f"Bearer {target.token}"})


class LossyCalls:
    """`Case.call` replaced (for this test): each call does what the next step says (`send`: the
    request reaches the target; `lose`: its answer is then lost; `lose twice`: it reaches the
    target twice, as a gateway that retried on its own would send it, and the answer is lost;
    `refuse`: a 502 before anything reached the target)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *steps: str) -> None:
        self.real: Callable[..., Any] = schemathesis.Case.call
        self.steps = list(steps)
        self.sent = 0
        calls = self

        def call(case: schemathesis.Case, **kwargs: Any) -> Any:  # `Case` has slots: patched on the class
            return calls.call(case, **kwargs)

        monkeypatch.setattr(schemathesis.Case, "call", call)

    def call(self, case: schemathesis.Case, **kwargs: Any) -> Any:
        step = self.steps.pop(0) if self.steps else "send"
        if step == "refuse":
            return schemathesis.Response(status_code=502, headers={}, content=b"", request=requests.Request("POST", "http://gateway/").prepare(), elapsed=0.0, verify=True)
        for _ in range(2 if step == "lose twice" else 1):
            self.sent += 1
            response = self.real(case, **kwargs)
        if step.startswith("lose"):
            raise requests.ConnectionError("connection reset after the request was sent")
        return response


def _marked_entities(target: Target, segment: str, marker: str) -> list[dict[str, Any]]:
    """The entities whose name carries the marker (action, certificate)."""
    items, _ = ApiClient(target, marker).index_all(segment, {"name": marker})
    return items


@pytest.mark.writes
@pytest.mark.parametrize("segment", ["action", "certificate"])
def test_a_lost_answer_is_adopted_by_its_marker(
    api: ApiClient, target: Target, segment: str, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _create_case(target, segment, fresh_create_body(api, target, World(today=target.today()), segment))
    calls = LossyCalls(monkeypatch, "lose")
    response = call_reconciled(case, target, st_created)
    assert calls.sent == 1  # found, so never sent again
    assert response.status_code == 201
    entity_id = response.json()[f"{segment}_id"].lower()
    assert st_created.ids == {entity_id: segment}  # recorded: deleted at the end, its links followed
    assert [item[f"{segment}_id"].lower() for item in _marked_entities(target, segment, st_created.marker)] == [entity_id]
    assert len(ledger.reconciled) == 1 and f"found {segment} " in ledger.reconciled[0] and "by its marker" in ledger.reconciled[0]
    case.validate_response(response)  # the answer built from the view keeps the contract of a 201


@pytest.mark.writes
def test_a_lost_answer_with_nothing_behind_it_is_sent_again(
    api: ApiClient, target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _create_case(target, "action", fresh_create_body(api, target, World(today=target.today()), "action"))
    calls = LossyCalls(monkeypatch, "refuse")
    response = call_reconciled(case, target, st_created)
    assert response.status_code == 201 and calls.sent == 1  # the 502 came before the target saw it
    st_created.record(response, case)  # as the Schemathesis tests do
    assert [item["action_id"].lower() for item in _marked_entities(target, "action", st_created.marker)] == list(st_created.ids)
    assert ledger.reconciled == ["POST /v2/action/create: 502: nothing was created, sent again (Schemathesis)"]


@pytest.mark.writes
def test_two_entities_behind_a_lost_answer_are_recorded_and_fail_the_case(
    api: ApiClient, target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _create_case(target, "action", fresh_create_body(api, target, World(today=target.today()), "action"))
    LossyCalls(monkeypatch, "lose twice")
    with pytest.raises(ReconcileError, match=r"POST /v2/action/create: the answer was lost .* 2 entities this run did not know"):
        call_reconciled(case, target, st_created)
    found = {item["action_id"].lower() for item in _marked_entities(target, "action", st_created.marker)}
    assert len(found) == 2 and set(st_created.ids) == found  # both deleted at the end


@pytest.mark.writes
def test_an_unmarked_lost_answer_is_found_under_a_parent_of_the_run(
    api: ApiClient, target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api.scope():
        body = fresh_create_body(api, target, World(today=target.today()), "certificate-action")
        st_created.add("certificate", body["certificate_id"])  # as if a Schemathesis case had made it
        case = _create_case(target, "certificate-action", body)
        calls = LossyCalls(monkeypatch, "lose")
        response = call_reconciled(case, target, st_created)
        assert calls.sent == 1 and response.status_code == 201
        link_id = response.json()["certificate_action_id"].lower()
        assert st_created.knows("certificate-action", link_id)
        assert "by its parent" in ledger.reconciled[0]


@pytest.mark.writes
def test_an_unmarked_lost_answer_without_a_parent_of_the_run_fails_naming_the_case(
    api: ApiClient, target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api.scope():
        body = fresh_create_body(api, target, World(today=target.today()), "certificate-action")
        case = _create_case(target, "certificate-action", body)
        calls = LossyCalls(monkeypatch, "lose")
        with pytest.raises(UnreconciledCreate, match=r"POST /v2/certificate-action/create: the answer was lost .* carries no run marker") as raised:
            call_reconciled(case, target, st_created)
        assert calls.sent == 1  # never sent blindly again
        assert body["certificate_id"] in str(raised.value)
        # what it made goes with the scope's certificate (a force delete)




@pytest.mark.writes
def test_an_unmarked_lost_answer_of_a_body_the_spec_refuses_is_sent_again(
    target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _create_case(target, "certificate-action", {"certificate_id": 5, "action_id": str(uuid.uuid4())})
    calls = LossyCalls(monkeypatch, "lose")
    response = call_reconciled(case, target, st_created)
    assert calls.sent == 2 and 400 <= response.status_code < 500
    assert ledger.reconciled == ["POST /v2/certificate-action/create: ConnectionError: a body the spec refuses makes nothing, sent again (Schemathesis)"]


@pytest.mark.writes
def test_a_2xx_to_a_refused_body_sent_again_fails_naming_the_case(
    api: ApiClient, target: Target, st_created: CreatedEntities, ledger: transport.RequestLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that takes what its spec refuses: the resend's entity is recorded, the first
    try's may exist unseen, and the test says so."""
    with api.scope() as scope:
        body = {**fresh_create_body(api, target, World(today=target.today()), "action"), "name": f"{scope.marker}-refused"}
        case = _create_case(target, "action", body)
        monkeypatch.setattr(st_reconcile, "mark_case", lambda case, marker: st_reconcile.Marking(False, "left unmarked by this test"))
        monkeypatch.setattr(st_reconcile, "refused_by_the_spec", lambda case: True)
        LossyCalls(monkeypatch, "lose")
        with pytest.raises(UnreconciledCreate, match=r"POST /v2/action/create: answered 201 to a body the spec refuses"):
            call_reconciled(case, target, st_created)
        made, _ = api.index_all("action", {"name": scope.marker})
        assert len(made) == 2 and len(st_created.ids) == 1 and st_created.knows("action", made[0]["action_id"]) != st_created.knows("action", made[1]["action_id"])
        for item in made:  # the one the run could not know, deleted here by its scope's marker
            if not st_created.knows("action", item["action_id"]):
                assert target.request("DELETE", f"/v2/action/delete/{item['action_id']}", params={"force": "true"}).status_code == 204


def test_the_same_id_in_two_resources_is_two_entities_of_the_run() -> None:
    """A create may name its own id, and Schemathesis sends the same generated uuid to several
    resources: both entities are the run's, and both are deleted at the end."""
    created = CreatedEntities()
    shared_id = "e3e70682-c209-1cac-a29f-6fbed82c07cd"
    created.add("action-session", shared_id.upper())
    created.add("action-session-date", shared_id)
    assert created.knows("action-session", shared_id) and created.knows("action-session-date", shared_id)
    deleted: list[str] = []

    class Recorder:
        def request(self, method: str, path: str, **kwargs: Any) -> Any:
            deleted.append(path)
            return types.SimpleNamespace(status_code=204)

    assert created.cleanup(Recorder()) == []  # type: ignore[arg-type]
    assert deleted == [f"/v2/action-session-date/delete/{shared_id}", f"/v2/action-session/delete/{shared_id}"]
