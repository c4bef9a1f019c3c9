"""Values at the edges of the spec, sent on purpose: integers at their bounds and one past them,
the first and last day of the calendar, strings of maxLength characters and one more.

Random generation reaches these only by luck (the robustness issue: `validity` 7975 or more on an
action linked to a certificate answered 500 and left the mock unable to answer its certificates).
Every edge is sent as an update of an entity of the run, linked where a derived expiry depends on
it, and each is judged: stored (a later view shows it), or refused as the rules say, and the
server still answers views and indexes of what it touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .support import rules, spec_view
from .support.client import ApiClient
from .support.oracle import World
from .support.resources import BY_SEGMENT, MarkerPlacement, id_field
from .support.samples import fresh_create_body
from .support.scoping import SEGMENTS
from .support.target import Target
from .support.update_values import comparable_stored

FIRST_DAY, LAST_DAY = "0001-01-01", "9999-12-31"
# A session date keeps its end after its begin: the far begin goes back, the far end forward.
FAR_DATE_TIMES = {"date_begin": "0001-01-01T00:00:00", "date_end": "9999-12-31T23:59:59"}


@dataclass(frozen=True)
class Edge:
    field: str
    value: Any
    within_spec: bool
    refusable_by: tuple[str, ...] = ()  # the fields a 422 may name (empty: the value must be stored)

    @property
    def label(self) -> str:
        shown = f"{len(self.value)} chars" if isinstance(self.value, str) and len(self.value) > 20 else repr(self.value)
        return f"{self.field}={shown}"


def _long_text(segment: str, name: str, length: int, marker: str) -> str:
    """`length` characters; a marker field keeps the run marker in front, so the run still finds it."""
    resource = BY_SEGMENT[segment]
    prefix = f"{marker}-" if resource.marker_field == name and resource.marker_placement is MarkerPlacement.PREFIX else ""
    return prefix + "x" * (length - len(prefix))


def edges(segment: str, marker: str) -> Iterator[Edge]:
    """The edges of every field a client may change, read from the spec's schema of the fields."""
    fields = spec_view.sendable_fields(segment)
    # a far date may put another date of the entity out of order (date_expire before date_release)
    dates = tuple(name for name, prop in fields.items() if prop.get("format") in ("date", "date-time"))
    for name, prop in fields.items():
        if prop.get("format") == "uuid" or prop.get("enum") is not None or prop.get("readOnly"):
            continue
        if prop.get("type") == "integer":
            for bound, step in (("maximum", 1), ("minimum", -1)):
                if prop.get(bound) is not None:
                    yield Edge(name, prop[bound], True, refusable_by=(name,))
                    yield Edge(name, prop[bound] + step, False)
        elif prop.get("format") == "date":
            yield Edge(name, LAST_DAY, True, refusable_by=dates)
            yield Edge(name, FIRST_DAY, True, refusable_by=dates)
        elif prop.get("format") == "date-time" and name in FAR_DATE_TIMES:
            yield Edge(name, FAR_DATE_TIMES[name], True, refusable_by=dates)
        elif prop.get("type") == "string" and prop.get("maxLength") is not None and prop.get("format") is None:
            yield Edge(name, _long_text(segment, name, prop["maxLength"], marker), True)
            yield Edge(name, _long_text(segment, name, prop["maxLength"] + 1, marker), False)


def _linked_entity(api: ApiClient, target: Target, world: World, segment: str) -> tuple[str, list[tuple[str, str]]]:
    """An entity of the kind, and the entities whose answers depend on it (a certificate linked
    to the action, the certificate of a link), which must still answer after each edge."""
    if segment == "action":
        link = api.create_ok("certificate-action", fresh_create_body(api, target, world, "certificate-action"))
        return str(link["action_id"]), [("certificate", str(link["certificate_id"])), ("certificate-action", str(link["certificate_action_id"]))]
    entity = api.create_ok(segment, fresh_create_body(api, target, world, segment))
    entity_id = str(entity[id_field(segment)])
    if segment == "certificate":
        link_body = fresh_create_body(api, target, world, "certificate-action")
        link = api.create_ok("certificate-action", {**link_body, "certificate_id": entity_id})
        return entity_id, [("certificate-action", str(link["certificate_action_id"]))]
    if segment == "certificate-action":
        return entity_id, [("certificate", str(entity["certificate_id"]))]
    return entity_id, []


@pytest.mark.writes
@pytest.mark.parametrize("segment", SEGMENTS)
def test_edge_values_are_stored_or_refused_as_documented(api: ApiClient, target: Target, segment: str) -> None:
    with api.scope() as scope:
        world = World(today=target.today())
        entity_id, dependents = _linked_entity(api, target, world, segment)
        for edge in edges(segment, scope.marker):
            before = api.view_ok(segment, entity_id)
            answer = api.update(segment, entity_id, {edge.field: edge.value})
            viewed = api.view(segment, entity_id)
            rules.success_status(viewed.exchange, 200)
            if not edge.within_spec:
                rules.malformed_input_is_400(answer.exchange, [edge.field])
                rules.rejected_request_changes_nothing(before, viewed.body, [answer.exchange, viewed.exchange])
            else:
                rules.edge_value_stored_or_refused(answer.exchange, edge.field, edge.refusable_by)
                if answer.status == 200:
                    sent = comparable_stored(segment, {edge.field: edge.value})
                    rules.update_is_stored(comparable_stored(segment, viewed.body, sent), sent, [answer.exchange, viewed.exchange])
                else:
                    rules.rejected_request_changes_nothing(before, viewed.body, [answer.exchange, viewed.exchange])
            for dependent_segment, dependent_id in dependents:
                # what depends on it still answers (a 5xx here fails `no_server_error`)
                rules.success_status(api.view(dependent_segment, dependent_id).exchange, 200)
            rules.success_status(api.index(segment, {"per-page": 1}).exchange, 200)
            if answer.status == 200:
                # back to the stored values, so that the next edge starts from a valid entity
                restore = {k: v for k, v in before.items() if k == edge.field}
                rules.success_status(api.update(segment, entity_id, restore).exchange, 200)
