"""The update values of `test_each_field_an_update_sends_is_stored`: each field's draw differs
from what is stored without any rejection (`changed_from`), and its two spares are distinct
bodies the spec accepts."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from mock_server.spec import load_spec

from contract.support.scoping import SEGMENTS
from contract.support.update_values import FieldValues, changed_from, comparable_stored, update_field_values

MARKER = "ct0123abcdst"
TODAY = dt.date(2026, 6, 15)
FIELDS = [(segment, name) for segment in SEGMENTS for name in update_field_values(segment, MARKER, TODAY)]


@functools.cache
def _update_validator(segment: str) -> jsonschema.Draft4Validator:
    schema = schemathesis.openapi.from_dict(load_spec(), config=schemathesis.Config())
    operation = schema.find_operation_by_label(f"PUT /v2/{segment}/update/{{id}}")
    assert operation is not None, segment
    return jsonschema.Draft4Validator(operation.get_body_for_media_type("application/json").validation_schema)


def _field(segment: str, name: str) -> FieldValues:
    return update_field_values(segment, MARKER, TODAY)[name]


@pytest.mark.parametrize(("segment", "name"), FIELDS)
def test_the_spares_are_two_distinct_bodies_the_spec_accepts(segment: str, name: str) -> None:
    first, second = _field(segment, name).spares
    assert comparable_stored(segment, first) != comparable_stored(segment, second)
    for spare in (first, second):
        errors = [error.message for error in _update_validator(segment).iter_errors(spare)]
        assert not errors, (spare, errors)


@pytest.mark.parametrize(("segment", "name"), FIELDS)
@given(data=st.data())
def test_a_changed_value_never_sends_what_is_stored(segment: str, name: str, data: st.DataObject) -> None:
    field = _field(segment, name)
    # the worst cases are the spares themselves stored, and any drawn value stored
    stored_body: dict[str, Any] = data.draw(st.sampled_from(field.spares) | field.values, label="stored")
    stored = comparable_stored(segment, stored_body)
    sent = data.draw(changed_from(segment, field, stored), label="sent")
    assert comparable_stored(segment, sent) != {k: stored.get(k) for k in sent}
