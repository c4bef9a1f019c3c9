"""The operations of every resource, with their rules, computed fields and cascades.

One lock makes every operation atomic: a request sees the state before or after another
request, never half of it. Every write runs in a store transaction that also computes the
answer: when anything raises (a broken rule, or an unexpected error in a cascade or in a
computed field), every write of the operation is undone and the state is as it was.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Callable, Iterable

from ..resources import SEGMENTS, Resource
from ..storage import Row, Store, compact
from .clock import Clock, resolve_relative
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


class Domain:
    def __init__(
        self,
        resources: dict[str, Resource],
        clock: Clock,
        directory: Directory | None = None,
        check_body: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.resources = resources
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
        with self.lock, self.store.transaction():
            return self.present(segment, self._insert(segment, body))

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
        with self.lock, self.store.transaction():
            before = self._row(segment, entity_id)
            sent_id = body.get(resource.id_field)
            if sent_id is not None and sent_id != entity_id:
                raise RuleViolations([Violation(resource.id_field, "the id of an entity cannot change")])
            row = compact({**before, **{f: body[f] for f in resource.stored if f in body and f != resource.id_field}})
            empty = self._empty[segment]
            self._check(segment, {**empty, **row}, before={**empty, **before})
            self.store.replace(segment, row)
            return self.present(segment, row)

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
        with self.lock, self.store.transaction():
            self._row(segment, entity_id)
            doomed = self.descendants(segment, entity_id)
            if doomed and not force:
                raise HasDescendants(doomed)
            for doomed_segment, doomed_id in [(segment, entity_id), *doomed]:
                self._clear_references_to(doomed_segment, doomed_id)
                self.store.remove(doomed_segment, doomed_id)

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
            derived = self.derive.computed(segment, row, fields)
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

    def export(self) -> dict[str, Any]:
        with self.lock:
            return {"directory": self.directory.to_data(), "entities": self.store.export()}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole state by `data` (the seed format). All or nothing: on any broken
        rule the current state stays and the error says which entity broke it."""
        with self.lock:
            saved = (self.directory, self.store, self.derive, self.rules)
            self._install(Directory.from_data(data.get("directory") or {}))
            self._bulk = True
            try:
                today = self.clock.today()
                entities = data.get("entities") or {}
                unknown = set(entities) - set(LOAD_ORDER)
                if unknown:
                    raise ValueError(f"unknown resource types in entities: {sorted(unknown)}")
                for segment in LOAD_ORDER:
                    for position, body in enumerate(entities.get(segment) or []):
                        where = f"entities.{segment}[{position}]"
                        if not isinstance(body, dict):
                            raise ValueError(f"{where}: an entity is an object of the resource's fields")
                        resolved = {k: resolve_relative(v, today) for k, v in body.items()}
                        try:
                            if self.check_body is not None:
                                self.check_body(segment, resolved)
                            self._insert(segment, resolved)
                        except (RuleViolations, ValueError) as error:
                            raise ValueError(f"{where}: {error}") from error
            except Exception:
                self.directory, self.store, self.derive, self.rules = saved
                raise
            finally:
                self._bulk = False
