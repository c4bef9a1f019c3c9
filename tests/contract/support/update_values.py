"""Partial update bodies that break no rule, and how stored fields compare before and after."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from . import spec_view
from .resources import MARKER_JSON_KEY
from .scenarios import LABEL_ALPHABET, VALIDITY_UNITS

FREE_TEXT = st.text(LABEL_ALPHABET + " ", min_size=1, max_size=20)


@dataclass(frozen=True)
class FieldValues:
    """The values an update may send for one field, and two distinct ones of them (`spares`), so
    that a value other than the stored one is always at hand (`changed_from`)."""

    values: st.SearchStrategy[Any]
    spares: tuple[Any, Any]

    def map(self, send: Any) -> FieldValues:
        return FieldValues(self.values.map(send), (send(self.spares[0]), send(self.spares[1])))


def _nullable(values: st.SearchStrategy[Any], spare: Any) -> FieldValues:
    return FieldValues(st.one_of(st.none(), values), (None, spare))


def comparable_stored(segment: str, entity: Mapping[str, Any] | None, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The stored (sendable) fields of an answer or a body, JSON text parsed and uuids lowercased."""
    entity = entity or {}
    fields = spec_view.sendable_fields(segment)
    names = [k for k in (keys if keys is not None else entity) if k in fields]
    result = {}
    for name in names:
        value = entity.get(name)
        if isinstance(value, str) and spec_view.is_json_text(segment, name):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif isinstance(value, str) and fields[name].get("format") == "uuid":
            value = value.lower()
        result[name] = value
    return result


def _json_texts() -> FieldValues:
    objects = st.dictionaries(st.text(LABEL_ALPHABET, min_size=1, max_size=5), st.integers(0, 99), max_size=3)
    return _nullable(objects.map(json.dumps), json.dumps({}))


def _marked_json_text(marker: str) -> FieldValues:
    def marked(extra: dict[str, int]) -> str:
        return json.dumps({**extra, MARKER_JSON_KEY: marker})

    extras = st.dictionaries(st.text(LABEL_ALPHABET, min_size=1, max_size=5), st.integers(0, 99), max_size=2)
    return FieldValues(extras.map(marked), (marked({}), marked({LABEL_ALPHABET[0]: 0})))


def _marked_object(marker: str) -> FieldValues:
    def marked(extra: dict[str, str]) -> dict[str, Any]:
        return {**extra, MARKER_JSON_KEY: marker}

    extras = st.dictionaries(st.sampled_from(["teacher", "supplier", "location"]), st.text(LABEL_ALPHABET, min_size=1, max_size=8), max_size=2)
    return FieldValues(extras.map(marked), (marked({}), marked({"teacher": LABEL_ALPHABET[0]})))


def _marked_name(marker: str) -> FieldValues:
    def marked(label: str) -> str:
        return f"{marker}-{label}"

    return FieldValues(st.text(LABEL_ALPHABET, min_size=1, max_size=6).map(marked), (marked(LABEL_ALPHABET[0]), marked(LABEL_ALPHABET[1])))


def _days_after(day: dt.date) -> FieldValues:
    def after(n: int) -> str:
        return (day + dt.timedelta(days=n)).isoformat()

    return FieldValues(st.integers(0, 900).map(after), (after(0), after(1)))


def _date_pair(today: dt.date) -> FieldValues:
    def pair(offset: int, span: int) -> dict[str, str]:
        begin = dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(9, 0))
        end = begin + dt.timedelta(days=span, hours=8)
        return {"date_begin": begin.isoformat(timespec="seconds"), "date_end": end.isoformat(timespec="seconds")}

    return FieldValues(st.builds(pair, st.integers(-30, 30), st.integers(0, 3)), (pair(0, 0), pair(1, 0)))


def update_field_values(segment: str, marker: str, today: dt.date) -> dict[str, FieldValues]:
    """For each field a client may change: bodies that send that field alone (the two dates of a
    session date together, so that the end never falls before the begin)."""
    fields = _changeable_fields(segment, marker, today)
    bodies = {name: field.map(lambda value, name=name: {name: value}) for name, field in fields.items()}
    if segment == "action-session-date":
        bodies["date_begin/date_end"] = _date_pair(today)
    return bodies


def changed_from(segment: str, field: FieldValues, stored: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies of the field's values other than the stored ones (`stored`: `comparable_stored`
    of the entity). A drawn body that would send what is stored is replaced by a spare that
    differs from it (of two distinct spares, one does), so no draw is rejected once the entity
    exists."""

    def differs(body: dict[str, Any]) -> bool:
        return comparable_stored(segment, body) != {k: stored.get(k) for k in body}

    first, second = field.spares
    return field.values.map(lambda body: body if differs(body) else first if differs(first) else second)


def _changeable_fields(segment: str, marker: str, today: dt.date) -> dict[str, FieldValues]:
    """The fields a client may change on an entity created by `fresh_create_body` (released
    today, so any expiry from today on is valid), each with its values; names and data keep the
    run marker."""
    letter = LABEL_ALPHABET[0]
    validity = _nullable(st.integers(1, 10), 1)
    unit = _nullable(st.sampled_from(VALIDITY_UNITS), VALIDITY_UNITS[0])
    optional: dict[str, dict[str, FieldValues]] = {
        "action": {
            "code": _nullable(st.text(LABEL_ALPHABET, min_size=1, max_size=8), letter),
            "name": _marked_name(marker),
            "description": _nullable(FREE_TEXT, letter),
            "validity": validity,
            "validity_unit": unit,
            "expire_interval": _nullable(st.integers(0, 90), 0),
            "manager": _json_texts(),
            "assignee": _json_texts(),
            "watcher": _json_texts(),
            "data": _marked_json_text(marker),
        },
        "action-session": {
            "validity": validity,
            "validity_unit": unit,
            "manager": _json_texts(),
            "assignee": _json_texts(),
            "watcher": _json_texts(),
            "data": _marked_object(marker),
        },
        "action-session-date": {"data": _marked_json_text(marker)},
        "certificate": {
            "name": _marked_name(marker),
            "note": _nullable(FREE_TEXT, letter),
            "warning": _nullable(st.sampled_from([0, 1]), 0),
            "validity": validity,
            "validity_unit": unit,
            "date_expire": _days_after(today),
            "data": _marked_object(marker),
        },
        "action-subscription": {"data": _marked_json_text(marker)},
        "action-session-subscription": {
            "done": FieldValues(st.sampled_from([-1, 0, 1]), (-1, 0)),
            "warning": _nullable(st.sampled_from([0, 1]), 0),
            "data": _marked_json_text(marker),
        },
        "certificate-action": {"date_expire": _days_after(today)},
    }
    return {name: field for name, field in optional[segment].items() if spec_view.has_field(segment, name)}


def update_bodies(segment: str, marker: str, today: dt.date) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the fields a client may change on an entity created by `fresh_create_body`
    (released today, so any expiry from today on is valid). Names and data keep the run marker."""
    fields = _changeable_fields(segment, marker, today)
    bodies = st.fixed_dictionaries({}, optional={name: field.values for name, field in fields.items()})
    if segment == "action-session-date":
        # begin and end move together, so that the end never falls before the begin
        return st.tuples(bodies, st.one_of(st.just({}), _date_pair(today).values)).map(lambda parts: {**parts[0], **parts[1]})
    return bodies
