"""The operations of every resource, with their rules, computed fields and cascades.

One lock makes every operation atomic: a request sees the state before or after another
request, never half of it. Every write runs in a store transaction that also computes the
answer: when anything raises (a broken rule, or an unexpected error in a cascade or in a
computed field), every write of the operation is undone and the state is as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..resources import SEGMENTS, Resource
from ..storage import Row, Store, compact
from ..state_format import StateError, excerpt, path_text
from .clock import Clock
from .computed import DERIVED_WHEN_EMPTY, Derivations
from .directory import Directory
from .errors import HasDescendants, NotFound, RuleViolations, Violation
from .relations import CLEARED_REFERENCES, INDEXED, JOINS, PREVIEW_ORDER, children_of
from .rules import Rules
from .search import Page, Query, matches, paginate

# The order in which a seed or an import creates entities: parents before children.
LOAD_ORDER = (
    "action",
    "action-subscription",
    "action-session",
    "action-session-date",
    "certificate",
    "certificate-action",
    "action-session-subscription",
)
assert set(LOAD_ORDER) == set(SEGMENTS)

# Searches on derived fields whose ordered result is kept until the next write.
SEARCH_CACHE_SIZE = 32

logger = logging.getLogger("mock_server.domain")


@dataclass(frozen=True)
class Change:
    """A create, update or delete through the API, told to the listeners once it committed.
    `before` and `after` are the entity as the API answers it (computed fields too); do not
    change them."""

    workspace: str
    segment: str
    kind: str  # "created", "updated" or "deleted"
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


Listener = Callable[[Change], None]


class Domain:
    def __init__(
        self,
        resources: dict[str, Resource],
        clock: Clock,
        directory: Directory | None = None,
        check_body: Callable[[str, dict[str, Any]], None] | None = None,
        workspace: str = "default",
    ) -> None:
        self.resources = resources
        self.workspace = workspace
        # Called after each API create/update/delete commits, under the lock (so in commit order);
        # a listener must be quick (webhooks only enqueue). A cascade tells only of its target.
        self.listeners: list[Listener] = []
        self.clock = clock
        # Checks a create body against the spec (raises ValueError); the HTTP layer does this for
        # API calls, `load` needs it for seed and imported entities.
        self.check_body = check_body
        self.lock = threading.RLock()
        self._install(directory or Directory())

        # Every stored field as null: a row keeps only fields with a value, an answer has all.
        self._empty = {s: dict.fromkeys(r.stored) for s, r in resources.items()}
        self._bulk = False  # while loading: the id order is sorted once at the end

    def _install(self, directory: Directory) -> None:
        """Empty tables over `directory`, with everything derived from them (see `build`)."""
        # A new store counts its versions from 0 again: nothing cached may outlive the old one.
        self._search_cache: dict[tuple, list[str]] = {}
        self._search_cache_version: tuple | None = None
        self.directory = directory
        self.store = Store({s: (r.id_field, INDEXED[s]) for s, r in self.resources.items()}, JOINS)
        self.derive = Derivations(self.store, directory, self.clock)
        self.rules = Rules(self.store, directory)

    # --- answers ------------------------------------------------------------------------

    def present(self, segment: str, row: Row) -> dict[str, Any]:
        """The entity as the API answers it: every stored field, then the computed ones."""
        return {**self._empty[segment], **row, **self.derive.computed(segment, row)}

    def _row(self, segment: str, entity_id: str) -> Row:
        row = self.store.get(segment, entity_id)
        if row is None:
            raise NotFound(segment, entity_id)
        return row

    # --- operations ---------------------------------------------------------------------

    def view(self, segment: str, entity_id: str) -> dict[str, Any]:
        with self.lock:
            return self.present(segment, self._row(segment, entity_id))

    def create(self, segment: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            with self.store.transaction():
                row = self._insert(segment, body)
                answer = self.present(segment, row)
            self._tell("created", segment, row[self.resources[segment].id_field], None, answer)
            return answer

    def _tell(self, kind: str, segment: str, entity_id: str, before: dict[str, Any] | None,
              after: dict[str, Any] | None) -> None:
        """Tell the listeners of a committed change; a failing listener never fails the call."""
        if not self.listeners:
            return
        change = Change(self.workspace, segment, kind, entity_id, before, after)
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:
                logger.exception("a listener of %s %s %s failed", kind, segment, entity_id)

    def _insert(self, segment: str, body: dict[str, Any]) -> Row:
        resource = self.resources[segment]
        row: Row = {field: body.get(field, resource.defaults.get(field)) for field in resource.stored}
        if row[resource.id_field] is None:
            row[resource.id_field] = str(uuid.uuid4())
        elif self.store.get(segment, row[resource.id_field]) is not None:
            raise RuleViolations([Violation(resource.id_field, f"{segment} {row[resource.id_field]} already exists")])
        row = compact(row)
        self._check(segment, {**self._empty[segment], **row}, before=None)
        self.store.insert(segment, row, bulk=self._bulk)
        return row

    def update(self, segment: str, entity_id: str, body: dict[str, Any]) -> dict[str, Any]:
        resource = self.resources[segment]
        with self.lock:
            with self.store.transaction():
                before = self._row(segment, entity_id)
                sent_id = body.get(resource.id_field)
                if sent_id is not None and sent_id != entity_id:
                    raise RuleViolations([Violation(resource.id_field, "the id of an entity cannot change")])
                row = compact({**before, **{f: body[f] for f in resource.stored if f in body and f != resource.id_field}})
                empty = self._empty[segment]
                self._check(segment, {**empty, **row}, before={**empty, **before})
                answered_before = self.present(segment, before) if self.listeners else None
                self.store.replace(segment, row)
                answer = self.present(segment, row)
            self._tell("updated", segment, entity_id, answered_before, answer)
            return answer

    def _check(self, segment: str, row: Row, before: Row | None) -> None:
        violations = self.rules.check(segment, row, before)
        if violations:
            raise RuleViolations(violations)

    def descendants(self, segment: str, entity_id: str) -> list[tuple[str, str]]:
        """Everything force=true deletes below the entity, in preview order."""
        found: set[tuple[str, str]] = set()
        pending = [(segment, entity_id)]
        while pending:
            parent_segment, parent_id = pending.pop()
            for child, field in children_of(parent_segment):
                for child_id in self.store.table(child).lookup(field, parent_id):
                    if (child, child_id) not in found:
                        found.add((child, child_id))
                        pending.append((child, child_id))
        return sorted(found, key=lambda item: (PREVIEW_ORDER.index(item[0]), item[1]))

    def delete(self, segment: str, entity_id: str, force: bool) -> None:
        with self.lock:
            with self.store.transaction():
                row = self._row(segment, entity_id)
                doomed = self.descendants(segment, entity_id)
                if doomed and not force:
                    raise HasDescendants(doomed)
                answered_before = self.present(segment, row) if self.listeners else None
                for doomed_segment, doomed_id in [(segment, entity_id), *doomed]:
                    self._clear_references_to(doomed_segment, doomed_id)
                    self.store.remove(doomed_segment, doomed_id)
            self._tell("deleted", segment, entity_id, answered_before, None)

    def _clear_references_to(self, segment: str, entity_id: str) -> None:
        for holder, fields in CLEARED_REFERENCES.items():
            for field, target in fields.items():
                if target != segment:
                    continue
                table = self.store.table(holder)
                for holder_id in list(table.lookup(field, entity_id)):
                    row = dict(table.rows[holder_id])
                    del row[field]
                    self.store.replace(holder, row)

    def search(self, segment: str, body: dict[str, Any] | None, subscriber_id: str | None = None) -> Page:
        resource = self.resources[segment]
        query = Query.from_body(body)
        with self.lock:
            table = self.store.table(segment)
            order = table.sorted_ids()
            ids: Iterable[str] = order
            for field, value in query.filter.items():
                if field in table.indexes and value is not None and resource.filters.get(field) == "exact":
                    found = table.lookup(field, value).keys()
                    ids = found if ids is order else ids & found  # type: ignore[operator]
            if subscriber_id is not None:
                dates = self._dates_of_subscriber(subscriber_id)
                ids = dates if ids is order else dates & set(ids)
            presorted = ids is order
            if not query.filter and not query.sort and presorted:  # the common case, kept cheap
                start = (query.page - 1) * query.per_page
                items = [self.present(segment, table.rows[i]) for i in order[start : start + query.per_page]]
                return Page(items=items, total=len(table), page=query.page, per_page=query.per_page)
            derived = set(resource.computed) | DERIVED_WHEN_EMPTY.get(segment, frozenset())
            if query.fields() & derived:
                matching = self._derived_search(segment, query, ids, presorted, subscriber_id)
                start = (query.page - 1) * query.per_page
                items = [self.present(segment, table.rows[i]) for i in matching[start : start + query.per_page]]
                return Page(items, len(matching), query.page, query.per_page)
            accept = matches(resource, query.filter)
            page = paginate([r for r in self.store.rows(segment, ids) if accept(r)], query, resource.id_field, presorted)
            return Page([self.present(segment, r) for r in page.items], page.total, page.page, page.per_page)

    def _derived_search(
        self, segment: str, query: Query, ids: Iterable[str], presorted: bool, subscriber_id: str | None
    ) -> list[str]:
        """The ids matching a search that filters or sorts on derived fields, in order.

        Each row is judged on the values the API answers, projected to the fields the query reads;
        the result is kept until the next write or date change, so paging through it is cheap."""
        key = (segment, json.dumps(query.filter, sort_keys=True), query.sort, subscriber_id)
        version = (self.store.version, self.clock.today())
        if self._search_cache_version != version:
            self._search_cache.clear()
            self._search_cache_version = version
        if key in self._search_cache:
            return self._search_cache[key]
        resource = self.resources[segment]
        fields = query.fields() | {resource.id_field}
        rows = self.store.table(segment).rows

        def project(row: Row) -> Row:
            derived = self.derive.project(segment, row, fields)
            return {f: derived[f] if f in derived else row.get(f) for f in fields}

        accept = matches(resource, query.filter)
        projected = [p for p in (project(rows[i]) for i in ids) if accept(p)]
        everything = Query(filter=query.filter, sort=query.sort, page=1, per_page=max(1, len(projected)))
        ordered = [p[resource.id_field] for p in paginate(projected, everything, resource.id_field, presorted).items]
        if len(self._search_cache) >= SEARCH_CACHE_SIZE:
            self._search_cache.pop(next(iter(self._search_cache)))
        self._search_cache[key] = ordered
        return ordered

    def _dates_of_subscriber(self, subscriber_id: str) -> set[str]:
        subscriptions = self.store.table("action-subscription").lookup("subscriber_id", subscriber_id)
        enrollments = self.store.table("action-session-subscription")
        sessions = {
            enrollments.rows[e]["action_session_id"]
            for s in subscriptions
            for e in enrollments.lookup("action_subscription_id", s)
        }
        dates = self.store.table("action-session-date")
        return {d for session in sessions for d in dates.lookup("action_session_id", session)}

    # --- whole state --------------------------------------------------------------------
    #
    # A new state is built off to the side, in a copy of this domain with a lock of its own, then
    # swapped in under the lock in one short step: reads and writes go on while it builds (each
    # sees the old state or the new one), and a state that fails to build leaves nothing behind.

    def snapshot(self) -> StateSnapshot:
        """The whole state as it is now, taken under the lock in time proportional to the number
        of rows (no copy of a row: the store never changes a row in place, it replaces it, so the
        rows of a snapshot stay as they were while later writes go on)."""
        with self.lock:
            return StateSnapshot(
                directory=self.directory,
                entities=self.store.snapshot(),
            )

    def export(self) -> dict[str, Any]:
        """The whole state in the seed format (its rows are the store's own: do not change them)."""
        snapshot = self.snapshot()
        return {"directory": snapshot.directory.to_data(), "entities": snapshot.entities}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole state by `data` (the seed format, values as they are: relative seed
        dates are resolved by the seed module, not here). All or nothing: on any broken rule
        the current state stays and the StateError names the field that broke it."""
        self.adopt(self.build(data))

    def build(self, data: dict[str, Any], today: dt.date | None = None) -> StagedState:
        """A state holding `data`, built without this domain's lock; `adopt` swaps it in.
        `today`: build it on a clock fixed at that date (to try whether `data` loads then)."""
        staged = copy.copy(self)
        staged.lock = threading.RLock()
        if today is not None:
            staged.clock = Clock(today)
        before = dict(vars(staged))
        staged._fill(data)
        # What building replaced (store, directory, derivations, caches...) is the new state.
        replaced = {
            name: value for name, value in vars(staged).items()
            if name not in ("lock", "clock") and before.get(name, _ABSENT) is not value
        }
        return StagedState(replaced, trial=today is not None)

    def adopt(self, staged: StagedState) -> None:
        # A trial state runs on a clock of its own, which must not become the mock's.
        assert not staged.trial, "a state built for another day is a trial, not a state to adopt"
        with self.lock:
            vars(self).update(staged.attributes)

    def _fill(self, data: dict[str, Any]) -> None:
        """Load `data` into this (fresh, unshared) domain."""
        self._install(Directory.from_data(data.get("directory") or {}))
        entities = data.get("entities") or {}
        unknown = sorted(set(entities) - set(LOAD_ORDER))
        if unknown:
            raise StateError(path_text(["entities", unknown[0]]), "is not a resource of the API")
        self._bulk = True
        try:
            for segment in LOAD_ORDER:
                for position, body in enumerate(entities.get(segment) or []):
                    self._load_entity(segment, body, f"entities.{segment}[{position}]")
        finally:
            self._bulk = False
        for table in self.store.tables.values():
            table.sorted_ids()  # sorted here, not by the first read after the swap

    def _load_entity(self, segment: str, body: Any, where: str) -> None:
        if not isinstance(body, dict):
            raise StateError(where, "an entity is an object of the resource's fields")
        try:
            if self.check_body is not None:
                self.check_body(segment, body)
            self._insert(segment, body)
        except StateError as error:
            raise StateError(f"{where}.{error.field}" if error.field != "body" else where, error.message) from None
        except RuleViolations as error:
            first, *others = error.violations
            message = "; ".join([first.message, *(f"{v.field}: {v.message}" for v in others)])
            raise StateError(f"{where}.{first.field}", excerpt(message, 300)) from None
        except ValueError as error:
            raise StateError(where, excerpt(str(error))) from None


_ABSENT = object()  # an attribute a domain did not have


@dataclass(frozen=True)
class StateSnapshot:
    directory: Directory
    entities: dict[str, list[Row]]  # per segment, the rows in creation order


@dataclass(frozen=True)
class StagedState:
    """A state built off to the side (`Domain.build`): the domain attributes it replaces."""

    attributes: dict[str, Any]
    trial: bool = False  # built on a clock of its own (`build(data, today)`)
