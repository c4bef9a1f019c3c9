"""The read-only fields the server derives, each from the rule in docs/DECISIONS.md and the
spec's descriptions (the README lists them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..resources import id_field
from ..storage import Row, Store
from .clock import Clock, add_period
from .directory import Directory
from .relations import LINKS_BY_ACTION_AND_SUBJECT

VALID_STATUSES = ("VALID", "EXPIRING")

# Stored fields whose answered value the server derives when the client left them empty.
DERIVED_WHEN_EMPTY: dict[str, frozenset[str]] = {
    "certificate": frozenset({"date_expire"}),
    "certificate-action": frozenset({"date_expire"}),
}


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None




class Derivations:
    def __init__(self, store: Store, directory: Directory, clock: Clock) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock
        # Per resource, groups of computed fields that are derived together, by the method that
        # derives them; a search that reads one field computes only its group (a status costs
        # more than a name).
        self._groups: dict[str, tuple[tuple[frozenset[str], str], ...]] = {
            "action": (
                (frozenset({"countSubscribed", "countValid", "countScheduled", "countToDo"}), "action_counts"),
                (frozenset({"office_name", "project_name", "project_type", "owned_active", "parent_active"}),
                 "action_context"),
            ),
            "action-session": (
                (frozenset({"action_code", "action_name", "action_type"}), "action_session_names"),
                (frozenset({"count_subscribed", "count_done", "count_fail", "count_unknown"}), "action_session_counts"),
                (frozenset({"date_begin", "date_end"}), "action_session_span"),
            ),
            "action-session-date": (
                (frozenset({"action_id", "action_code", "action_name", "action_type", "office_name", "project_name",
                            "manager", "assignee", "watcher"}), "action_session_date"),
            ),
            "certificate": (
                (frozenset({"date_expire"}), "certificate_expiry_field"),
                (frozenset({"resource_type", "resource_name", "project_name", "subtenant_id", "subtenant_type"}),
                 "certificate_context"),
            ),
            "action-subscription": (
                (frozenset({"status"}), "action_subscription_status"),
                (frozenset({"action_code", "action_name", "action_type", "subscriber_name", "office_name",
                            "project_name"}), "action_subscription_context"),
            ),
            "action-session-subscription": ((frozenset({"action_type"}), "action_session_subscription"),),
            "certificate-action": (
                (frozenset({"date_expire", "is_date_inherited", "action_name", "action_code", "action_type",
                            "resource_id", "certificate_name", "date_release", "office_name"}), "certificate_action"),
            ),
        }

        # Derived fields by (segment, id), valid while the store and the date stay as they were.
        self._cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._cache_key: tuple[int, dt.date] | None = None

    def _valid_cache(self) -> dict[tuple[str, str], dict[str, Any]]:
        key = (self.store.version, self.clock.today())
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        return self._cache

    def computed(self, segment: str, row: Row) -> dict[str, Any]:
        """Every computed field of the row (cached until the next write or date change)."""
        cache = self._valid_cache()
        entity = (segment, row[id_field(segment)])
        found = cache.get(entity)
        if found is None:
            found = cache[entity] = {}
            for _, method in self._groups[segment]:
                found.update(getattr(self, method)(row))
        return found

    def project(self, segment: str, row: Row, fields: set[str]) -> dict[str, Any]:
        """At least the computed fields among `fields`: only the groups that hold them are
        derived (a search on a name never computes a status), and nothing is cached."""
        found = self._valid_cache().get((segment, row[id_field(segment)]))
        if found is not None:
            return found
        values: dict[str, Any] = {}
        for names, method in self._groups[segment]:
            if names & fields:
                values.update(getattr(self, method)(row))
        return values

    def groups(self, segment: str) -> tuple[tuple[frozenset[str], str], ...]:
        return self._groups[segment]

    # --- helpers ------------------------------------------------------------------------

    def _get(self, segment: str, entity_id: str | None) -> Row:
        return (self.store.get(segment, entity_id) if entity_id else None) or {}

    def _children(self, segment: str, field: str, value: str) -> list[Row]:
        table = self.store.table(segment)
        return [table.rows[i] for i in table.lookup(field, value)]

    def session_span(self, session_id: str) -> tuple[str | None, str | None]:
        """Date part of the earliest date_begin and of the latest date_end of a session's dates."""
        dates = self._children("action-session-date", "action_session_id", session_id)
        if not dates:
            return None, None
        begin = min(d["date_begin"][:19] for d in dates)
        end = max(d["date_end"][:19] for d in dates)
        return begin[:10], end[:10]

    def first_link(self, certificate_id: str) -> Row | None:
        """The certificate's link created first (docs/DECISIONS.md): a link moved onto the
        certificate later keeps its creation time, so the index's order (the order the ids got the
        value) does not decide."""
        table = self.store.table("certificate-action")
        link_ids = table.lookup("certificate_id", certificate_id)
        if not link_ids:
            return None
        return table.rows[min(link_ids, key=table.created.__getitem__)]

    def certificate_expiry(self, certificate: Row) -> dt.date | None:
        """The client's date_expire, else release + own validity, else + the first link's action's."""
        if certificate.get("date_expire"):
            return _date(certificate["date_expire"])
        release = _date(certificate.get("date_release"))
        if release is None:
            return None
        if certificate.get("validity") is not None and certificate.get("validity_unit"):
            return add_period(release, certificate["validity"], certificate["validity_unit"])
        link = self.first_link(certificate["certificate_id"])
        action = self._get("action", link["action_id"]) if link else {}
        if action.get("validity") is not None and action.get("validity_unit"):
            return add_period(release, action["validity"], action["validity_unit"])
        return None

    def link_expiry(self, link: Row) -> dt.date | None:
        if link.get("date_expire"):
            return _date(link["date_expire"])
        return self.certificate_expiry(self._get("certificate", link["certificate_id"]))

    def subscription_status(self, subscription: Row) -> str:
        action = self._get("action", subscription["action_id"])
        links = self.store.table("certificate-action").rows
        key = (subscription["action_id"], subscription["subscriber_id"])
        expiries = [self.link_expiry(links[i]) for i in self.store.joined(LINKS_BY_ACTION_AND_SUBJECT, key)]
        if not expiries:
            return "NEW"
        if None in expiries:  # a link that never expires wins
            return "VALID"
        expiry = max(e for e in expiries if e is not None)
        today = self.clock.today()
        if expiry < today:
            return "EXPIRED"
        # a difference of days, not today + interval: that sum may leave the calendar
        if (expiry - today).days <= (action.get("expire_interval") or 0):
            return "EXPIRING"
        return "VALID"

    def _is_scheduled(self, subscription: Row, action_id: str, today: dt.date) -> bool:
        for enrollment in self._children(
            "action-session-subscription", "action_subscription_id", subscription["action_subscription_id"]
        ):
            if enrollment.get("done", -1) != -1:
                continue
            session = self._get("action-session", enrollment["action_session_id"])
            if session.get("action_id") != action_id:
                continue
            _, end = self.session_span(session["action_session_id"])
            if end is not None and dt.date.fromisoformat(end) >= today:
                return True
        return False

    def _names_of_action(self, action: Row) -> dict[str, Any]:
        return {
            "action_code": action.get("code"),
            "action_name": action.get("name"),
            "action_type": action.get("action_type"),
        }

    # --- per resource, by group of fields ----------------------------------------------

    def action_counts(self, row: Row) -> dict[str, Any]:
        today = self.clock.today()
        valid = scheduled = 0
        subscriptions = self._children("action-subscription", "action_id", row["action_id"])
        for subscription in subscriptions:
            if self.subscription_status(subscription) in VALID_STATUSES:
                valid += 1
            elif self._is_scheduled(subscription, row["action_id"], today):
                scheduled += 1
        return {
            "countSubscribed": len(subscriptions),
            "countValid": valid,
            "countScheduled": scheduled,
            "countToDo": len(subscriptions) - valid - scheduled,
        }

    def action_context(self, row: Row) -> dict[str, Any]:
        office = self.directory.offices.get(row.get("subtenant_id"))
        project = self.directory.projects.get(row.get("tenant_id"))
        return {
            "office_name": office.name if office else None,
            "project_name": project.name if project else None,
            "project_type": project.type if project else None,
            "owned_active": True,
            "parent_active": office.active if office else None,
        }

    def action_session_names(self, row: Row) -> dict[str, Any]:
        return self._names_of_action(self._get("action", row.get("action_id")))

    def action_session_counts(self, row: Row) -> dict[str, Any]:
        enrollments = self._children("action-session-subscription", "action_session_id", row["action_session_id"])
        outcomes = [e.get("done", -1) for e in enrollments]
        return {
            "count_subscribed": len(outcomes),
            "count_done": outcomes.count(1),
            "count_fail": outcomes.count(0),
            "count_unknown": outcomes.count(-1),
        }

    def action_session_span(self, row: Row) -> dict[str, Any]:
        begin, end = self.session_span(row["action_session_id"])
        return {"date_begin": begin, "date_end": end}

    def action_session_date(self, row: Row) -> dict[str, Any]:
        session = self._get("action-session", row.get("action_session_id"))
        action = self._get("action", session.get("action_id"))
        people = {key: session.get(key) if session.get(key) is not None else action.get(key)
                  for key in ("manager", "assignee", "watcher")}
        return {
            "action_id": session.get("action_id"),
            **self._names_of_action(action),
            "office_name": self.directory.office_name(row.get("subtenant_id")),
            "project_name": self.directory.project_name(row.get("tenant_id")),
            **people,
        }

    def certificate_expiry_field(self, row: Row) -> dict[str, Any]:
        expiry = self.certificate_expiry(row)
        return {"date_expire": expiry.isoformat() if expiry else None}

    def certificate_context(self, row: Row) -> dict[str, Any]:
        subject = self.directory.subjects.get(row.get("resource_id"))
        link = self.first_link(row["certificate_id"])
        action = self._get("action", link["action_id"]) if link else {}
        office = self.directory.offices.get(action.get("subtenant_id"))
        return {
            "resource_type": subject.type if subject else None,
            "resource_name": subject.name if subject else None,
            "project_name": self.directory.project_name(row.get("tenant_id")),
            "subtenant_id": action.get("subtenant_id"),
            "subtenant_type": office.type if office else None,
        }

    def action_subscription_status(self, row: Row) -> dict[str, Any]:
        return {"status": self.subscription_status(row)}

    def action_subscription_context(self, row: Row) -> dict[str, Any]:
        subject = self.directory.subjects.get(row.get("subscriber_id"))
        return {
            **self._names_of_action(self._get("action", row.get("action_id"))),
            "subscriber_name": subject.name if subject else None,
            "office_name": self.directory.office_name(row.get("subtenant_id")),
            "project_name": self.directory.project_name(row.get("tenant_id")),
        }

    def action_session_subscription(self, row: Row) -> dict[str, Any]:
        session = self._get("action-session", row.get("action_session_id"))
        return {"action_type": self._get("action", session.get("action_id")).get("action_type")}

    def certificate_action(self, row: Row) -> dict[str, Any]:
        certificate = self._get("certificate", row.get("certificate_id"))
        action = self._get("action", row.get("action_id"))
        expiry = self.link_expiry(row)
        return {
            "date_expire": expiry.isoformat() if expiry else None,
            "is_date_inherited": 0 if row.get("date_expire") else 1,
            "action_name": action.get("name"),
            "action_code": action.get("code"),
            "action_type": action.get("action_type"),
            "resource_id": certificate.get("resource_id"),
            "certificate_name": certificate.get("name"),
            "date_release": certificate.get("date_release"),
            "office_name": self.directory.office_name(action.get("subtenant_id")),
        }
