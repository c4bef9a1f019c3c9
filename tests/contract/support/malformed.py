"""Strategies for values that break the spec (each must be answered 400, never 5xx)."""

from __future__ import annotations

import datetime as dt
import string
import uuid
from typing import Any

from hypothesis import strategies as st

ID_ALPHABET = string.ascii_letters + string.digits + "-_"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def malformed_ids() -> st.SearchStrategy[str]:
    """Path ids that are not uuids (and cannot change the route: no '/', '.', '?', '%')."""
    near_misses = st.sampled_from(["nope", "123", "c4d5e6f7-a8b9-0c1d-2e3f", "c4d5e6f7a8b90c1d2e3f4a5b6c7d8e9fzz", "g4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"])
    return st.one_of(near_misses, st.text(ID_ALPHABET, min_size=1, max_size=40)).filter(lambda t: not _is_uuid(t))


def malformed_uuid_values() -> st.SearchStrategy[Any]:
    return st.one_of(malformed_ids(), st.just(""), st.integers(), st.booleans(), st.just([]))


def malformed_dates() -> st.SearchStrategy[Any]:
    texts = st.sampled_from(["2024-13-01", "2024-02-30", "20240101", "tomorrow", "2024-1-1", "15/03/2024", ""])
    return st.one_of(texts, st.text(string.digits + "-/", max_size=12).filter(lambda t: not _is_date(t)), st.integers())


def malformed_date_times() -> st.SearchStrategy[Any]:
    return st.sampled_from(["2024-03-15 25:00:00", "2024-03-15T09:00:00+25:00", "yesterday", "2024-03-32T09:00:00", "", "2024-03-15T9:0"])


def malformed_integers() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(["ten", "1", ""]), st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()), st.booleans().map(str))


def malformed_enums(allowed: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(["NOT_A_VALUE", "", "training"]), st.text(string.ascii_uppercase + "_", min_size=1, max_size=12)).filter(lambda v: v not in allowed)

def malformed_value_for(prop: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """A strategy of values the property's schema rejects, or None when it has no format to break."""
    if "enum" in prop:
        return malformed_enums(prop["enum"])
    fmt = prop.get("format")
    if fmt == "uuid":
        return malformed_uuid_values()
    if fmt == "date":
        return malformed_dates()
    if "pattern" in prop:  # the spec's only patterned strings are its local date-times
        return malformed_date_times()
    if prop.get("type") == "integer":
        return malformed_integers()
    return None

def not_json_bodies() -> st.SearchStrategy[bytes]:
    return st.sampled_from([b"{", b"not json", b"{'a': 1}", b"[1, 2", b"\x00\x01"])
