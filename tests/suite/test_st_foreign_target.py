"""On a server others use, the state machine's updates and deletes of ids the run did not create
name, in their place, a uuid that names nothing (`CreatedEntities.drop_foreign_target`): the step
is sent (no Hypothesis rejection after the scenario's creates), and nobody else's entity changes."""

from __future__ import annotations

import functools
import uuid

import pytest
import schemathesis
from mock_server.spec import load_spec

from contract.support.st_checks import CreatedEntities

SEED_ACTION = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"  # the spec's example action: someone else's


@functools.cache
def _schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(load_spec(), config=schemathesis.Config())


def _case(label: str, entity_id: str) -> schemathesis.Case:
    operation = _schema().find_operation_by_label(label)
    assert operation is not None, label
    return operation.Case(path_parameters={"id": entity_id})


@pytest.mark.parametrize("label", ["PUT /v2/action/update/{id}", "DELETE /v2/action/delete/{id}"])
@pytest.mark.parametrize("written", [SEED_ACTION, SEED_ACTION.upper(), f" {SEED_ACTION}"], ids=["as is", "upper case", "padded"])
def test_a_foreign_id_becomes_one_that_names_nothing(label: str, written: str) -> None:
    created = CreatedEntities()
    case = _case(label, written)
    assert created.drop_foreign_target(case)
    sent = case.path_parameters["id"]
    assert uuid.UUID(sent) and sent.lower() != SEED_ACTION
    again = _case(label, written)
    created.drop_foreign_target(again)
    assert again.path_parameters["id"] == sent  # derived from the marker: a replay sends the same


@pytest.mark.parametrize("label", ["PUT /v2/action/update/{id}", "DELETE /v2/action/delete/{id}", "GET /v2/action/view/{id}"])
def test_an_own_id_and_a_read_are_sent_as_they_are(label: str) -> None:
    created = CreatedEntities()
    own = str(uuid.uuid4())
    created.add("action", own)
    case = _case(label, own)
    assert not created.drop_foreign_target(case)
    assert case.path_parameters["id"] == own
    read = _case("GET /v2/action/view/{id}", SEED_ACTION)
    assert not created.drop_foreign_target(read) and read.path_parameters["id"] == SEED_ACTION


def test_an_id_that_is_no_uuid_names_nobody_and_stays() -> None:
    case = _case("DELETE /v2/action/delete/{id}", "not-an-id")
    assert not CreatedEntities().drop_foreign_target(case)
    assert case.path_parameters["id"] == "not-an-id"
