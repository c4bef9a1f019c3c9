"""How an index query is confined to one scenario's entities, and which filters the model can predict."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import oracle
from .build import BuiltForest
from .contract import segments
from .oracle import World

SEGMENTS = segments()  # the spec's resources, for the tests


@dataclass(frozen=True)
class Scoped:
    filter: dict[str, Any]
    ids: list[str]  # what the filter must select: exactly the scenario's entities it covers


def scoped(segment: str, built: BuiltForest, marker: str) -> Scoped:
    """A filter that selects the scenario's entities only (by marker, or by an own parent's id)."""
    world = built.world
    first_action = built.trees[0].action_id
    if segment == "action":
        return Scoped({"name": marker}, list(world.actions))
    if segment == "action-session":
        return Scoped({"action_id": first_action}, [s.id for s in world.sessions.values() if s.action_id == first_action])
    if segment == "certificate":
        return Scoped({"name": marker}, list(world.certificates))
    if segment == "certificate-action":
        # a computed field, searched as free text
        return Scoped({"certificate_name": marker}, list(world.links))
    # The marker sits in `data`, JSON text searched as free text. A filter value of a `format: json`
    # field must itself be JSON text: the marker as a JSON string literal is, and it is a substring.
    return Scoped({"data": json.dumps(marker)}, list(world.table(segment)))


class Match(Enum):
    EXACT = "exact"
    TEXT = "text"  # case-insensitive substring


@dataclass(frozen=True)
class FilterField:
    name: str
    match: Match
    value_of: Callable[[World, str], Any]


def _attr(segment: str, name: str) -> Callable[[World, str], Any]:
    return lambda world, entity_id: getattr(world.table(segment)[entity_id], name)


def _action_count(name: str) -> Callable[[World, str], Any]:
    return lambda world, entity_id: oracle.action_counts(world, entity_id)[name]


def _session_field(name: str) -> Callable[[World, str], Any]:
    return lambda world, entity_id: oracle.predicted_session(world, entity_id)[name]


FILTERS: dict[str, tuple[FilterField, ...]] = {
    "action": (
        FilterField("action_type", Match.EXACT, _attr("action", "action_type")),
        FilterField("code", Match.TEXT, _attr("action", "code")),
        FilterField("validity", Match.EXACT, _attr("action", "validity")),
        FilterField("expire_interval", Match.EXACT, _attr("action", "expire_interval")),
        FilterField("countSubscribed", Match.EXACT, _action_count("countSubscribed")),
        FilterField("countValid", Match.EXACT, _action_count("countValid")),
        FilterField("countScheduled", Match.EXACT, _action_count("countScheduled")),
        FilterField("countToDo", Match.EXACT, _action_count("countToDo")),
    ),
    "action-session": (
        FilterField("count_subscribed", Match.EXACT, _session_field("count_subscribed")),
        FilterField("count_unknown", Match.EXACT, _session_field("count_unknown")),
        FilterField("date_begin", Match.EXACT, _session_field("date_begin")),
        FilterField("date_end", Match.EXACT, _session_field("date_end")),
    ),
    "action-session-date": (
        FilterField("action_session_id", Match.EXACT, _attr("action-session-date", "session_id")),
        FilterField("action_id", Match.EXACT, lambda world, i: world.sessions[world.dates[i].session_id].action_id),
        FilterField("date_begin", Match.EXACT, _attr("action-session-date", "date_begin")),
    ),
    "certificate": (
        FilterField("resource_id", Match.EXACT, _attr("certificate", "resource_id")),
        FilterField("action_type", Match.EXACT, _attr("certificate", "action_type")),
        FilterField("date_release", Match.EXACT, lambda world, i: world.certificates[i].date_release.isoformat()),
        FilterField("date_expire", Match.EXACT, lambda world, i: oracle.predicted_certificate(world, i)["date_expire"]),
        FilterField("subtenant_id", Match.EXACT, lambda world, i: oracle.predicted_certificate(world, i)["subtenant_id"]),
    ),
    "action-subscription": (
        FilterField("status", Match.EXACT, lambda world, i: oracle.subscription_status(world, i)),
        FilterField("subscriber_id", Match.EXACT, _attr("action-subscription", "subscriber_id")),
        FilterField("action_id", Match.EXACT, _attr("action-subscription", "action_id")),
    ),
    "action-session-subscription": (
        FilterField("done", Match.EXACT, _attr("action-session-subscription", "done")),
        FilterField("action_session_id", Match.EXACT, _attr("action-session-subscription", "session_id")),
        FilterField("action_subscription_id", Match.EXACT, _attr("action-session-subscription", "subscription_id")),
    ),
    "certificate-action": (
        FilterField("is_date_inherited", Match.EXACT, lambda world, i: oracle.predicted_link(world, i)["is_date_inherited"]),
        FilterField("date_expire", Match.EXACT, lambda world, i: oracle.predicted_link(world, i)["date_expire"]),
        FilterField("certificate_id", Match.EXACT, _attr("certificate-action", "certificate_id")),
        FilterField("resource_id", Match.EXACT, lambda world, i: world.certificates[world.links[i].certificate_id].resource_id),
    ),
}


def matches(field: FilterField, value: Any, needle: Any) -> bool:
    if field.match is Match.TEXT:
        return oracle.text_matches(value, str(needle))
    return value == needle
