"""An independent model of the API's semantics, for the entities a run created.

Given those entities and today, it predicts every computed field (counts, statuses, derived
dates), what a force delete removes, and how an index orders and pages them. It is written from
the rules alone and shares no code with any server.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rules import PREVIEW_TYPE_ORDER

VALID_STATUSES = ("VALID", "EXPIRING")


# ---------------------------------------------------------------- the entities


@dataclass
class ActionModel:
    id: str
    action_type: str
    name: str
    code: str | None
    validity: int | None
    validity_unit: str | None
    expire_interval: int | None
    subtenant_id: str
    tenant_id: str
    manager: str | None = None  # JSON text, as sent
    assignee: str | None = None
    watcher: str | None = None


PEOPLE = ("manager", "assignee", "watcher")


@dataclass
class SubscriptionModel:
    id: str
    action_id: str
    subscriber_id: str
    subscriber_type: str
    subtenant_id: str | None = None  # its own office and project, as sent (they name its directory values)
    tenant_id: str | None = None


@dataclass
class SessionModel:
    id: str
    action_id: str
    manager: str | None = None  # JSON text, as sent
    assignee: str | None = None
    watcher: str | None = None


@dataclass
class DateModel:
    id: str
    session_id: str
    date_begin: str  # date-time text as sent
    date_end: str
    subtenant_id: str | None = None  # its own office and project, as sent (they name its directory values)
    tenant_id: str | None = None


@dataclass
class EnrollmentModel:
    id: str
    session_id: str
    subscription_id: str
    done: int
    certificate_id: str | None = None


@dataclass
class CertificateModel:
    id: str
    name: str
    resource_id: str
    action_type: str
    date_release: dt.date
    date_expire: dt.date | None  # as given by the client
    validity: int | None
    validity_unit: str | None
    tenant_id: str


@dataclass
class LinkModel:
    id: str
    certificate_id: str
    action_id: str
    date_expire: dt.date | None  # as given by the client
    seq: int  # creation order: the first link of a certificate decides its derived fields


@dataclass
class World:
    today: dt.date
    actions: dict[str, ActionModel] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionModel] = field(default_factory=dict)
    sessions: dict[str, SessionModel] = field(default_factory=dict)
    dates: dict[str, DateModel] = field(default_factory=dict)
    enrollments: dict[str, EnrollmentModel] = field(default_factory=dict)
    certificates: dict[str, CertificateModel] = field(default_factory=dict)
    links: dict[str, LinkModel] = field(default_factory=dict)
    office_names: dict[str, str | None] = field(default_factory=dict)  # reference data, as answered
    # Directory values (names, types, an office's activity) as first answered, by what they are of:
    # ("office name", office id) -> value; the suite cannot know them, only that they agree
    directory_values: dict[tuple[str, str], Any] = field(default_factory=dict)
    _seq: Iterable[int] = field(default_factory=itertools.count, repr=False)

    def next_seq(self) -> int:
        return next(self._seq)  # type: ignore[call-overload]

    def table(self, segment: str) -> dict[str, Any]:
        return {
            "action": self.actions,
            "action-subscription": self.subscriptions,
            "action-session": self.sessions,
            "action-session-date": self.dates,
            "action-session-subscription": self.enrollments,
            "certificate": self.certificates,
            "certificate-action": self.links,
        }[segment]

    def all_keys(self) -> list[tuple[str, str]]:
        segments = ("action", "action-subscription", "action-session", "action-session-date", "certificate", "certificate-action", "action-session-subscription")
        return [(segment, entity_id) for segment in segments for entity_id in self.table(segment)]


# ---------------------------------------------------------------- dates


def add_validity(day: dt.date, amount: int, unit: str) -> dt.date:
    """N DAY, MONTH or YEAR later; a day of month that does not exist is clamped to the month's last."""
    if unit == "DAY":
        return day + dt.timedelta(days=amount)
    months = amount * (12 if unit == "YEAR" else 1)
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def date_part(date_time: str) -> str:
    return date_time[:10]


# ---------------------------------------------------------------- certificates and statuses


def first_link(world: World, certificate_id: str) -> LinkModel | None:
    links = [link for link in world.links.values() if link.certificate_id == certificate_id]
    return min(links, key=lambda link: link.seq) if links else None


def certificate_expiry(world: World, certificate_id: str) -> dt.date | None:
    certificate = world.certificates[certificate_id]
    if certificate.date_expire is not None:
        return certificate.date_expire
    if certificate.validity is not None and certificate.validity_unit is not None:
        return add_validity(certificate.date_release, certificate.validity, certificate.validity_unit)
    link = first_link(world, certificate_id)
    if link is not None:
        action = world.actions[link.action_id]
        if action.validity is not None and action.validity_unit is not None:
            return add_validity(certificate.date_release, action.validity, action.validity_unit)
    return None


def link_expiry(world: World, link: LinkModel) -> dt.date | None:
    return link.date_expire if link.date_expire is not None else certificate_expiry(world, link.certificate_id)


def status_for_expiry(expiry: dt.date | None, today: dt.date, expire_interval: int | None) -> str:
    if expiry is None:
        return "VALID"
    if expiry < today:
        return "EXPIRED"
    if expiry <= today + dt.timedelta(days=expire_interval or 0):
        return "EXPIRING"
    return "VALID"


def subscription_status(world: World, subscription_id: str) -> str:
    subscription = world.subscriptions[subscription_id]
    links = [
        link
        for link in world.links.values()
        if link.action_id == subscription.action_id
        and world.certificates[link.certificate_id].resource_id == subscription.subscriber_id
    ]
    if not links:
        return "NEW"
    expiries = [link_expiry(world, link) for link in links]
    # no expiry means never expires: it beats every date
    best = None if any(e is None for e in expiries) else max(e for e in expiries if e is not None)
    action = world.actions[subscription.action_id]
    return status_for_expiry(best, world.today, action.expire_interval)


# ---------------------------------------------------------------- sessions and actions


def session_span(world: World, session_id: str) -> tuple[str | None, str | None]:
    dates = [d for d in world.dates.values() if d.session_id == session_id]
    if not dates:
        return None, None
    begin = min(dates, key=lambda d: d.date_begin[:19]).date_begin
    end = max(dates, key=lambda d: d.date_end[:19]).date_end
    return date_part(begin), date_part(end)


def session_counts(world: World, session_id: str) -> dict[str, int]:
    outcomes = [e.done for e in world.enrollments.values() if e.session_id == session_id]
    return {
        "count_subscribed": len(outcomes),
        "count_done": outcomes.count(1),
        "count_fail": outcomes.count(0),
        "count_unknown": outcomes.count(-1),
    }


def is_scheduled(world: World, subscription_id: str) -> bool:
    """Enrolled, outcome not recorded, in a session of its action that ends today or later."""
    subscription = world.subscriptions[subscription_id]
    for enrollment in world.enrollments.values():
        if enrollment.subscription_id != subscription_id or enrollment.done != -1:
            continue
        session = world.sessions[enrollment.session_id]
        if session.action_id != subscription.action_id:
            continue
        _, end = session_span(world, session.id)
        if end is not None and dt.date.fromisoformat(end) >= world.today:
            return True
    return False


def action_counts(world: World, action_id: str) -> dict[str, int]:
    subscriptions = [s.id for s in world.subscriptions.values() if s.action_id == action_id]
    valid = [s for s in subscriptions if subscription_status(world, s) in VALID_STATUSES]
    scheduled = [s for s in subscriptions if s not in valid and is_scheduled(world, s)]
    return {
        "countSubscribed": len(subscriptions),
        "countValid": len(valid),
        "countScheduled": len(scheduled),
        "countToDo": len(subscriptions) - len(valid) - len(scheduled),
    }


# ---------------------------------------------------------------- predicted views


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def action_parent_fields(world: World, action_id: str) -> dict[str, Any]:
    action = world.actions[action_id]
    return {"action_code": action.code, "action_name": action.name, "action_type": action.action_type}


def predicted_session(world: World, session_id: str) -> dict[str, Any]:
    begin, end = session_span(world, session_id)
    return {**session_counts(world, session_id), "date_begin": begin, "date_end": end}


def predicted_certificate(world: World, certificate_id: str) -> dict[str, Any]:
    link = first_link(world, certificate_id)
    return {
        "date_expire": _iso(certificate_expiry(world, certificate_id)),
        "subtenant_id": world.actions[link.action_id].subtenant_id if link else None,
    }


def predicted_link(world: World, link_id: str) -> dict[str, Any]:
    link = world.links[link_id]
    return {"date_expire": _iso(link_expiry(world, link)), "is_date_inherited": 0 if link.date_expire is not None else 1}


# ---------------------------------------------------------------- fields copied from parents
#
# None when the parent is not in the model (a world of one just-created entity): not predicted.


def _fields_of_action(world: World, action_id: str | None) -> dict[str, Any] | None:
    return action_parent_fields(world, action_id) if action_id in world.actions else None


def session_parent_fields(world: World, session_id: str) -> dict[str, Any] | None:
    return _fields_of_action(world, world.sessions[session_id].action_id)


def subscription_parent_fields(world: World, subscription_id: str) -> dict[str, Any] | None:
    return _fields_of_action(world, world.subscriptions[subscription_id].action_id)


def date_parent_fields(world: World, date_id: str) -> dict[str, Any] | None:
    session = world.sessions.get(world.dates[date_id].session_id)
    copied = _fields_of_action(world, session.action_id) if session else None
    return {"action_id": session.action_id, **copied} if session and copied else None


def date_people(world: World, date_id: str) -> dict[str, Any] | None:
    """manager, assignee, watcher: the session's value when set, else the action's (JSON text)."""
    session = world.sessions.get(world.dates[date_id].session_id)
    action = world.actions.get(session.action_id) if session else None
    if session is None or action is None:
        return None
    return {name: getattr(session, name) if getattr(session, name) is not None else getattr(action, name) for name in PEOPLE}


def enrollment_parent_fields(world: World, enrollment_id: str) -> dict[str, Any] | None:
    session = world.sessions.get(world.enrollments[enrollment_id].session_id)
    copied = _fields_of_action(world, session.action_id) if session else None
    return {"action_type": copied["action_type"]} if copied else None


def link_parent_fields(world: World, link_id: str) -> dict[str, Any] | None:
    """A certificate-action copies its action's code, name and type and its certificate's
    resource, name and release date."""
    link = world.links[link_id]
    action = _fields_of_action(world, link.action_id)
    certificate = world.certificates.get(link.certificate_id)
    if action is None or certificate is None:
        return None
    return {
        **action,
        "resource_id": certificate.resource_id,
        "certificate_name": certificate.name,
        "date_release": certificate.date_release.isoformat(),
    }


# ---------------------------------------------------------------- a world of one created entity


def _date_or_none(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def world_of_created(segment: str, entity_id: str, body: Mapping[str, Any]) -> World | None:
    """What the model knows of an entity a create of `body` has just made, with nothing else
    known: nothing can hang below an entity that did not exist, so an action's counts, a session's
    counts and span and a certificate's derived fields follow from the body alone. None for the
    other kinds (their fields depend on parents the model does not know). No prediction made
    from it depends on today."""
    validity, unit = body.get("validity"), body.get("validity_unit")
    if not (validity is None or (isinstance(validity, int) and not isinstance(validity, bool))) or not (unit is None or isinstance(unit, str)):
        return None  # not a body the spec allows: nothing to predict from it
    world = World(today=dt.date.min)
    entity_id = entity_id.lower()
    if segment == "action":
        world.actions[entity_id] = ActionModel(
            entity_id, str(body.get("action_type")), str(body.get("name")), body.get("code"), body.get("validity"),
            body.get("validity_unit"), body.get("expire_interval"), str(body.get("subtenant_id")), str(body.get("tenant_id")),
        )
    elif segment == "action-session":
        world.sessions[entity_id] = SessionModel(entity_id, str(body.get("action_id", "")).lower())
    elif segment == "certificate":
        release = _date_or_none(body.get("date_release"))
        if release is None:
            return None
        world.certificates[entity_id] = CertificateModel(
            entity_id, str(body.get("name")), str(body.get("resource_id")), str(body.get("action_type")), release,
            _date_or_none(body.get("date_expire")), body.get("validity"), body.get("validity_unit"), str(body.get("tenant_id")),
        )
    else:
        return None
    return world


# ---------------------------------------------------------------- force delete


def children(world: World, segment: str, entity_id: str) -> list[tuple[str, str]]:
    """What deleting one entity deletes directly (the force-delete table)."""
    found: list[tuple[str, str]] = []
    if segment == "action":
        found += [("action-subscription", s.id) for s in world.subscriptions.values() if s.action_id == entity_id]
        found += [("action-session", s.id) for s in world.sessions.values() if s.action_id == entity_id]
        found += [("certificate-action", link.id) for link in world.links.values() if link.action_id == entity_id]
    elif segment == "action-session":
        found += [("action-session-date", d.id) for d in world.dates.values() if d.session_id == entity_id]
        found += [("action-session-subscription", e.id) for e in world.enrollments.values() if e.session_id == entity_id]
    elif segment == "certificate":
        found += [("certificate-action", link.id) for link in world.links.values() if link.certificate_id == entity_id]
    elif segment == "action-subscription":
        found += [("action-session-subscription", e.id) for e in world.enrollments.values() if e.subscription_id == entity_id]
    return found


def descendants(world: World, segment: str, entity_id: str) -> list[tuple[str, str]]:
    """Everything below the entity, in the preview's order: by type, then id."""
    seen: set[tuple[str, str]] = set()
    pending = children(world, segment, entity_id)
    while pending:
        key = pending.pop()
        if key not in seen:
            seen.add(key)
            pending += children(world, *key)
    return sorted(seen, key=lambda key: (PREVIEW_TYPE_ORDER.index(key[0]), key[1]))


def remove(world: World, segment: str, entity_id: str) -> list[tuple[str, str]]:
    """Apply a force delete to the model; answer every key removed (the entity first)."""
    removed = [(segment, entity_id), *descendants(world, segment, entity_id)]
    for kind, key in removed:
        world.table(kind).pop(key, None)
    if segment == "certificate":
        for enrollment in world.enrollments.values():
            if enrollment.certificate_id == entity_id:
                enrollment.certificate_id = None
    return removed


# ---------------------------------------------------------------- index: order and pages


@dataclass(frozen=True)
class Same:
    """A sort value that every entity of the scope shares (office name...): only ids decide."""


SAME = Same()


def sort_key(value: Any) -> tuple[int, Any]:
    # a null sorts as the lowest value; strings without regard to case (docs/DECISIONS.md, Search)
    if value is None:
        return (0, "")
    if isinstance(value, Same):
        return (1, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


def expected_order(rows: Sequence[tuple[str, Any]], sort: str | None) -> list[str]:
    """Ids ordered by sort value (null lowest, `-` descending), ties by id ascending."""
    by_id = sorted(rows, key=lambda row: row[0])
    if not sort:
        return [row[0] for row in by_id]
    descending = sort.startswith("-")
    ordered = sorted(by_id, key=lambda row: sort_key(row[1]), reverse=descending)  # stable: ties keep id order
    return [row[0] for row in ordered]


def page_slice(ordered_ids: Sequence[str], per_page: int, page: int) -> list[str]:
    start = (page - 1) * per_page
    return list(ordered_ids[start : start + per_page])


def page_count(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if total else 0


ValueOf = Callable[[World, str], Any]


def _from_table(segment: str, attribute: str) -> ValueOf:
    return lambda world, entity_id: getattr(world.table(segment)[entity_id], attribute)


def _same(world: World, entity_id: str) -> Same:
    return SAME


def _session_action(attribute: str) -> ValueOf:
    return lambda world, entity_id: getattr(world.actions[world.sessions[entity_id].action_id], attribute)


def _date_action(attribute: str) -> ValueOf:
    return lambda world, entity_id: getattr(world.actions[world.sessions[world.dates[entity_id].session_id].action_id], attribute)


# Sort values the model knows; fields shared by the whole scope (one project) are SAME. Office
# names are reference data: the model takes them as answered. A sort field missing here
# (subscriber names...) is not exercised against the model.
SORT_VALUES: dict[str, dict[str, ValueOf]] = {
    "action": {
        "code": _from_table("action", "code"),
        "name": _from_table("action", "name"),
        "action_type": _from_table("action", "action_type"),
        "office_name": lambda world, entity_id: world.office_names.get(world.actions[entity_id].subtenant_id),
        "project_name": _same,
    },
    "action-session": {
        "action_code": _session_action("code"),
        "action_name": _session_action("name"),
        "action_type": _session_action("action_type"),
        "date_begin": lambda world, entity_id: session_span(world, entity_id)[0],
        "date_end": lambda world, entity_id: session_span(world, entity_id)[1],
    },
    "action-session-date": {
        "date_begin": lambda world, entity_id: world.dates[entity_id].date_begin[:19],
        "date_end": lambda world, entity_id: world.dates[entity_id].date_end[:19],
        "action_code": _date_action("code"),
        "action_name": _date_action("name"),
        "action_type": _date_action("action_type"),
    },
    "certificate": {
        "date_release": lambda world, entity_id: world.certificates[entity_id].date_release.isoformat(),
        "date_expire": lambda world, entity_id: _iso(certificate_expiry(world, entity_id)),
        "name": _from_table("certificate", "name"),
        "action_type": _from_table("certificate", "action_type"),
    },
    "action-subscription": {
        "status": lambda world, entity_id: subscription_status(world, entity_id),
        "subscriber_type": _from_table("action-subscription", "subscriber_type"),
        "action_code": lambda world, entity_id: world.actions[world.subscriptions[entity_id].action_id].code,
        "action_name": lambda world, entity_id: world.actions[world.subscriptions[entity_id].action_id].name,
        "action_type": lambda world, entity_id: world.actions[world.subscriptions[entity_id].action_id].action_type,
    },
    "action-session-subscription": {
        "done": _from_table("action-session-subscription", "done"),
        "action_type": lambda world, entity_id: world.actions[world.sessions[world.enrollments[entity_id].session_id].action_id].action_type,
    },
    "certificate-action": {
        "date_expire": lambda world, entity_id: _iso(link_expiry(world, world.links[entity_id])),
        "action_code": lambda world, entity_id: world.actions[world.links[entity_id].action_id].code,
        "action_name": lambda world, entity_id: world.actions[world.links[entity_id].action_id].name,
        "action_type": lambda world, entity_id: world.actions[world.links[entity_id].action_id].action_type,
        "certificate_name": lambda world, entity_id: world.certificates[world.links[entity_id].certificate_id].name,
        "date_release": lambda world, entity_id: world.certificates[world.links[entity_id].certificate_id].date_release.isoformat(),
    },
}


def known_sort_fields(segment: str, allowed: Iterable[str]) -> list[str]:
    return [name for name in allowed if name in SORT_VALUES.get(segment, {})]


def sort_rows(world: World, segment: str, ids: Iterable[str], sort: str | None) -> list[tuple[str, Any]]:
    if not sort:
        return [(entity_id, None) for entity_id in ids]
    value_of = SORT_VALUES[segment][sort.lstrip("-")]
    return [(entity_id, value_of(world, entity_id)) for entity_id in ids]


def text_matches(value: str | None, needle: str) -> bool:
    """The search rule for free text: a case-insensitive substring."""
    return value is not None and needle.lower() in value.lower()


def ids_where(table: Mapping[str, Any], predicate: Callable[[Any], bool]) -> list[str]:
    return [entity_id for entity_id, entity in table.items() if predicate(entity)]


# ---------------------------------------------------------------- predictions that depend on an unknown today


def at_day(world: World, day: dt.date) -> World:
    """The same entities seen on another day (the tables are shared, not copied)."""
    return World(day, world.actions, world.subscriptions, world.sessions, world.dates, world.enrollments, world.certificates, world.links, world.office_names, world.directory_values)


@dataclass(frozen=True)
class Uncertain:
    """What the model cannot predict when the server's today may be `margin - 1` days off ours."""

    subscriptions: frozenset[str]
    actions: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.subscriptions or self.actions)


def uncertain(world: World, margin: int) -> Uncertain:
    days = [world.today + dt.timedelta(days=shift) for shift in range(-(margin - 1), margin)] if margin > 1 else []
    if not days:
        return Uncertain(frozenset(), frozenset())
    views = [at_day(world, day) for day in days]
    subscriptions = frozenset(s for s in world.subscriptions if len({subscription_status(v, s) for v in views}) > 1)
    actions = frozenset(
        a for a in world.actions if len({tuple(sorted(action_counts(v, a).items())) for v in views}) > 1
    )
    return Uncertain(subscriptions, actions)
