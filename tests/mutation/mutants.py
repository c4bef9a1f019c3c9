"""Variants of the mock: faulty ones that each break one rule, and legitimate ones that break none.

Each variant is a small function that monkeypatches one piece of `mock_server` (a method of
`Domain`, `Derivations` or `Rules`, a search function, a handler, a validator, a security
handler). Its docstring states the rule it breaks; `expects` names the rule(s) of
`tests/contract/support/rules.py` that the contract suite must report for it. The first name is
the rule the variant breaks; any further name observes the same wrong value directly.

Legitimate variants differ from the mock only in ways the contract allows (other ids, key order,
extra fields, slower answers): the suite must pass on them.

Variants are applied by `tests/mutation/apply.py` before the suite builds its in-process app.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import time
import types
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from pytest import MonkeyPatch

from mock_server import handlers, security
from mock_server.domain import computed, search, service
from mock_server.domain.computed import Derivations
from mock_server.domain.errors import HasDescendants, RuleViolations, Violation
from mock_server.domain.rules import Rules
from mock_server.domain.search import Page, Query
from mock_server.domain.service import Domain
from mock_server.resources import id_field, schema_name
from mock_server.spec import load_spec
from mock_server.validation import FieldNamingParameterValidator

Apply = Callable[[MonkeyPatch], None]
ENROLLMENT = "action-session-subscription"


@dataclass(frozen=True)
class Variant:
    name: str
    apply: Apply
    expects: tuple[str, ...]  # rules the suite must name; empty for a legitimate variant
    suite_args: tuple[str, ...] = ()  # extra arguments of the suite run (workers for a slow variant)

    @property
    def legitimate(self) -> bool:
        return not self.expects

    @property
    def rule(self) -> str:
        """The rule the variant breaks ('-' for a legitimate one)."""
        return self.expects[0] if self.expects else "-"

    @property
    def summary(self) -> str:
        return (self.apply.__doc__ or "").strip().splitlines()[0]


CATALOGUE: dict[str, Variant] = {}


def faulty(*expects: str) -> Callable[[Apply], Apply]:
    """Register a variant that breaks the rule `expects[0]`."""

    def register(apply: Apply) -> Apply:
        CATALOGUE[apply.__name__] = Variant(apply.__name__, apply, tuple(expects))
        return apply

    return register


def legitimate(apply: Apply) -> Apply:
    """Register a variant that breaks no rule."""
    CATALOGUE[apply.__name__] = Variant(apply.__name__, apply, ())
    return apply


def legitimate_with(*suite_args: str) -> Callable[[Apply], Apply]:
    """Register a legitimate variant whose suite run takes these extra arguments."""

    def register(apply: Apply) -> Apply:
        CATALOGUE[apply.__name__] = Variant(apply.__name__, apply, (), tuple(suite_args))
        return apply

    return register


def faulty_variants() -> list[Variant]:
    return [v for v in CATALOGUE.values() if not v.legitimate]


def legitimate_variants() -> list[Variant]:
    return [v for v in CATALOGUE.values() if v.legitimate]


# ---------------------------------------------------------------- helpers


def _wrap_computed(monkeypatch: MonkeyPatch, method: str, change: Callable[[Derivations, dict, dict], dict]) -> None:
    """Replace Derivations.<method> by the original followed by `change(self, row, result)`."""
    original = getattr(Derivations, method)

    @functools.wraps(original)
    def patched(self: Derivations, row: dict) -> dict:
        return change(self, row, dict(original(self, row)))

    monkeypatch.setattr(Derivations, method, patched)


def _subscription_status(
    derive: Derivations, subscription: dict, choose: Callable[[list], dt.date | None], expiring_until: Callable[[dt.date, dt.date], bool]
) -> str:
    """The mock's status computation with the winning link and the EXPIRING test as parameters."""
    action = derive._get("action", subscription["action_id"])
    expiries = []
    for link in derive._children("certificate-action", "action_id", subscription["action_id"]):
        certificate = derive._get("certificate", link["certificate_id"])
        if certificate.get("resource_id") == subscription["subscriber_id"]:
            expiries.append(derive.link_expiry(link))
    if not expiries:
        return "NEW"
    expiry = choose(expiries)
    if expiry is None:
        return "VALID"
    today = derive.clock.today()
    if expiry < today:
        return "EXPIRED"
    limit = today + dt.timedelta(days=action.get("expire_interval") or 0)
    return "EXPIRING" if expiring_until(expiry, limit) else "VALID"


def _latest(expiries: list[dt.date | None]) -> dt.date | None:
    return None if None in expiries else max(expiries)  # type: ignore[type-var]


def _earliest(expiries: list[dt.date | None]) -> dt.date | None:
    dates = [e for e in expiries if e is not None]
    return min(dates) if dates else None


def _page(rows: list[dict], query: Query) -> Page:
    start = (query.page - 1) * query.per_page
    return Page(items=rows[start : start + query.per_page], total=len(rows), page=query.page, per_page=query.per_page)


def _required_on_create(segment: str) -> frozenset[str]:
    schema = load_spec()["components"]["schemas"][f"{schema_name(segment)}Create"]
    return frozenset(schema.get("required", []))


# ================================================================ faulty: computed fields


@faulty("session_counts_match_model", "session_counts_match_enrollments")
def session_count_done_off_by_one_from_two(monkeypatch: MonkeyPatch) -> None:
    """ActionSession count_done = its enrollments with done 1: answers one less once there are two or more."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        if result["count_done"] >= 2:
            result["count_done"] -= 1
        return result

    _wrap_computed(monkeypatch, "action_session_counts", change)


@faulty("session_counts_match_model", "session_counts_match_enrollments")
def count_unknown_includes_failed(monkeypatch: MonkeyPatch) -> None:
    """ActionSession count_unknown = its enrollments with done -1: also counts those with done 0."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        result["count_unknown"] += result["count_fail"]
        return result

    _wrap_computed(monkeypatch, "action_session_counts", change)


@faulty("session_dates_span_its_dates")
def session_date_end_from_earliest_date(monkeypatch: MonkeyPatch) -> None:
    """ActionSession date_end = date part of the latest date_end of its dates: takes the earliest."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        dates = self._children("action-session-date", "action_session_id", row["action_session_id"])
        if dates:
            result["date_end"] = min(d["date_end"][:19] for d in dates)[:10]
        return result

    _wrap_computed(monkeypatch, "action_session_span", change)


@faulty("action_counts_match_model")
def scheduled_ignores_session_end(monkeypatch: MonkeyPatch) -> None:
    """countScheduled needs a session whose date_end is today or later: any session with dates counts."""

    def _is_scheduled(self: Derivations, subscription: dict, action_id: str, today: dt.date) -> bool:
        for enrollment in self._children(ENROLLMENT, "action_subscription_id", subscription["action_subscription_id"]):
            if enrollment.get("done", -1) != -1:
                continue
            session = self._get("action-session", enrollment["action_session_id"])
            if session.get("action_id") != action_id:
                continue
            _, end = self.session_span(session["action_session_id"])
            if end is not None:
                return True
        return False

    monkeypatch.setattr(Derivations, "_is_scheduled", _is_scheduled)


@faulty("action_counts_match_model")
def expiring_not_counted_valid(monkeypatch: MonkeyPatch) -> None:
    """countValid = entries whose status is VALID or EXPIRING: leaves EXPIRING ones out."""
    monkeypatch.setattr(computed, "VALID_STATUSES", ("VALID",))


@faulty("subscription_status_matches_certificates")
def expiring_boundary_one_day_short(monkeypatch: MonkeyPatch) -> None:
    """EXPIRING when today <= expiry <= today + expire_interval: the last day (expiry = today + interval) answers VALID."""

    def subscription_status(self: Derivations, subscription: dict) -> str:
        return _subscription_status(self, subscription, _latest, lambda expiry, limit: expiry < limit)

    monkeypatch.setattr(Derivations, "subscription_status", subscription_status)


@faulty("subscription_status_matches_certificates")
def earliest_link_expiry_wins(monkeypatch: MonkeyPatch) -> None:
    """ActionSubscription status: the link with the latest expiry wins; here the earliest does."""

    def subscription_status(self: Derivations, subscription: dict) -> str:
        return _subscription_status(self, subscription, _earliest, lambda expiry, limit: expiry <= limit)

    monkeypatch.setattr(Derivations, "subscription_status", subscription_status)


@faulty("certificate_expiry_derivation", "link_expiry_inherited")
def certificate_expiry_ignores_action_validity(monkeypatch: MonkeyPatch) -> None:
    """Certificate date_expire falls back to date_release + the first link's action validity: that step is skipped."""

    def certificate_expiry(self: Derivations, certificate: dict) -> dt.date | None:
        if certificate.get("date_expire"):
            return dt.date.fromisoformat(certificate["date_expire"][:10])
        release = certificate.get("date_release")
        if not release:
            return None
        if certificate.get("validity") is not None and certificate.get("validity_unit"):
            return computed.add_period(dt.date.fromisoformat(release[:10]), certificate["validity"], certificate["validity_unit"])
        return None

    monkeypatch.setattr(Derivations, "certificate_expiry", certificate_expiry)


@faulty("certificate_expiry_derivation", "link_expiry_inherited")
def validity_month_end_not_clamped(monkeypatch: MonkeyPatch) -> None:
    """Adding N MONTH or YEAR keeps the day, clamped to the month's end: here the day overflows into the next month."""

    def add_period(start: dt.date, amount: int, unit: str) -> dt.date:
        if unit == "DAY":
            return start + dt.timedelta(days=amount)
        months = amount * (12 if unit == "YEAR" else 1)
        year, month = divmod(start.month - 1 + months, 12)
        return dt.date(start.year + year, month + 1, 1) + dt.timedelta(days=start.day - 1)

    monkeypatch.setattr(computed, "add_period", add_period)


@faulty("link_expiry_inherited")
def link_inherited_flag_inverted(monkeypatch: MonkeyPatch) -> None:
    """CertificateAction is_date_inherited is 1 when date_expire is the certificate's: answers the opposite."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        result["is_date_inherited"] = 1 - result["is_date_inherited"]
        return result

    _wrap_computed(monkeypatch, "certificate_action", change)


@faulty("certificate_office_from_first_link")
def certificate_office_from_latest_link(monkeypatch: MonkeyPatch) -> None:
    """Certificate subtenant_id/subtenant_type come from the action of its first link: taken from the latest link."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        table = self.store.table("certificate-action")
        ids = table.lookup("certificate_id", row["certificate_id"])
        if ids:
            latest = table.rows[list(ids)[-1]]
            action = self._get("action", latest["action_id"])
            office = self.directory.offices.get(action.get("subtenant_id"))
            result["subtenant_id"] = action.get("subtenant_id")
            result["subtenant_type"] = office.type if office else None
        return result

    _wrap_computed(monkeypatch, "certificate_context", change)


@faulty("directory_values_agree")
def link_office_name_of_the_certificates_office(monkeypatch: MonkeyPatch) -> None:
    """A certificate-action answers the name of its certificate's office (that of the first link's
    action), not of its own action's: right for the first link only."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        certificate = self.store.get("certificate", row["certificate_id"]) or {}
        office = self.certificate_context(certificate).get("subtenant_id")
        return {**result, "office_name": self.directory.office_name(office)}

    _wrap_computed(monkeypatch, "certificate_action", change)


@faulty("directory_values_agree")
def subscriber_name_null(monkeypatch: MonkeyPatch) -> None:
    """A compliance schedule entry answers no subscriber_name (the resource's name is not joined)."""
    _wrap_computed(monkeypatch, "action_subscription_context", lambda self, row, result: {**result, "subscriber_name": None})


@faulty("move_breaking_a_childs_rule_is_422")
def session_moves_with_its_enrollments(monkeypatch: MonkeyPatch) -> None:
    """A session that has enrollments may move to another action (the request alone is judged):
    its enrollments then join an entry and a session of different actions."""
    monkeypatch.setattr(Rules, "_session", lambda self, row, before: [])


@faulty("certificate_office_from_first_link", "certificate_expiry_derivation")
def first_link_by_arrival(monkeypatch: MonkeyPatch) -> None:
    """A certificate's first link is the one created first: taken as the one that got the
    certificate first, so a link moved onto the certificate later never counts, however old."""

    def first_to_arrive(self: Derivations, certificate_id: str) -> dict | None:
        table = self.store.table("certificate-action")
        for link_id in table.lookup("certificate_id", certificate_id):
            return table.rows[link_id]
        return None

    monkeypatch.setattr(Derivations, "first_link", first_to_arrive)


@faulty("parent_fields_copied")
def session_date_action_code_is_name(monkeypatch: MonkeyPatch) -> None:
    """ActionSessionDate action_code is its action's code: answers the action's name."""

    def change(self: Derivations, row: dict, result: dict) -> dict:
        result["action_code"] = result["action_name"]
        return result

    _wrap_computed(monkeypatch, "action_session_date", change)


# ---------------------------------------------------------------- faulty: one derived field on one operation only
#
# Each changes the answer of one operation (view, index, or update) and leaves the others right,
# so only a suite that compares that operation's answers with its model catches it.


def _answered_by(monkeypatch: MonkeyPatch, operation: str, segment: str, change: Callable[[Domain, dict], dict]) -> None:
    """Domain.<operation> (view, create or update) answers `change(self, entity)` for `segment`."""
    original = getattr(Domain, operation)

    @functools.wraps(original)
    def patched(self: Domain, asked: str, *args: Any) -> dict:
        answer = original(self, asked, *args)
        return change(self, dict(answer)) if asked == segment else answer

    monkeypatch.setattr(Domain, operation, patched)


@faulty("session_counts_match_model")
def session_view_count_done_plus_one(monkeypatch: MonkeyPatch) -> None:
    """ActionSession count_done = its enrollments with done 1: view answers one more, and a count_subscribed that adds up (index, create and update are right)."""

    # count_subscribed follows, so the sum of the parts holds (one more without it is caught by count_invariants)
    def change(self: Domain, session: dict) -> dict:
        return {**session, "count_done": session["count_done"] + 1, "count_subscribed": session["count_subscribed"] + 1}

    _answered_by(monkeypatch, "view", "action-session", change)


@faulty("certificate_expiry_derivation")
def certificate_view_own_validity_a_day_late(monkeypatch: MonkeyPatch) -> None:
    """Certificate date_expire = date_release + its own validity: view answers one day later unless released on a month's last day (index is right)."""

    # a month's last day is left right: only those releases are viewed by the month-end test
    def change(self: Domain, certificate: dict) -> dict:
        row = self.store.get("certificate", certificate["certificate_id"])
        release = dt.date.fromisoformat(row["date_release"][:10])
        month_end = (release + dt.timedelta(days=1)).day == 1
        if not row.get("date_expire") and row.get("validity") is not None and row.get("validity_unit") and not month_end:
            expiry = computed.add_period(release, row["validity"], row["validity_unit"]) + dt.timedelta(days=1)
            certificate["date_expire"] = expiry.isoformat()
        return certificate

    _answered_by(monkeypatch, "view", "certificate", change)


@faulty("action_counts_match_model")
def action_update_answer_counts_one_more_to_do(monkeypatch: MonkeyPatch) -> None:
    """Action countSubscribed = its entries: an update answers one more, counted to do (view and index are right)."""

    # both grow, so countSubscribed = countValid + countScheduled + countToDo still holds
    def change(self: Domain, action: dict) -> dict:
        return {**action, "countSubscribed": action["countSubscribed"] + 1, "countToDo": action["countToDo"] + 1}

    _answered_by(monkeypatch, "update", "action", change)


@faulty("action_counts_match_model")
def action_index_scheduled_as_todo(monkeypatch: MonkeyPatch) -> None:
    """Action countScheduled = entries enrolled in a session not yet over: index answers them as countToDo (view is right; filters use the right counts)."""
    original = Domain.search

    def search_(self: Domain, segment: str, body: dict | None, subscriber_id: str | None = None) -> Page:
        page = original(self, segment, body, subscriber_id)
        if segment != "action":
            return page
        items = [{**a, "countToDo": a["countToDo"] + a["countScheduled"], "countScheduled": 0} for a in page.items]
        return Page(items=items, total=page.total, page=page.page, per_page=page.per_page)

    monkeypatch.setattr(Domain, "search", search_)


# ================================================================ faulty: force delete


@faulty("preview_deletes_nothing")
def preview_deletes_entity(monkeypatch: MonkeyPatch) -> None:
    """A delete without force of an entity with related entities deletes nothing: here it removes the entity, still answering 400 with the preview."""
    original = Domain.delete

    def delete(self: Domain, segment: str, entity_id: str, force: bool) -> None:
        if not force:
            with self.lock:
                self._row(segment, entity_id)
                doomed = self.descendants(segment, entity_id)
                if doomed:
                    self.store.remove(segment, entity_id)
                    raise HasDescendants(doomed)
        original(self, segment, entity_id, force)

    monkeypatch.setattr(Domain, "delete", delete)


@faulty("preview_lists_exactly_what_force_deletes")
def preview_omits_enrollments(monkeypatch: MonkeyPatch) -> None:
    """The preview lists every entity force=true deletes: it leaves out the action-session-subscriptions."""
    original = Domain.delete

    def delete(self: Domain, segment: str, entity_id: str, force: bool) -> None:
        if not force:
            with self.lock:
                self._row(segment, entity_id)
                doomed = self.descendants(segment, entity_id)
                if doomed:
                    raise HasDescendants([key for key in doomed if key[0] != ENROLLMENT])
        original(self, segment, entity_id, force)

    monkeypatch.setattr(Domain, "delete", delete)


@faulty("preview_is_well_formed", "preview_lists_exactly_what_force_deletes")
def preview_ids_descending(monkeypatch: MonkeyPatch) -> None:
    """The preview is ordered by type, then by id: within a type the ids come in descending order."""
    original = Domain.descendants

    def descendants(self: Domain, segment: str, entity_id: str) -> list[tuple[str, str]]:
        found = original(self, segment, entity_id)
        groups = itertools.groupby(found, key=lambda key: key[0])
        return [key for _, group in groups for key in sorted(group, key=lambda key: key[1], reverse=True)]

    monkeypatch.setattr(Domain, "descendants", descendants)


@faulty("force_delete_removes_listed")
def session_cascade_leaves_enrollments(monkeypatch: MonkeyPatch) -> None:
    """force=true on an action-session deletes its dates and enrollments: the enrollments stay, orphaned."""
    original = Domain.delete

    def delete(self: Domain, segment: str, entity_id: str, force: bool) -> None:
        if segment != "action-session" or not force:
            return original(self, segment, entity_id, force)
        with self.lock:
            self._row(segment, entity_id)
            doomed = [key for key in self.descendants(segment, entity_id) if key[0] != ENROLLMENT]
            for doomed_segment, doomed_id in [(segment, entity_id), *doomed]:
                self._clear_references_to(doomed_segment, doomed_id)
                self.store.remove(doomed_segment, doomed_id)
        return None

    monkeypatch.setattr(Domain, "delete", delete)


@faulty("force_delete_removes_listed")
def delete_answers_204_keeps_entity(monkeypatch: MonkeyPatch) -> None:
    """A delete that answers 204 has deleted the entity: here nothing is deleted (the preview still works)."""

    def delete(self: Domain, segment: str, entity_id: str, force: bool) -> None:
        with self.lock:
            self._row(segment, entity_id)
            doomed = self.descendants(segment, entity_id)
            if doomed and not force:
                raise HasDescendants(doomed)

    monkeypatch.setattr(Domain, "delete", delete)


@faulty("enrollment_certificate_cleared")
def certificate_delete_removes_enrollments(monkeypatch: MonkeyPatch) -> None:
    """Deleting a certificate keeps the enrollments that named it, with certificate_id cleared: here they are deleted."""
    original = Domain._clear_references_to

    def _clear_references_to(self: Domain, segment: str, entity_id: str) -> None:
        if segment != "certificate":
            return original(self, segment, entity_id)
        table = self.store.table(ENROLLMENT)
        for holder_id in list(table.lookup("certificate_id", entity_id)):
            self.store.remove(ENROLLMENT, holder_id)
        return None

    monkeypatch.setattr(Domain, "_clear_references_to", _clear_references_to)


# ================================================================ faulty: pagination and search


@faulty("pages_partition_result_set")
def page_repeats_previous_last(monkeypatch: MonkeyPatch) -> None:
    """Pages partition the result set: page n+1 starts with the last entity of page n (and drops its own last)."""
    original = Domain.search

    def search_(self: Domain, segment: str, body: dict | None, subscriber_id: str | None = None) -> Page:
        page = original(self, segment, body, subscriber_id)
        if page.page <= 1 or not page.items:
            return page
        previous = original(self, segment, {**(body or {}), "page": page.page - 1}, subscriber_id)
        if not previous.items:
            return page
        items = [previous.items[-1], *page.items[:-1]]
        return Page(items=items, total=page.total, page=page.page, per_page=page.per_page)

    monkeypatch.setattr(Domain, "search", search_)


@faulty("pagination_headers_match_body", "pages_partition_result_set")
def total_count_header_off_by_one(monkeypatch: MonkeyPatch) -> None:
    """X-Pagination-Total-Count = the entities matching the filter: answers one more."""
    original = Page.headers

    def headers(self: Page) -> dict[str, str]:
        answered = original(self)
        answered["X-Pagination-Total-Count"] = str(self.total + 1)
        return answered

    monkeypatch.setattr(Page, "headers", headers)


@faulty("pagination_headers_match_body")
def page_count_floor(monkeypatch: MonkeyPatch) -> None:
    """X-Pagination-Page-Count = ceil(total / per-page): computed with floor."""
    monkeypatch.setattr(Page, "page_count", property(lambda self: self.total // self.per_page))


@faulty("pages_follow_requested_order")
def sort_ties_by_id_descending(monkeypatch: MonkeyPatch) -> None:
    """Ties of `sort` are ordered by id ascending: here by id descending."""

    def paginate(rows: Any, query: Query, id_field: str, presorted_by_id: bool) -> Page:
        rows = sorted(rows, key=lambda row: row[id_field], reverse=bool(query.sort_field))
        if query.sort_field:
            rows.sort(key=search.sort_key(query.sort_field), reverse=query.descending)
        return _page(rows, query)

    monkeypatch.setattr(service, "paginate", paginate)


@faulty("pages_follow_requested_order")
def nulls_sort_highest(monkeypatch: MonkeyPatch) -> None:
    """A null sorts as the lowest value (first ascending): here as the highest (last ascending, first descending)."""

    def key_of(field: str) -> Callable[[dict], tuple]:
        def key(row: dict) -> tuple:
            value = row.get(field)
            if value is None:
                return (2, "")
            return (1, value.casefold() if isinstance(value, str) else value)

        return key

    def paginate(rows: Any, query: Query, id_field: str, presorted_by_id: bool) -> Page:
        rows = sorted(rows, key=lambda row: row[id_field])
        if query.sort_field:
            rows.sort(key=key_of(query.sort_field), reverse=query.descending)
        return _page(rows, query)

    monkeypatch.setattr(service, "paginate", paginate)


@faulty("pages_follow_requested_order")
def sort_case_sensitive(monkeypatch: MonkeyPatch) -> None:
    """Strings sort without regard to case: here by their characters' codes (every capital before any small letter)."""

    def sort_key(field: str) -> Callable[[dict], tuple]:
        def key(row: dict) -> tuple:
            value = row.get(field)
            return (0, "") if value is None else (1, value)

        return key

    monkeypatch.setattr(search, "sort_key", sort_key)


@faulty("pages_follow_requested_order", "filter_matches_exactly", "search_by_derived_value_finds_the_entity")
def stored_date_expire_searched(monkeypatch: MonkeyPatch) -> None:
    """Filters and sorts on certificate (and link) date_expire use the answered value: here the stored one (null when derived)."""
    monkeypatch.setattr(service, "DERIVED_WHEN_EMPTY", {})


@faulty("filter_matches_exactly")
def substring_filter_case_sensitive(monkeypatch: MonkeyPatch) -> None:
    """Free-text filters match a case-insensitive substring: here the match is case-sensitive."""
    original = search._matcher

    def _matcher(field: str, expected: Any, kind: str) -> Callable[[dict], bool]:
        if kind == "substring" and isinstance(expected, str):
            return lambda row: isinstance(row.get(field), str) and expected in row[field]
        return original(field, expected, kind)

    monkeypatch.setattr(search, "_matcher", _matcher)


def _filter_values_dropped(monkeypatch: MonkeyPatch, dropped: Callable[[Any], bool], fields: Callable[[str], bool] = lambda field: True) -> None:
    """Searches that drop every filter entry of `fields` whose value `dropped` picks (a falsy check of a backend)."""
    original = Query.from_body.__func__  # type: ignore[attr-defined]

    def from_body(cls: type[Query], body: dict | None) -> Query:
        query = original(cls, body)
        kept = {field: value for field, value in query.filter.items() if not (fields(field) and dropped(value))}
        return Query(filter=kept, sort=query.sort, page=query.page, per_page=query.per_page)

    monkeypatch.setattr(Query, "from_body", classmethod(from_body))


def _is_zero(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


@faulty("filter_matches_exactly", "search_by_derived_value_finds_the_entity")
def integer_filter_zero_ignored(monkeypatch: MonkeyPatch) -> None:
    """A filter value of 0 selects the entities whose value is 0: here it is taken as no filter (`if value:`)."""
    _filter_values_dropped(monkeypatch, _is_zero)


@faulty("filter_matches_exactly")
def stored_integer_filter_zero_ignored(monkeypatch: MonkeyPatch) -> None:
    """A filter value of 0 on a stored integer (validity, expire_interval, done, warning) selects the entities with 0: here no filter."""
    stored = {"validity", "expire_interval", "done", "warning"}
    _filter_values_dropped(monkeypatch, _is_zero, lambda field: field in stored)


@faulty("filter_matches_exactly", "search_by_derived_value_finds_the_entity")
def null_filter_ignored(monkeypatch: MonkeyPatch) -> None:
    """A filter value of null selects the entities whose value is null: here it is taken as no filter."""
    _filter_values_dropped(monkeypatch, lambda value: value is None)


@faulty("filter_matches_exactly")
def empty_text_filter_ignored(monkeypatch: MonkeyPatch) -> None:
    """An empty free-text filter is a substring of every text (not of null): here it is taken as no filter."""
    _filter_values_dropped(monkeypatch, lambda value: value == "")


@faulty("filter_matches_exactly")
def false_filter_ignored(monkeypatch: MonkeyPatch) -> None:
    """A boolean filter of false selects the entities whose value is false: here it is taken as no filter."""
    _filter_values_dropped(monkeypatch, lambda value: value is False)


def _stored_date_expire_where(monkeypatch: MonkeyPatch, read_stored: Callable[[Query], set[str]]) -> None:
    """Derived searches that read the stored `date_expire` (null when derived) for the query's
    fields `read_stored` names, and the answered value for the others."""

    def _derived_search(self: Domain, segment: str, query: Query, ids: Any, presorted: bool, subscriber_id: str | None) -> list[str]:
        resource = self.resources[segment]
        fields = query.fields() | {resource.id_field}
        stored = read_stored(query) & {"date_expire"}
        rows = self.store.table(segment).rows

        def project(row: dict) -> dict:
            derived = self.derive.project(segment, row, fields)
            return {f: derived[f] if f in derived and f not in stored else row.get(f) for f in fields}

        accept = search.matches(resource, query.filter)
        projected = [p for p in (project(rows[i]) for i in ids) if accept(p)]
        everything = Query(filter=query.filter, sort=query.sort, page=1, per_page=max(1, len(projected)))
        return [p[resource.id_field] for p in service.paginate(projected, everything, resource.id_field, presorted).items]

    monkeypatch.setattr(Domain, "_derived_search", _derived_search)


@faulty("filter_matches_exactly", "search_by_derived_value_finds_the_entity")
def date_expire_filter_on_stored_value(monkeypatch: MonkeyPatch) -> None:
    """A filter on certificate (and link) date_expire uses the answered value: here the stored one (null when derived); sorts are right."""
    _stored_date_expire_where(monkeypatch, lambda query: set(query.filter))


@faulty("pages_follow_requested_order")
def date_expire_sort_on_stored_value(monkeypatch: MonkeyPatch) -> None:
    """A sort on certificate (and link) date_expire uses the answered value: here the stored one (null when derived); filters are right."""
    _stored_date_expire_where(monkeypatch, lambda query: {query.sort_field} - set(query.filter) if query.sort_field else set())


@faulty("pages_follow_requested_order")
def computed_sort_nulls_highest(monkeypatch: MonkeyPatch) -> None:
    """A null sorts lowest, also on a computed field (a session without dates, a certificate without expiry): here highest there."""
    original = Domain._derived_search

    def _derived_search(self: Domain, segment: str, query: Query, ids: Any, presorted: bool, subscriber_id: str | None) -> list[str]:
        ordered = original(self, segment, query, ids, presorted, subscriber_id)
        if query.sort_field not in {*self.resources[segment].computed, *computed.DERIVED_WHEN_EMPTY.get(segment, ())}:
            return ordered
        rows = self.store.table(segment).rows
        fields = {query.sort_field}

        def is_null(entity_id: str) -> bool:
            derived = self.derive.project(segment, rows[entity_id], fields)
            return derived.get(query.sort_field, rows[entity_id].get(query.sort_field)) is None

        nulls = [i for i in ordered if is_null(i)]
        others = [i for i in ordered if not is_null(i)]
        return nulls + others if query.descending else others + nulls

    monkeypatch.setattr(Domain, "_derived_search", _derived_search)


@faulty("dates_of_subscriber")
def subscriber_dates_of_whole_action(monkeypatch: MonkeyPatch) -> None:
    """action-session-date/index?subscriber_id=X: only sessions X is enrolled in; here every session of X's actions."""

    def _dates_of_subscriber(self: Domain, subscriber_id: str) -> set[str]:
        subscriptions = self.store.table("action-subscription")
        actions = {subscriptions.rows[s]["action_id"] for s in subscriptions.lookup("subscriber_id", subscriber_id)}
        sessions = {s for a in actions for s in self.store.table("action-session").lookup("action_id", a)}
        dates = self.store.table("action-session-date")
        return {d for session in sessions for d in dates.lookup("action_session_id", session)}

    monkeypatch.setattr(Domain, "_dates_of_subscriber", _dates_of_subscriber)


# ================================================================ faulty: writes and rules


@faulty("partial_update_keeps_unsent_fields")
def update_nulls_unsent_fields(monkeypatch: MonkeyPatch) -> None:
    """An update is partial, the fields not sent stay: here every optional field not sent becomes null."""
    original = Domain.update

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        resource = self.resources[segment]
        keep = {resource.id_field, *_required_on_create(segment)}
        with self.lock:
            before = self._row(segment, entity_id)
            self.store.replace(segment, {f: (v if f in keep else None) for f, v in before.items()})
            try:
                return original(self, segment, entity_id, body)
            except Exception:
                self.store.replace(segment, before)
                raise

    monkeypatch.setattr(Domain, "update", update)


@faulty("update_is_stored", "partial_update_keeps_unsent_fields")
def update_answers_description_not_stored(monkeypatch: MonkeyPatch) -> None:
    """An update is stored: here an action update answers the new `description` but keeps the old one."""
    original = Domain.update

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        if segment != "action" or "description" not in body:
            return original(self, segment, entity_id, body)
        with self.lock:
            kept = self._row(segment, entity_id).get("description")
            answered = original(self, segment, entity_id, body)
            row = {**self.store.get(segment, entity_id), "description": kept}
            self.store.replace(segment, {k: v for k, v in row.items() if v is not None})
            return answered

    monkeypatch.setattr(Domain, "update", update)


def _without_maximum(node: Any, field: str) -> Any:
    if isinstance(node, dict):
        return {k: (_drop_bound(v) if k == field and isinstance(v, dict) else _without_maximum(v, field)) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_maximum(item, field) for item in node]
    return node


def _drop_bound(prop: dict) -> dict:
    return {k: v for k, v in prop.items() if k != "maximum"}


@faulty("malformed_input_is_400", "no_server_error")
def validity_past_int_accepted(monkeypatch: MonkeyPatch) -> None:
    """`validity` is at most 2147483647 (an INT column), beyond it a 400: here the mock validates against a spec without that maximum."""
    from mock_server import app as app_module

    original = app_module.served_spec
    monkeypatch.setattr(app_module, "served_spec", lambda spec: _without_maximum(original(spec), "validity"))


@faulty("bad_request_names_field", "malformed_input_is_400")
def bad_request_without_field(monkeypatch: MonkeyPatch) -> None:
    """400 problem objects always carry `field`: here every 400 leaves it out."""
    import copy

    from mock_server import problems

    original = problems.problem_handler

    def problem_handler(request: Any, exc: Any) -> Any:
        if exc.status == 400 and exc.ext:
            exc = copy.copy(exc)
            exc.ext = {k: v for k, v in exc.ext.items() if k != "field"}
        return original(request, exc)

    monkeypatch.setattr(problems, "problem_handler", problem_handler)


@faulty("no_server_error", "edge_value_stored_or_refused")
def far_expiry_accepted_then_500(monkeypatch: MonkeyPatch) -> None:
    """A write whose derived expiry would pass 9999-12-31 is a 422: here it is stored, and computing the expiry then answers 500."""
    from mock_server.domain import rules as domain_rules

    monkeypatch.setattr(domain_rules, "_leaves_calendar", lambda release, validity, unit: False)


NAME_LIMIT = 100


@faulty("edge_value_stored_or_refused")
def names_limited_to_100(monkeypatch: MonkeyPatch) -> None:
    """A name of maxLength (255) characters is stored: here a create or update with a name longer than 100 is a 422."""
    original_create, original_update = Domain.create, Domain.update

    def refuse_long_name(body: dict) -> None:
        if isinstance(body.get("name"), str) and len(body["name"]) > NAME_LIMIT:
            raise RuleViolations([Violation("name", f"at most {NAME_LIMIT} characters")])

    def create(self: Domain, segment: str, body: dict) -> dict:
        refuse_long_name(body)
        return original_create(self, segment, body)

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        refuse_long_name(body)
        return original_update(self, segment, entity_id, body)

    monkeypatch.setattr(Domain, "create", create)
    monkeypatch.setattr(Domain, "update", update)


@faulty("computed_fields_from_client_ignored")
def client_count_done_stored(monkeypatch: MonkeyPatch) -> None:
    """Computed fields sent by a client are ignored: an action-session keeps the count_done of a create or update body."""
    original_create, original_update = Domain.create, Domain.update

    def keep_count_done(self: Domain, entity: dict, body: dict) -> dict:
        if isinstance(body.get("count_done"), int):
            row = {**self.store.get("action-session", entity["action_session_id"]), "count_done": body["count_done"]}
            self.store.replace("action-session", row)  # a write, as a server that keeps it would do
            return self.present("action-session", row)
        return entity

    def create(self: Domain, segment: str, body: dict) -> dict:
        entity = original_create(self, segment, body)
        return keep_count_done(self, entity, body) if segment == "action-session" else entity

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        entity = original_update(self, segment, entity_id, body)
        return keep_count_done(self, entity, body) if segment == "action-session" else entity

    def change(self: Derivations, row: dict, result: dict) -> dict:
        if "count_done" in row:
            result["count_done"] = row["count_done"]
        return result

    monkeypatch.setattr(Domain, "create", create)
    monkeypatch.setattr(Domain, "update", update)
    _wrap_computed(monkeypatch, "action_session_counts", change)


@faulty("unknown_fields_ignored")
def unknown_fields_stored(monkeypatch: MonkeyPatch) -> None:
    """Unknown fields sent by a client are ignored, never stored: here a create keeps and answers them."""
    original = Domain.create

    def create(self: Domain, segment: str, body: dict) -> dict:
        entity = original(self, segment, body)
        resource = self.resources[segment]
        unknown = {k: v for k, v in body.items() if k not in resource.stored and k not in resource.computed}
        if not unknown:
            return entity
        row = {**self.store.get(segment, entity[resource.id_field]), **unknown}
        self.store.replace(segment, row)  # a write, as a server that keeps them would do
        return self.present(segment, row)

    monkeypatch.setattr(Domain, "create", create)


@faulty("missing_reference_is_422")
def session_of_missing_action_created(monkeypatch: MonkeyPatch) -> None:
    """A referenced entity must exist (422): an action-session naming a missing action_id is created (201)."""
    original = Rules._references

    def _references(self: Rules, segment: str, row: dict) -> list:
        return [] if segment == "action-session" else original(self, segment, row)

    monkeypatch.setattr(Rules, "_references", _references)


@faulty("duplicate_is_422")
def duplicate_subscription_accepted(monkeypatch: MonkeyPatch) -> None:
    """The same resource subscribed twice to one action is a 422: the second subscription is created."""

    def _subscription(self: Rules, row: dict, before: dict | None) -> list:
        return self._subject_exists("subscriber_id", row.get("subscriber_id"))

    monkeypatch.setattr(Rules, "_subscription", _subscription)


@faulty("end_before_begin_is_422")
def session_date_end_before_begin_accepted(monkeypatch: MonkeyPatch) -> None:
    """An action-session-date with date_end before date_begin is a 422: it is stored."""
    monkeypatch.setattr(Rules, "_session_date", lambda self, row, before: [])


@faulty("action_type_is_immutable")
def action_type_change_accepted(monkeypatch: MonkeyPatch) -> None:
    """The action_type of an action never changes (422 on update): the update stores the new type."""
    original = Rules._action

    # only the action_type rule goes: the action's other rules (its validity within the calendar) stay
    def _action(self: Rules, row: dict, before: dict | None) -> list:
        return [v for v in original(self, row, before) if v.field != "action_type"]

    monkeypatch.setattr(Rules, "_action", _action)


@faulty("id_is_immutable")
def update_with_other_id_ignored(monkeypatch: MonkeyPatch) -> None:
    """An id in an update body that differs from the path is a 422: here it is silently ignored (200)."""
    original = Domain.update

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        id_field = self.resources[segment].id_field
        return original(self, segment, entity_id, {k: v for k, v in body.items() if k != id_field})

    monkeypatch.setattr(Domain, "update", update)


@faulty("rejected_request_changes_nothing")
def rejected_update_still_written(monkeypatch: MonkeyPatch) -> None:
    """A request rejected with 4xx changes nothing: an update answered 422 is stored anyway."""
    original = Domain.update

    def update(self: Domain, segment: str, entity_id: str, body: dict) -> dict:
        try:
            return original(self, segment, entity_id, body)
        except RuleViolations:
            resource = self.resources[segment]
            with self.lock:
                before = self._row(segment, entity_id)
                sent = {f: body[f] for f in resource.stored if f in body and f != resource.id_field}
                self.store.replace(segment, {**before, **sent})
            raise

    monkeypatch.setattr(Domain, "update", update)


# ================================================================ faulty: HTTP


@faulty("malformed_input_is_400")
def malformed_path_id_is_404(monkeypatch: MonkeyPatch) -> None:
    """A malformed uuid in a path is a 400 naming `id`: path parameters are not checked, so it answers 404."""
    original = FieldNamingParameterValidator.validate_parameter

    def validate_parameter(parameter_type: str, value: Any, param: dict, param_name: str | None = None) -> str | None:
        if parameter_type == "path":
            return None
        return original(parameter_type, value, param, param_name)

    monkeypatch.setattr(FieldNamingParameterValidator, "validate_parameter", staticmethod(validate_parameter))


ANONYMOUS_OPERATION = ("DELETE", "/v2/certificate-action/delete/")


def _sends_no_token(request: Any) -> bool:
    return not request.headers.get("Authorization") and "access-token" not in request.query_params


@faulty("unauthorized_without_valid_token")
def no_token_accepted_on_link_delete(monkeypatch: MonkeyPatch) -> None:
    """Every /v2 operation answers 401 without a token: DELETE /v2/certificate-action/delete/{id} runs without one."""
    original = security.security_map

    def security_map(tokens: security.Tokens) -> dict[str, type]:
        schemes = original(tokens)
        bearer = schemes["oauth2"]

        class LenientBearer(bearer):  # type: ignore[misc, valid-type]
            def get_fn(self, security_scheme: dict, required_scopes: Any) -> Any:
                verify = super().get_fn(security_scheme, required_scopes)

                async def lenient(request: Any) -> Any:
                    method, prefix = ANONYMOUS_OPERATION
                    if request.method == method and request.url.path.startswith(prefix) and _sends_no_token(request):
                        return {"sub": "anonymous", "scope": []}
                    answer = verify(request)
                    while hasattr(answer, "__await__"):
                        answer = await answer
                    return answer

                return lenient

        return {**schemes, "oauth2": LenientBearer}

    monkeypatch.setattr(security, "security_map", security_map)


@faulty("valid_token_accepted_in_both_forms")
def query_token_rejected(monkeypatch: MonkeyPatch) -> None:
    """A valid token is accepted as `Authorization: Bearer` and as `access-token`: the query form answers 401."""
    original = security.security_map

    def security_map(tokens: security.Tokens) -> dict[str, type]:
        schemes = original(tokens)

        class RejectingQueryToken(schemes["apiKey"]):  # type: ignore[misc, valid-type]
            def _resolve_func(self, security_scheme: dict) -> Any:
                return lambda apikey, required_scopes=None: None

        return {**schemes, "apiKey": RejectingQueryToken}

    monkeypatch.setattr(security, "security_map", security_map)


# ---------------------------------------------------------------- faulty: derived values that do not follow their inputs
#
# Each is right when its entity is created and goes wrong only after one input of a derived value
# changes: a parent updated, the child moved to another parent, one more link of the same entry,
# a date-time written with an offset.


def _saved_with_row(
    monkeypatch: MonkeyPatch, segment: str, method: str, fields: tuple[str, ...], saved_with: Callable[[Derivations, dict], Any] | None = None
) -> None:
    """Derivations.<method>'s `fields` are computed when their row is saved (created or updated:
    a new row object) and then kept, as a server that copies them into the row; with `saved_with`,
    also whenever that object (another row) changes. Updates of other rows are not followed."""
    original = getattr(Derivations, method)
    kept: dict[tuple[str, Any], tuple[Any, Any, dict]] = {}

    @functools.wraps(original)
    def patched(self: Derivations, row: dict) -> dict:
        result = dict(original(self, row))
        key = (method, row[id_field(segment)])
        witness = saved_with(self, row) if saved_with else None
        found = kept.get(key)
        if found is None or found[0] is not row or found[1] is not witness:
            kept[key] = (row, witness, {name: result.get(name) for name in fields})
            return result
        return {**result, **found[2]}

    monkeypatch.setattr(Derivations, method, patched)


def _first_seen(monkeypatch: MonkeyPatch, segment: str, field: str) -> dict[str, Any]:
    """The value `field` of each entity of `segment` had when it was created (kept by id, set again
    by each create of that id)."""
    seen: dict[str, Any] = {}
    original = Domain.create

    @functools.wraps(original)
    def create(self: Domain, asked: str, body: dict[str, Any]) -> dict:
        answer = original(self, asked, body)
        if asked == segment:
            row = self.store.get(segment, answer[self.resources[segment].id_field])
            seen[row[self.resources[segment].id_field]] = (row or {}).get(field)
        return answer

    monkeypatch.setattr(Domain, "create", create)
    return seen


@faulty("search_by_derived_value_finds_the_entity")
def session_action_name_searched_in_the_copy_saved_with_it(monkeypatch: MonkeyPatch) -> None:
    """A search (filter or sort) on a session's action_name uses the answered value: here a copy of the action's name taken when the session was saved, which a later rename of the action leaves behind (answers derive the current name)."""
    saved: dict[str, Any] = {}
    original_create, original_update, original_project = Domain.create, Domain.update, Derivations.project

    def remember(self: Domain, answer: dict) -> dict:
        action = self.store.get("action", answer.get("action_id")) or {}
        saved[answer["action_session_id"]] = action.get("name")
        return answer

    def create(self: Domain, segment: str, body: dict[str, Any]) -> dict:
        answer = original_create(self, segment, body)
        return remember(self, answer) if segment == "action-session" else answer

    def update(self: Domain, segment: str, entity_id: str, body: dict[str, Any]) -> dict:
        answer = original_update(self, segment, entity_id, body)
        return remember(self, answer) if segment == "action-session" else answer

    def project(self: Derivations, segment: str, row: dict, fields: set[str]) -> dict[str, Any]:
        values = dict(original_project(self, segment, row, fields))
        if segment == "action-session" and "action_name" in fields and row["action_session_id"] in saved:
            values["action_name"] = saved[row["action_session_id"]]
        return values

    monkeypatch.setattr(Domain, "create", create)
    monkeypatch.setattr(Domain, "update", update)
    monkeypatch.setattr(Derivations, "project", project)


@faulty("certificate_expiry_derivation", "link_expiry_inherited")
def certificate_expiry_stale_after_release_update(monkeypatch: MonkeyPatch) -> None:
    """Certificate date_expire = date_release + validity: an update of date_release alone keeps the expiry derived from the release before (recomputed only when validity or validity_unit is sent)."""
    release_used: dict[str, str] = {}
    original_update, original_expiry = Domain.update, Derivations.certificate_expiry

    def update(self: Domain, segment: str, entity_id: str, body: dict[str, Any]) -> dict:
        if segment == "certificate":
            before = self.store.get(segment, entity_id) or {}
            if "validity" in body or "validity_unit" in body:
                release_used.pop(entity_id, None)
            elif "date_release" in body and before.get("date_release"):
                release_used.setdefault(entity_id, before["date_release"])
        return original_update(self, segment, entity_id, body)

    def certificate_expiry(self: Derivations, certificate: dict) -> dt.date | None:
        used = release_used.get(certificate.get("certificate_id"))
        return original_expiry(self, {**certificate, "date_release": used} if used else certificate)

    monkeypatch.setattr(Domain, "update", update)
    monkeypatch.setattr(Derivations, "certificate_expiry", certificate_expiry)


@faulty("link_expiry_inherited")
def link_inherits_certificate_date_expire_of_its_creation(monkeypatch: MonkeyPatch) -> None:
    """CertificateAction date_expire, inherited, is the certificate's expiry: after the certificate's own date_expire is changed or removed, the link still inherits the one it had when the link was saved."""
    kept: dict[str, tuple[dict, Any]] = {}
    original = Derivations.link_expiry

    def link_expiry(self: Derivations, link: dict) -> dt.date | None:
        certificate = self._get("certificate", link.get("certificate_id"))
        found = kept.get(link["certificate_action_id"])
        if found is None or found[0] is not link:
            kept[link["certificate_action_id"]] = (link, certificate.get("date_expire"))
            return original(self, link)
        if link.get("date_expire") or not certificate:
            return original(self, link)
        as_saved = {**certificate, "date_expire": found[1]}
        return self.certificate_expiry(as_saved)

    monkeypatch.setattr(Derivations, "link_expiry", link_expiry)


@faulty("parent_fields_copied")
def session_action_names_copied_when_saved(monkeypatch: MonkeyPatch) -> None:
    """ActionSession action_code/action_name are its action's: copied when the session is saved, an update of the action's name or code is not followed."""
    _saved_with_row(monkeypatch, "action-session", "action_session_names", ("action_code", "action_name"))


@faulty("parent_fields_copied")
def link_certificate_fields_copied_when_saved(monkeypatch: MonkeyPatch) -> None:
    """CertificateAction certificate_name, date_release, resource_id are its certificate's: copied when the link is saved, an update of the certificate is not followed."""
    _saved_with_row(monkeypatch, "certificate-action", "certificate_action", ("certificate_name", "date_release", "resource_id"))


@faulty("parent_fields_copied")
def date_people_copied_when_saved(monkeypatch: MonkeyPatch) -> None:
    """ActionSessionDate manager/assignee/watcher are the session's, else the action's: copied when the date is saved, later updates of the session or action are not followed."""
    _saved_with_row(monkeypatch, "action-session-date", "action_session_date", ("manager", "assignee", "watcher"))


@faulty("certificate_office_from_first_link")
def certificate_office_copied_when_first_linked(monkeypatch: MonkeyPatch) -> None:
    """Certificate subtenant_id is the office of its first link's action: copied when that link is saved, a move of the action to another office is not followed."""
    _saved_with_row(monkeypatch, "certificate", "certificate_context", ("subtenant_id", "subtenant_type"), lambda self, row: self.first_link(row["certificate_id"]))


@faulty("parent_fields_copied")
def date_keeps_action_of_its_first_session(monkeypatch: MonkeyPatch) -> None:
    """ActionSessionDate action_id, action_code/name/type and people follow its session: a date moved to another session (action_session_id updated) keeps those of the session it was created in."""
    first = _first_seen(monkeypatch, "action-session-date", "action_session_id")
    original = Derivations.action_session_date

    def action_session_date(self: Derivations, row: dict) -> dict:
        created_in = first.get(row["action_session_date_id"])
        return original(self, {**row, "action_session_id": created_in} if created_in else row)

    monkeypatch.setattr(Derivations, "action_session_date", action_session_date)


@faulty("parent_fields_copied")
def link_keeps_action_of_its_creation(monkeypatch: MonkeyPatch) -> None:
    """CertificateAction action_code/name/type follow its action: a link moved to another action (action_id updated) keeps those of the action it was created for."""
    first = _first_seen(monkeypatch, "certificate-action", "action_id")
    original = Derivations.certificate_action

    def certificate_action(self: Derivations, row: dict) -> dict:
        result = dict(original(self, row))
        created_for = first.get(row["certificate_action_id"])
        if created_for and created_for != row.get("action_id"):
            result.update(self._names_of_action(self._get("action", created_for)))
        return result

    monkeypatch.setattr(Derivations, "certificate_action", certificate_action)


@faulty("action_counts_match_model")
def valid_count_counts_links(monkeypatch: MonkeyPatch) -> None:
    """Action countValid = entries whose status is VALID or EXPIRING: counts each such entry once per certificate of its resource linked to the action (a join not grouped by entry)."""
    original = Derivations.action_counts

    def action_counts(self: Derivations, row: dict) -> dict:
        result = dict(original(self, row))
        extra = 0
        for subscription in self._children("action-subscription", "action_id", row["action_id"]):
            if self.subscription_status(subscription) in computed.VALID_STATUSES:
                links = self.store.joined(computed.LINKS_BY_ACTION_AND_SUBJECT, (row["action_id"], subscription["subscriber_id"]))
                extra += max(0, len(list(links)) - 1)
        result["countValid"] += extra
        result["countToDo"] -= extra
        return result

    monkeypatch.setattr(Derivations, "action_counts", action_counts)


@faulty("action_counts_match_model")
def scheduled_count_counts_enrollments(monkeypatch: MonkeyPatch) -> None:
    """Action countScheduled = entries enrolled, outcome unknown, in a session not yet over: counts each such enrollment (an entry in two such sessions counts twice)."""
    original = Derivations.action_counts

    def action_counts(self: Derivations, row: dict) -> dict:
        result = dict(original(self, row))
        today, extra = self.clock.today(), 0
        for subscription in self._children("action-subscription", "action_id", row["action_id"]):
            if self.subscription_status(subscription) in computed.VALID_STATUSES:
                continue
            open_sessions = 0
            for enrollment in self._children(ENROLLMENT, "action_subscription_id", subscription["action_subscription_id"]):
                _, end = self.session_span(enrollment["action_session_id"])
                if enrollment.get("done", -1) == -1 and end is not None and dt.date.fromisoformat(end) >= today:
                    open_sessions += 1
            extra += max(0, open_sessions - 1)
        result["countScheduled"] += extra
        result["countToDo"] -= extra
        return result

    monkeypatch.setattr(Derivations, "action_counts", action_counts)


def _duplicate_check_on_create_only(monkeypatch: MonkeyPatch, method: str, field: str) -> None:
    """Rules.<method> without its duplicate check on updates (a unique rule checked by the create
    handler only, not by a unique index)."""
    original = getattr(Rules, method)

    @functools.wraps(original)
    def patched(self: Rules, row: dict, before: dict | None) -> list:
        found = original(self, row, before)
        if before is None:
            return found
        return [v for v in found if not (v.field == field and "already" in v.message)]

    monkeypatch.setattr(Rules, method, patched)


@faulty("duplicate_is_422")
def enrollment_moved_onto_a_duplicate_accepted(monkeypatch: MonkeyPatch) -> None:
    """An entry is enrolled in a session at most once (422): an update of an enrollment's action_session_id to a session the entry is already enrolled in is accepted."""
    _duplicate_check_on_create_only(monkeypatch, "_enrollment", "action_subscription_id")


def _utc(text: str) -> dt.datetime:
    """The instant a date-time names, in UTC (a local time without offset taken as UTC)."""
    moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


@faulty("session_dates_span_its_dates", "action_counts_match_model")
def session_span_through_utc(monkeypatch: MonkeyPatch) -> None:
    """ActionSession date_begin/date_end are the date part written in its dates' texts (their local time): converted to UTC first, a date written with an offset near midnight gives another day."""

    def session_span(self: Derivations, session_id: str) -> tuple[str | None, str | None]:
        dates = self._children("action-session-date", "action_session_id", session_id)
        if not dates:
            return None, None
        begin = min(_utc(d["date_begin"]) for d in dates)
        end = max(_utc(d["date_end"]) for d in dates)
        return begin.date().isoformat(), end.date().isoformat()

    monkeypatch.setattr(Derivations, "session_span", session_span)



# ================================================================ legitimate


@legitimate
def ids_uuid1(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: generated ids are time-based uuid1 values instead of random uuid4."""
    monkeypatch.setattr(service, "uuid", types.SimpleNamespace(uuid4=uuid.uuid1))


@legitimate
def ids_sequential(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: generated ids are sequential-looking uuids (00000000-0000-4000-8000-000000000001, ...)."""
    counter = itertools.count(1)

    def uuid4() -> uuid.UUID:
        return uuid.UUID(f"00000000-0000-4000-8000-{next(counter):012x}")

    monkeypatch.setattr(service, "uuid", types.SimpleNamespace(uuid4=uuid4))


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


@legitimate
def response_keys_reversed(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: every JSON object of an answer (entities, previews, 422 lists) has its keys in reverse order."""
    original_present, original_preview, original_unprocessable = Domain.present, handlers.preview, handlers.unprocessable

    def present(self: Domain, segment: str, row: dict) -> dict:
        return _reversed_keys(original_present(self, segment, row))

    def preview(error: HasDescendants) -> tuple:
        body, status, headers = original_preview(error)
        return _reversed_keys(body), status, headers

    def unprocessable(error: RuleViolations) -> tuple:
        body, status, headers = original_unprocessable(error)
        return _reversed_keys(body), status, headers

    monkeypatch.setattr(Domain, "present", present)
    monkeypatch.setattr(handlers, "preview", preview)
    monkeypatch.setattr(handlers, "unprocessable", unprocessable)


@legitimate
def extra_response_field(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: every answered entity carries an extra field `x_extra` the spec does not name."""
    original = Domain.present

    def present(self: Domain, segment: str, row: dict) -> dict:
        return {**original(self, segment, row), "x_extra": "added by the server"}

    monkeypatch.setattr(Domain, "present", present)


SLOWDOWN_SECONDS = 0.02


def _slowed(factory: Callable[[Domain, str], Callable]) -> Callable[[Domain, str], Callable]:
    """A handler factory whose handlers wait SLOWDOWN_SECONDS before answering (same signature)."""

    def make(domain: Domain, segment: str) -> Callable:
        handler = factory(domain, segment)

        @functools.wraps(handler)
        def slowed(*args: Any, **kwargs: Any) -> Any:  # handlers run in the thread pool
            time.sleep(SLOWDOWN_SECONDS)
            return handler(*args, **kwargs)

        return slowed

    return make


@legitimate
def slow_answers(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: every /v2 operation answers about 20 ms later."""
    for verb, factory in list(handlers.FACTORIES.items()):
        monkeypatch.setitem(handlers.FACTORIES, verb, _slowed(factory))


# ---------------------------------------------------------------- legitimate: a server behind a gateway
#
# These variants change the HTTP layer, not the domain: an ASGI middleware added outermost to the
# app `create_app` builds (the suite builds its in-process app with `mock_server.app.create_app`).

ASGIApp = Callable[[dict, Callable, Callable], Any]


def _add_outer_middleware(monkeypatch: MonkeyPatch, middleware: Callable[..., ASGIApp], **options: Any) -> None:
    from connexion.middleware import MiddlewarePosition

    from mock_server import app as app_module

    original = app_module.create_app

    @functools.wraps(original)
    def create_app(config: Any = None) -> Any:
        app = original(config)
        tokens = tuple(getattr(config, "tokens", ()) or ())
        app.add_middleware(middleware, position=MiddlewarePosition.BEFORE_EXCEPTION, tokens=tokens, **options)
        return app

    monkeypatch.setattr(app_module, "create_app", create_app)


def _is_api_path(scope: dict) -> bool:
    return scope.get("type") == "http" and str(scope.get("path", "")).startswith("/v2/")


def _sends_valid_token(scope: dict, tokens: tuple[str, ...]) -> bool:
    from urllib.parse import parse_qs

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    bearer = headers.get("authorization", "")
    if bearer.startswith("Bearer ") and bearer[7:] in tokens:
        return True
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(token in tokens for token in query.get("access-token", []))


class GatewayHeaders:
    """Unrelated headers on every answer, and `charset=utf-8` in JSON content types."""

    EXTRA = ((b"x-request-id", b"3f1c2e"), (b"via", b"1.1 gateway"), (b"server-timing", b"app;dur=3"), (b"x-frame-options", b"DENY"))

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = ()) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def decorated(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type" and value.split(b";")[0].strip().endswith(b"json") and b"charset" not in value:
                        value = value + b"; charset=utf-8"
                    headers.append((name, value))
                message = {**message, "headers": [*headers, *self.EXTRA]}
            await send(message)

        await self.app(scope, receive, decorated)


class GzipAnswers:
    """Every answer that has a body is gzipped when the client accepts gzip (a 204 has none)."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = ()) -> None:
        self.app = GatewayHeaders(app)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        import gzip

        accepts = any(k.lower() == b"accept-encoding" and b"gzip" in v for k, v in scope.get("headers", []))
        if scope.get("type") != "http" or not accepts:
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def compress(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if body and start.get("status") not in (204, 304):
                body = gzip.compress(body)
                headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, compress)


@legitimate
def gateway_headers_gzip_charset(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: answers gzipped (Content-Encoding: gzip), unrelated extra headers, `; charset=utf-8` in JSON content types."""
    _add_outer_middleware(monkeypatch, GzipAnswers)


RATE_LIMIT_EVERY = 50  # 2% of the API requests that carry a valid token
RATE_LIMIT_RETRY_AFTER = "1"


class RateLimiter:
    """Every RATE_LIMIT_EVERY-th API request with a valid token answers 429 with Retry-After,
    unprocessed (the app never sees it), as a per-key gateway quota does."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = ()) -> None:
        self.app, self.tokens, self.counter = app, tokens, itertools.count(1)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if _is_api_path(scope) and _sends_valid_token(scope, self.tokens) and next(self.counter) % RATE_LIMIT_EVERY == 0:
            body = b'{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"quota exceeded"}'
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", b"application/problem+json"), (b"retry-after", RATE_LIMIT_RETRY_AFTER.encode()),
                (b"content-length", str(len(body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@legitimate
def rate_limited_429(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: 2% of the API requests answer 429 Too Many Requests with Retry-After: 1, unprocessed."""
    _add_outer_middleware(monkeypatch, RateLimiter)


LATENCY_RANGE = (0.03, 0.12)


class Latency:
    """Every API answer 30-120 ms later (seeded, so a run is the same run)."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = ()) -> None:
        import random

        self.app, self.random = app, random.Random(12)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        import asyncio

        if _is_api_path(scope):
            await asyncio.sleep(self.random.uniform(*LATENCY_RANGE))
        await self.app(scope, receive, send)


# ~10,000 requests 75 ms slower on average: 4 pytest-xdist workers keep the run near 4 minutes
@legitimate_with("-n", "4")
def answers_30_to_120_ms_later(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: every /v2 answer comes 30-120 ms later, as from a server in another region."""
    _add_outer_middleware(monkeypatch, Latency)


def _rewritten_spec(value: Any) -> Any:
    """What a gateway that rewrites JSON might serve: keys reversed, one unknown field in every
    object that has an `..._id` key (in the document, `properties` objects have such keys); the
    same `info`, so nothing but the content tells the documents apart."""
    if isinstance(value, dict):
        rewritten = {k: _rewritten_spec(value[k]) for k in reversed(list(value))}
        if any(str(key).endswith("_id") for key in value):
            rewritten["x_gateway_trace"] = "added"
        return rewritten
    if isinstance(value, list):
        return [_rewritten_spec(item) for item in value]
    return value


class RewrittenSpec:
    """GET /openapi.json answers a document that differs from the contract."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = ()) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        import json

        if scope.get("type") != "http" or scope.get("path") != "/openapi.json":
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def keep(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    document = _rewritten_spec(json.loads(b"".join(chunks)))
                    document.get("paths", {}).pop("/v2/certificate-action/index", None)  # an older deploy lacks it
                    body = json.dumps(document).encode()
                    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                    await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, keep)


@legitimate
def served_spec_differs(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: /openapi.json serves another document with the same `info` (keys reversed, an unknown field next to every `..._id` key, one path fewer)."""
    _add_outer_middleware(monkeypatch, RewrittenSpec)


LOST_CREATE_ANSWER_EVERY = 25  # 4% of the creates the mock answered 201
LOST_ANSWER_BODY = b'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"upstream answer lost"}'


def _is_create(scope: dict) -> bool:
    return _is_api_path(scope) and scope.get("method") == "POST" and str(scope.get("path", "")).rstrip("/").endswith("/create")


class LostCreateAnswers:
    """The app processes every create; of those it answered 201, every `every`-th answer is
    replaced by a 502 (counted, so a run is the same run), as from a gateway whose upstream
    connection broke after the server had stored the entity."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...] = (), every: int = LOST_CREATE_ANSWER_EVERY) -> None:
        self.app, self.every, self.counter = app, every, itertools.count(1)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not _is_create(scope):
            await self.app(scope, receive, send)
            return
        lost = False

        async def answer(message: dict) -> None:
            nonlocal lost
            if message["type"] == "http.response.start":
                lost = message.get("status") == 201 and next(self.counter) % self.every == 0
                if lost:
                    message = {**message, "status": 502, "headers": [
                        (b"content-type", b"application/problem+json"), (b"content-length", str(len(LOST_ANSWER_BODY)).encode()),
                    ]}
            elif message["type"] == "http.response.body" and lost:
                if message.get("more_body"):
                    return  # the stored entity's body never reaches the client
                message = {"type": "http.response.body", "body": LOST_ANSWER_BODY}
            await send(message)

        await self.app(scope, receive, answer)


def add_lost_create_answers(monkeypatch: MonkeyPatch, every: int = LOST_CREATE_ANSWER_EVERY) -> None:
    _add_outer_middleware(monkeypatch, LostCreateAnswers, every=every)


@legitimate
def created_answers_lost_502(monkeypatch: MonkeyPatch) -> None:
    """Legitimate: a gateway answers 502 for every 25th create the server stored (201): processed, its answer lost."""
    add_lost_create_answers(monkeypatch)
