"""A scenario whose values sit on the edges of every filter and sort, and the filter values at
those edges, read from the spec.

`edge_forests` draws the values (labels, codes, units, amounts, days); the shape is fixed so that
every example holds, whatever was drawn: integers of 0 and not 0, nulls and values, an empty
code, equal values on several entities (ties, decided by id), the outcomes -1, 0 and 1, and
`date_expire` stored, derived from the certificate's own validity, from its first link's action
(a validity of 0 included), inherited by links, null, and a stored value equal to a derived one.
Every date compared with today keeps `margin` days (plus the expire interval) away from it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from . import oracle, spec_view
from .build import (
    BuiltForest,
    BuiltTree,
    create_action,
    create_certificate,
    create_date,
    create_enrollment,
    create_link,
    create_session,
    create_subscription,
)
from .client import ApiClient
from .filter_semantics import match_kind
from .oracle import World
from .resources import BY_SEGMENT, MARKER_JSON_KEY, MarkerPlacement, id_field
from .scenarios import (
    ACTION_TYPES,
    ActionSpec,
    CertificateSpec,
    DateSpec,
    Room,
    Validity,
    labels,
)
from .scoping import FILTERS
from .target import Target

ENROLLMENT = "action-session-subscription"


# ---------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class EdgeForest:
    """Actions M (two subscribers, three sessions), V (validity > 0, two subscribers), B (bare),
    E (bare, empty code); five certificates of two resources, five links."""

    action_type: str
    main: ActionSpec
    validity_bearing: ActionSpec
    bare: ActionSpec
    empty_code: ActionSpec | None  # None when the spec does not allow an empty code
    first_day: dt.date  # of the scheduled sessions, after today
    second_day: dt.date
    valid: CertificateSpec  # r0, stored expiry after today: M/r0 VALID or EXPIRING
    expired: CertificateSpec  # r0, own validity, derived expiry before today: V/r0 EXPIRED
    inherits: CertificateSpec  # r0, no expiry of its own: derived from V's validity
    null_expiry: CertificateSpec  # r1, linked to B (no validity): no expiry at all
    zero: CertificateSpec  # r1, linked first to M (validity 0): expiry = release, before today
    tie: CertificateSpec  # r1, not linked, stored expiry = inherits' derived one, release = valid's


def _past(today: dt.date, margin: int) -> st.SearchStrategy[dt.date]:
    return st.integers(margin + 1, margin + 400).map(lambda days: today - dt.timedelta(days=days))


@st.composite
def edge_forests(draw: st.DrawFn, room: Room) -> EdgeForest:
    today, margin = room.today, room.margin
    action_type = draw(st.sampled_from(ACTION_TYPES), label="action type")
    code = draw(labels(), label="shared code")
    zero_unit = draw(st.sampled_from(("DAY", "MONTH", "YEAR")), label="unit of validity 0")
    interval = draw(st.integers(1, 30), label="expire interval")
    main = ActionSpec(action_type, draw(labels()), code, Validity(0, zero_unit), 0)
    bare = ActionSpec(action_type, draw(labels()), code, None, interval)  # a code tie with M
    validity = Validity(draw(st.integers(1, 400)), "DAY")
    validity_bearing = ActionSpec(action_type, draw(labels()), None, validity, None)
    allows_empty = spec_view.sendable_fields("action")["code"].get("minLength", 0) == 0
    empty_code = ActionSpec(action_type, draw(labels()), "", None, interval) if allows_empty else None
    first_day = today + dt.timedelta(days=draw(st.integers(margin + 1, margin + 60), label="first session day"))
    second_day = first_day + dt.timedelta(days=draw(st.integers(0, 5), label="second session day after"))
    released = draw(_past(today, margin), label="release of the valid certificate")
    valid_expiry = today + dt.timedelta(days=margin + 1 + draw(st.integers(0, 400)))
    valid = CertificateSpec(0, draw(labels()), released, valid_expiry, None)
    own = Validity(draw(st.integers(1, 30)), "DAY")
    expired_release = today - dt.timedelta(days=own.amount + margin + 1 + draw(st.integers(0, 300)))
    expired = CertificateSpec(0, draw(labels()), expired_release, None, own)
    # released at most its validity before `valid`: its derived expiry, which `tie` stores, is
    # not before `tie`'s release (the same as `valid`'s)
    inherits_release = released - dt.timedelta(days=draw(st.integers(0, validity.amount)))
    inherits = CertificateSpec(0, draw(labels()), inherits_release, None, None)
    null_expiry = CertificateSpec(1, draw(labels()), draw(_past(today, margin)), None, None)
    zero = CertificateSpec(1, draw(labels()), draw(_past(today, margin)), None, None)
    inherited_expiry = oracle.add_validity(inherits.date_release, validity.amount, validity.unit)
    tie = CertificateSpec(1, draw(labels()), released, inherited_expiry, None)
    return EdgeForest(action_type, main, validity_bearing, bare, empty_code, first_day, second_day, valid, expired, inherits, null_expiry, zero, tie)


def _day(day: dt.date, start: bool) -> dt.datetime:
    """The first or the last second of a day: a session's span takes the date part."""
    return dt.datetime.combine(day, dt.time(0, 0, 0) if start else dt.time(23, 59, 59))


def build_edge_forest(api: ApiClient, target: Target, forest: EdgeForest, today: dt.date) -> BuiltForest:
    """Create the scenario through the API, and its model (each answer judged as it comes)."""
    world = World(today=today)
    main = BuiltTree(create_action(api, target, world, forest.main))
    validity_bearing = BuiltTree(create_action(api, target, world, forest.validity_bearing))
    bare = BuiltTree(create_action(api, target, world, forest.bare))
    trees = [main, validity_bearing, bare]
    if forest.empty_code is not None:
        trees.append(BuiltTree(create_action(api, target, world, forest.empty_code)))
    for tree in (main, validity_bearing):
        tree.subscription_ids = [create_subscription(api, target, world, tree.action_id, r) for r in (0, 1)]
    scheduled, dateless, twin = (create_session(api, target, world, main.action_id) for _ in range(3))
    main.session_ids = [scheduled, dateless, twin]
    first = DateSpec(_day(forest.first_day, True), _day(forest.first_day, False))
    second = DateSpec(_day(forest.second_day, True), _day(forest.second_day, False))
    main.date_ids = [create_date(api, target, world, scheduled, first), create_date(api, target, world, scheduled, second)]
    main.date_ids.append(create_date(api, target, world, twin, first))  # the same texts: ties across sessions
    r0, r1 = main.subscription_ids
    for session_id, subscription_id, done in ((scheduled, r1, -1), (scheduled, r0, 1), (twin, r0, 0), (twin, r1, 1)):
        main.enrollment_ids.append(create_enrollment(api, target, world, session_id, subscription_id, done))
    certificates = {
        name: create_certificate(api, target, world, getattr(forest, name), forest.action_type)
        for name in ("valid", "expired", "inherits", "null_expiry", "zero", "tie")
    }
    expired_expiry = oracle.certificate_expiry(world, certificates["expired"])
    link_ids = [
        create_link(api, target, world, certificates["valid"], main.action_id, None),
        create_link(api, target, world, certificates["expired"], validity_bearing.action_id, None),
        # its own date equals the expiry the previous link inherits: a tie of stored and derived
        create_link(api, target, world, certificates["inherits"], validity_bearing.action_id, expired_expiry),
        create_link(api, target, world, certificates["null_expiry"], bare.action_id, None),
        create_link(api, target, world, certificates["zero"], main.action_id, None),
    ]
    return BuiltForest(world, trees, list(certificates.values()), link_ids)


# ---------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    """A filter that confines a query to entities of the run, and the ids it must select."""

    filter: dict[str, Any]
    ids: list[str]

    @property
    def field(self) -> str:
        return next(iter(self.filter))


def _marker_value(segment: str, name: str, marker: str) -> Any:
    return json.dumps(marker) if spec_view.is_json_text(segment, name) else {MARKER_JSON_KEY: marker}


def scopes(segment: str, built: BuiltForest, marker: str) -> list[Scope]:
    """The run's entities of a kind by marker (or, for links, by their certificates' names), then
    by a parent the run created: a filter on the marker's own field is confined by the other."""
    world = built.world
    ids = list(world.table(segment))
    main = built.trees[0]
    resource = BY_SEGMENT[segment]
    if segment == "certificate-action":
        return [Scope({"certificate_name": marker}, ids), Scope({"certificate_id": built.certificate_ids[0]}, [link.id for link in world.links.values() if link.certificate_id == built.certificate_ids[0]])]
    if resource.marker_placement is MarkerPlacement.PREFIX:
        return [Scope({resource.marker_field: marker}, ids)]  # the marker's own field: see `needles`
    by_marker = Scope({resource.marker_field: _marker_value(segment, resource.marker_field, marker)}, ids)  # type: ignore[arg-type]
    if segment == ENROLLMENT:
        session = main.session_ids[0]
        return [by_marker, Scope({"action_session_id": session}, [e.id for e in world.enrollments.values() if e.session_id == session])]
    of_main = [i for i in ids if _action_of(world, segment, i) == main.action_id]
    return [by_marker, Scope({"action_id": main.action_id}, of_main)]


def _action_of(world: World, segment: str, entity_id: str) -> str:
    if segment == "action-session-date":
        return world.sessions[world.dates[entity_id].session_id].action_id
    return str(world.table(segment)[entity_id].action_id)


def scope_for(field: str, options: Sequence[Scope]) -> Scope:
    return next((s for s in options if s.field != field), options[0])


# ---------------------------------------------------------------- what each field is, per the spec


ValueOf = Callable[[World, str], Any]


def model_value(segment: str, field: str) -> ValueOf | None:
    """The model's value of a filter or sort field, when the model knows it; else None (the field
    is then judged on the value answered for it, as reference data and fields the scenario never
    sets: stored, and checked as stored by the write rules)."""
    known = {f.name: f.value_of for f in FILTERS.get(segment, ())}
    if field in known:
        return known[field]
    sorted_by = oracle.SORT_VALUES.get(segment, {}).get(field)
    if sorted_by is not None:
        return sorted_by
    if field == id_field(segment):
        return lambda world, entity_id: entity_id
    return None


def values_of(segment: str, field: str, world: World, ids: Sequence[str], answered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each entity's value of a field: the model's, else the answered one."""
    known = model_value(segment, field)
    found: dict[str, Any] = {}
    for entity_id in ids:
        value = known(world, entity_id) if known else answered[entity_id].get(field)
        found[entity_id] = answered[entity_id].get(field) if isinstance(value, oracle.Same) else value
    return found


def _allowed(prop: dict[str, Any], value: Any) -> bool:
    if value is None:
        return bool(prop.get("nullable"))
    if "enum" in prop:
        return value in prop["enum"] and type(value) is type(prop["enum"][0])
    if prop.get("type") == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and prop.get("minimum", value) <= value <= prop.get("maximum", value)
    return True


def needles(segment: str, field: str, values: Sequence[Any], scope_field: str, marker: str) -> list[Any]:
    """The filter values at the edges of a field: 0, null, the empty string, false, the empty
    object where the spec allows them; the lowest and highest value present (and, for dates, the
    days just outside); a present text in another case."""
    prop = spec_view.properties(f"{spec_view.schema_name(segment)}Filter")[field]
    kind = match_kind(segment, field)
    present = [v for v in values if v is not None]
    if field == scope_field:  # the marker's own field: only values that keep the query in the run
        return [v.upper() for v in present if isinstance(v, str) and marker in v][:1]
    found: list[Any] = [None]
    if kind == "text":
        found.append("")
        found += [str(v).upper() for v in present[:1]]
    elif kind == "object":
        found.append({})
    elif prop.get("type") == "boolean":
        found += [False, True]
    else:
        if prop.get("type") == "integer":
            found.append(0)
        ordered = sorted({json.dumps(v, sort_keys=True) for v in present}, key=lambda text: oracle.sort_key(json.loads(text)))
        extremes = [json.loads(text) for text in (ordered[:1] + ordered[-1:])] if ordered else []
        found += extremes
        if prop.get("format") == "date" and extremes:
            low, high = dt.date.fromisoformat(extremes[0]), dt.date.fromisoformat(extremes[-1])
            found += [(low - dt.timedelta(days=1)).isoformat(), (high + dt.timedelta(days=1)).isoformat()]
    unique: list[Any] = []
    for value in found:
        if _allowed(prop, value) and value not in unique:
            unique.append(value)
    return unique
