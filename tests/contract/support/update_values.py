"""Partial update bodies that break no rule, and how stored fields compare before and after."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import strategies as st

from . import spec_view
from .resources import MARKER_JSON_KEY
from .scenarios import LABEL_ALPHABET, VALIDITY_UNITS

FREE_TEXT = st.text(LABEL_ALPHABET + " ", min_size=1, max_size=20)


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


def _json_texts() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.dictionaries(st.text(LABEL_ALPHABET, min_size=1, max_size=5), st.integers(0, 99), max_size=3).map(json.dumps))


def _marked_json_text(marker: str) -> st.SearchStrategy[str]:
    return st.dictionaries(st.text(LABEL_ALPHABET, min_size=1, max_size=5), st.integers(0, 99), max_size=2).map(
        lambda extra: json.dumps({**extra, MARKER_JSON_KEY: marker})
    )


def _marked_object(marker: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(["teacher", "supplier", "location"]), st.text(LABEL_ALPHABET, min_size=1, max_size=8), max_size=2).map(
        lambda extra: {**extra, MARKER_JSON_KEY: marker}
    )


def _marked_name(marker: str) -> st.SearchStrategy[str]:
    return st.text(LABEL_ALPHABET, min_size=1, max_size=6).map(lambda label: f"{marker}-{label}")


def _days_after(day: dt.date) -> st.SearchStrategy[str]:
    return st.integers(0, 900).map(lambda n: (day + dt.timedelta(days=n)).isoformat())


def _date_pair(today: dt.date) -> st.SearchStrategy[dict[str, str]]:
    def pair(offset: int, span: int) -> dict[str, str]:
        begin = dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(9, 0))
        end = begin + dt.timedelta(days=span, hours=8)
        return {"date_begin": begin.isoformat(timespec="seconds"), "date_end": end.isoformat(timespec="seconds")}

    return st.builds(pair, st.integers(-30, 30), st.integers(0, 3))


def update_field_values(segment: str, marker: str, today: dt.date) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """For each field a client may change: bodies that send that field alone (the two dates of a
    session date together, so that the end never falls before the begin)."""
    fields = _changeable_fields(segment, marker, today)
    bodies = {name: strategy.map(lambda value, name=name: {name: value}) for name, strategy in fields.items()}
    if segment == "action-session-date":
        bodies["date_begin/date_end"] = _date_pair(today)
    return bodies


def _changeable_fields(segment: str, marker: str, today: dt.date) -> dict[str, st.SearchStrategy[Any]]:
    """The fields a client may change on an entity created by `fresh_create_body` (released
    today, so any expiry from today on is valid), each with its values; names and data keep the
    run marker."""
    validity = st.one_of(st.none(), st.integers(1, 10))
    unit = st.one_of(st.none(), st.sampled_from(VALIDITY_UNITS))
    optional: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "action": {
            "code": st.one_of(st.none(), st.text(LABEL_ALPHABET, min_size=1, max_size=8)),
            "name": _marked_name(marker),
            "description": st.one_of(st.none(), FREE_TEXT),
            "validity": validity,
            "validity_unit": unit,
            "expire_interval": st.one_of(st.none(), st.integers(0, 90)),
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
            "note": st.one_of(st.none(), FREE_TEXT),
            "warning": st.one_of(st.none(), st.sampled_from([0, 1])),
            "validity": validity,
            "validity_unit": unit,
            "date_expire": _days_after(today),
            "data": _marked_object(marker),
        },
        "action-subscription": {"data": _marked_json_text(marker)},
        "action-session-subscription": {
            "done": st.sampled_from([-1, 0, 1]),
            "warning": st.one_of(st.none(), st.sampled_from([0, 1])),
            "data": _marked_json_text(marker),
        },
        "certificate-action": {"date_expire": _days_after(today)},
    }
    return {name: strategy for name, strategy in optional[segment].items() if spec_view.has_field(segment, name)}


def update_bodies(segment: str, marker: str, today: dt.date) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the fields a client may change on an entity created by `fresh_create_body`
    (released today, so any expiry from today on is valid). Names and data keep the run marker."""
    bodies = st.fixed_dictionaries({}, optional=_changeable_fields(segment, marker, today))
    if segment == "action-session-date":
        # begin and end move together, so that the end never falls before the begin
        return st.tuples(bodies, st.one_of(st.just({}), _date_pair(today))).map(lambda parts: {**parts[0], **parts[1]})
    return bodies
