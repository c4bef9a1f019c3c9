"""Referential rules of create and update (semantics: answered 422, naming the field)."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from ..storage import Row, Store
from .clock import OutsideCalendar, add_period
from .directory import Directory
from .errors import Violation
from .relations import CLEARED_REFERENCES, PARENTS


def _leaves_calendar(release: str | None, validity: int | None, unit: str | None) -> bool:
    """Whether `release` + `validity` `unit` is past the calendar's end (or before its start)."""
    if not release or validity is None or not unit:
        return False
    try:
        add_period(dt.date.fromisoformat(release[:10]), validity, unit)
    except OutsideCalendar:
        return True
    return False


def _inherits_validity(certificate: Row) -> bool:
    """A certificate whose expiry comes from the validity of an action it is linked to."""
    own = certificate.get("validity") is not None and certificate.get("validity_unit")
    return not certificate.get("date_expire") and bool(certificate.get("date_release")) and not own


class Rules:
    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory
        self._specific: dict[str, Callable[[Row, Row | None], list[Violation]]] = {
            "action": self._action,
            "action-session": self._session,
            "action-session-date": self._session_date,
            "certificate": self._certificate,
            "action-subscription": self._subscription,
            "action-session-subscription": self._enrollment,
            "certificate-action": self._link,
        }

    def check(self, segment: str, row: Row, before: Row | None) -> list[Violation]:
        """What `row` (a create when `before` is None, else an update of `before`) breaks."""
        violations = self._references(segment, row) + self._tenancy(row)
        if not violations and segment in self._specific:
            violations += self._specific[segment](row, before)
        return violations

    def _references(self, segment: str, row: Row) -> list[Violation]:
        targets = {**PARENTS[segment], **CLEARED_REFERENCES.get(segment, {})}
        return [
            Violation(field, f"{target} {row[field]} does not exist")
            for field, target in targets.items()
            if row.get(field) is not None and self.store.get(target, row[field]) is None
        ]

    def _tenancy(self, row: Row) -> list[Violation]:
        violations = []
        tenant, subtenant = row.get("tenant_id"), row.get("subtenant_id")
        if tenant is not None and tenant not in self.directory.projects:
            violations.append(Violation("tenant_id", f"project {tenant} does not exist"))
        if subtenant is not None:
            office = self.directory.offices.get(subtenant)
            if office is None:
                violations.append(Violation("subtenant_id", f"office {subtenant} does not exist"))
            elif tenant is not None and office.project_id != tenant:
                violations.append(Violation("subtenant_id", f"office {subtenant} is not an office of project {tenant}"))
        return violations

    def _subject_exists(self, field: str, resource_id: str | None) -> list[Violation]:
        if resource_id is not None and resource_id not in self.directory.subjects:
            return [Violation(field, f"resource {resource_id} does not exist")]
        return []

    def _has(self, segment: str, field: str, value: str) -> bool:
        return bool(self.store.table(segment).lookup(field, value))

    def _moved(self, row: Row, before: Row | None, field: str) -> bool:
        return before is not None and row[field] != before[field]

    # An update must not break, through the children of the entity, a rule those children were
    # created under: the rules hold for the stored state, not only for the request.

    def _action(self, row: Row, before: Row | None) -> list[Violation]:
        if self._moved(row, before, "action_type"):
            return [Violation("action_type", "the action_type of an action cannot change")]
        if self._moved(row, before, "tenant_id") and self._has("certificate-action", "action_id", row["action_id"]):
            return [Violation("tenant_id", "the action has certificates linked from its project")]
        if before is not None and (self._moved(row, before, "validity") or self._moved(row, before, "validity_unit")):
            links = self.store.table("certificate-action")
            for link_id in links.lookup("action_id", row["action_id"]):
                certificate = self.store.get("certificate", links.rows[link_id]["certificate_id"]) or {}
                if _inherits_validity(certificate) and self._expiry_leaves_calendar(certificate, row):
                    return [Violation("validity", f"certificate {certificate['certificate_id']} inherits this validity: "
                                      f"its expiry would be after {dt.date.max.isoformat()}")]
        return []

    # Every expiry a certificate can inherit, from any action it is linked to, is a date of the
    # calendar: so no later delete of its first link can make its answer uncomputable.

    @staticmethod
    def _expiry_leaves_calendar(certificate: Row, action: Row) -> bool:
        return _leaves_calendar(certificate.get("date_release"), action.get("validity"), action.get("validity_unit"))

    def _session(self, row: Row, before: Row | None) -> list[Violation]:
        if self._moved(row, before, "action_id") and self._has("action-session-subscription", "action_session_id", row["action_session_id"]):
            return [Violation("action_id", "the session has enrollments of compliance schedule entries of its action")]
        return []

    def _session_date(self, row: Row, before: Row | None) -> list[Violation]:
        if row["date_end"][:19] < row["date_begin"][:19]:
            return [Violation("date_end", "date_end is before date_begin")]
        return []

    def _certificate(self, row: Row, before: Row | None) -> list[Violation]:
        violations = self._subject_exists("resource_id", row.get("resource_id"))
        if self._moved(row, before, "tenant_id") and self._has("certificate-action", "certificate_id", row["certificate_id"]):
            violations.append(Violation("tenant_id", "the certificate is linked to actions of its project"))
        if row.get("date_expire") and row["date_expire"] < row["date_release"]:
            violations.append(Violation("date_expire", "date_expire is before date_release"))
        if not row.get("date_expire") and _leaves_calendar(row.get("date_release"), row.get("validity"), row.get("validity_unit")):
            violations.append(Violation("validity", f"date_release + validity is after {dt.date.max.isoformat()}"))
        elif _inherits_validity(row):
            links = self.store.table("certificate-action")
            for link_id in links.lookup("certificate_id", row["certificate_id"]):
                action = self.store.get("action", links.rows[link_id]["action_id"]) or {}
                if self._expiry_leaves_calendar(row, action):
                    violations.append(Violation("date_release", f"with the validity of linked action {action['action_id']} "
                                                f"the expiry would be after {dt.date.max.isoformat()}"))
                    break
        return violations

    def _subscription(self, row: Row, before: Row | None) -> list[Violation]:
        violations = self._subject_exists("subscriber_id", row.get("subscriber_id"))
        if self._moved(row, before, "action_id") and self._has("action-session-subscription", "action_subscription_id", row["action_subscription_id"]):
            violations.append(Violation("action_id", "the entry is enrolled in sessions of its action"))
        table = self.store.table("action-subscription")
        for other_id in table.lookup("action_id", row["action_id"]):
            other = table.rows[other_id]
            if other_id != row["action_subscription_id"] and other["subscriber_id"] == row["subscriber_id"]:
                violations.append(Violation("subscriber_id", f"resource {row['subscriber_id']} is already subscribed to action {row['action_id']}"))
                break
        return violations

    def _enrollment(self, row: Row, before: Row | None) -> list[Violation]:
        session = self.store.get("action-session", row["action_session_id"])
        subscription = self.store.get("action-subscription", row["action_subscription_id"])
        assert session is not None and subscription is not None  # checked by _references
        if subscription["action_id"] != session["action_id"]:
            return [Violation("action_subscription_id", "the compliance schedule entry is of another action than the session")]
        table = self.store.table("action-session-subscription")
        for other_id in table.lookup("action_session_id", row["action_session_id"]):
            other = table.rows[other_id]
            if other_id != row["action_session_subscription_id"] and other["action_subscription_id"] == row["action_subscription_id"]:
                return [Violation("action_subscription_id", "the compliance schedule entry is already enrolled in this session")]
        return []

    def _link(self, row: Row, before: Row | None) -> list[Violation]:
        certificate = self.store.get("certificate", row["certificate_id"])
        action = self.store.get("action", row["action_id"])
        assert certificate is not None and action is not None  # checked by _references
        violations = []
        if certificate["tenant_id"] != action["tenant_id"]:
            violations.append(Violation("action_id", "the action is of another project than the certificate"))
        if row.get("tenant_id") is not None and row["tenant_id"] != certificate["tenant_id"]:
            violations.append(Violation("tenant_id", "tenant_id is not the certificate's project"))
        if _inherits_validity(certificate) and self._expiry_leaves_calendar(certificate, action):
            violations.append(Violation("action_id", f"the certificate would inherit the action's validity: "
                                        f"its expiry would be after {dt.date.max.isoformat()}"))
        table = self.store.table("certificate-action")
        for other_id in table.lookup("certificate_id", row["certificate_id"]):
            if other_id != row["certificate_action_id"] and table.rows[other_id]["action_id"] == row["action_id"]:
                violations.append(Violation("action_id", "the certificate is already linked to this action"))
                break
        return violations
