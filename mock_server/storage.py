"""In-memory tables: rows by id, ids in order, and indexes by the fields rows are looked up by.

Storage knows nothing of the API's rules; the domain layer decides what may be written. Rows keep
only the fields that have a value (most optional fields are empty, and a large state is mostly
rows), and ids are interned: a reference repeats its target's id string instead of copying it.

Rows are never changed in place: a write puts a new dict in the table. So a reader may keep the
row objects of a snapshot (an export does) while later writes go on.

Every write can be undone: inside `Store.transaction()` each write records its inverse, and an
exception rolls them all back, restoring rows, their creation order and every index's order
exactly, so a failed request leaves the state as it found it.
"""

from __future__ import annotations

import bisect
import itertools
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

Row = dict[str, Any]


def _own(text: str) -> str:
    """A string of the store's own: interned when short (ids and enums repeat across rows), and
    never the parser's object, so a large parsed request does not stay resident through it."""
    copy_ = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    return sys.intern(copy_) if len(copy_) <= 64 else copy_


def compact(row: Row) -> Row:
    """The row without empty fields, its strings the store's own."""
    return {k: _own(v) if isinstance(v, str) else v for k, v in row.items() if v is not None}


# One counter for every table: a row's creation ticket, and the ticket of the moment an id got
# its value in an index. Rolling back a delete puts rows and ids back in their ticket order.
_tickets = itertools.count()


def _restore_order(entries: dict[str, Any], key: Callable[[Any], int]) -> dict[str, Any]:
    return dict(sorted(entries.items(), key=lambda item: key(item[1])))


class Table:
    def __init__(self, id_field: str, indexed: Iterable[str] = ()) -> None:
        self.id_field = id_field
        self.rows: dict[str, Row] = {}  # in creation order
        self.created: dict[str, int] = {}  # id -> creation ticket
        self.order: list[str] = []  # ids, sorted: the default order of a search
        self._order_stale = False
        # field -> value -> {id: ticket}, in the order the ids got that value (an ordered set)
        self.indexes: dict[str, defaultdict[Any, dict[str, int]]] = {f: defaultdict(dict) for f in indexed}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, entity_id: str) -> Row | None:
        return self.rows.get(entity_id)

    def lookup(self, field: str, value: Any) -> dict[str, int]:
        """Ids of the rows whose indexed `field` equals `value`, oldest first (empty values are
        not indexed)."""
        return self.indexes[field].get(value) or {}

    def sorted_ids(self) -> list[str]:
        if self._order_stale:
            self.order.sort()
            self._order_stale = False
        return self.order

    def tickets(self, entity_id: str) -> dict[str, int]:
        """The index tickets of a row: what restoring it needs to put it back in every order."""
        row = self.rows[entity_id]
        return {f: index[row[f]][entity_id] for f, index in self.indexes.items() if row.get(f) is not None}

    def insert(self, row: Row, *, bulk: bool = False) -> None:
        """Add a row; `bulk` defers sorting the id order to the next read (loading many rows)."""
        self._put(row, next(_tickets), {}, bulk=bulk)

    def _put(self, row: Row, created: int, tickets: dict[str, int], *, bulk: bool = False) -> None:
        entity_id = row[self.id_field]
        self.rows[entity_id] = row
        self.created[entity_id] = created
        if bulk or self._order_stale:
            self.order.append(entity_id)
            self._order_stale = True
        else:
            bisect.insort(self.order, entity_id)
        for field, index in self.indexes.items():
            if row.get(field) is not None:
                self._index(index, row[field], entity_id, tickets.get(field))

    def replace(self, row: Row, tickets: dict[str, int] | None = None) -> None:
        """Put `row` in place of the stored row of its id (its creation order stays); `tickets`
        (from `tickets()`) put the id back where it stood in the indexes it returns to."""
        entity_id = row[self.id_field]
        old = self.rows[entity_id]
        for field, index in self.indexes.items():
            if old.get(field) != row.get(field):
                self._unindex(index, old.get(field), entity_id)
                if row.get(field) is not None:
                    self._index(index, row[field], entity_id, (tickets or {}).get(field))
        self.rows[entity_id] = row

    def remove(self, entity_id: str) -> None:
        row = self.rows.pop(entity_id)
        del self.created[entity_id]
        order = self.sorted_ids()
        del order[bisect.bisect_left(order, entity_id)]
        for field, index in self.indexes.items():
            self._unindex(index, row.get(field), entity_id)

    def restore(self, row: Row, created: int, tickets: dict[str, int]) -> None:
        """Put a removed row back exactly where it stood: in creation order and in every index."""
        newest = next(reversed(self.created), None)
        was_older = newest is not None and self.created[newest] > created
        self._put(row, created, tickets)
        if was_older:  # rare (only undoing a delete): re-sort by creation ticket
            self.created = _restore_order(self.created, lambda ticket: ticket)
            self.rows = {i: self.rows[i] for i in self.created}

    @staticmethod
    def _index(index: defaultdict[Any, dict[str, int]], value: Any, entity_id: str, ticket: int | None) -> None:
        ids = index[value]
        if ticket is None:
            ids[entity_id] = next(_tickets)
            return
        ids[entity_id] = ticket
        if len(ids) > 1 and ticket < max(ids.values()):
            index[value] = _restore_order(ids, lambda t: t)

    @staticmethod
    def _unindex(index: defaultdict[Any, dict[str, int]], value: Any, entity_id: str) -> None:
        ids = index.get(value)
        if ids is not None:
            ids.pop(entity_id, None)
            if not ids:
                del index[value]


@dataclass(frozen=True)
class JoinedIndex:
    """An index of one table's rows by one of their fields and a field of the row they name:
    certificate-action by (action_id, the certificate's resource_id). Kept up to date by the
    store on writes to either table."""

    segment: str  # whose rows are indexed
    own_field: str
    via_field: str  # names a row of `target`
    target: str
    target_field: str


class Store:
    """The tables of all resources. Not thread-safe by itself: the domain holds a lock.

    `version` grows with every write (and with every undone one), so derived values can be
    cached until the next write.
    """

    def __init__(self, layout: dict[str, tuple[str, Iterable[str]]], joins: Iterable[JoinedIndex] = ()) -> None:
        # layout: segment -> (id field, indexed fields)
        self.layout = {segment: (id_field, tuple(indexed)) for segment, (id_field, indexed) in layout.items()}
        self.tables: dict[str, Table] = {
            segment: Table(id_field, indexed) for segment, (id_field, indexed) in self.layout.items()
        }
        self.joins = tuple(joins)
        self._joined: dict[JoinedIndex, defaultdict[tuple, set[str]]] = {j: defaultdict(set) for j in self.joins}
        self._joined_keys: dict[JoinedIndex, dict[str, tuple]] = {j: {} for j in self.joins}
        self.version = 0
        self._undo: list[Callable[[], None]] | None = None

    def table(self, segment: str) -> Table:
        return self.tables[segment]

    def get(self, segment: str, entity_id: str) -> Row | None:
        return self.tables[segment].get(entity_id)

    def rows(self, segment: str, ids: Iterable[str]) -> Iterator[Row]:
        rows = self.tables[segment].rows
        return (rows[i] for i in ids if i in rows)

    def joined(self, join: JoinedIndex, key: tuple) -> set[str]:
        """Ids of `join.segment` rows whose (own field, target's field) is `key`."""
        return self._joined[join].get(key) or set()

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside are all kept, or, when the block raises, all undone (newest first)."""
        if self._undo is not None:  # nested: the outer transaction decides
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            undo, self._undo = self._undo, None
            for step in reversed(undo):
                step()
            self.version += 1
            raise
        finally:
            self._undo = None

    def _record(self, step: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(step)

    # --- writes --------------------------------------------------------------------------

    def insert(self, segment: str, row: Row, *, bulk: bool = False) -> None:
        self.version += 1
        table = self.tables[segment]
        entity_id = row[table.id_field]
        table.insert(row, bulk=bulk)
        self._rejoin(segment, entity_id)
        self._record(lambda: self._remove(segment, entity_id))

    def replace(self, segment: str, row: Row) -> None:
        self.version += 1
        table = self.tables[segment]
        entity_id = row[table.id_field]
        old, tickets = table.rows[entity_id], table.tickets(entity_id)
        self._replace(segment, row)
        self._record(lambda: self._replace(segment, old, tickets))

    def remove(self, segment: str, entity_id: str) -> None:
        self.version += 1
        table = self.tables[segment]
        row, created, tickets = table.rows[entity_id], table.created[entity_id], table.tickets(entity_id)
        self._remove(segment, entity_id)
        self._record(lambda: self._restore(segment, row, created, tickets))

    def _replace(self, segment: str, row: Row, tickets: dict[str, int] | None = None) -> None:
        table = self.tables[segment]
        table.replace(row, tickets)
        self._rejoin(segment, row[table.id_field])

    def _remove(self, segment: str, entity_id: str) -> None:
        self.tables[segment].remove(entity_id)
        self._rejoin(segment, entity_id)

    def _restore(self, segment: str, row: Row, created: int, tickets: dict[str, int]) -> None:
        table = self.tables[segment]
        table.restore(row, created, tickets)
        self._rejoin(segment, row[table.id_field])

    # --- joined indexes ------------------------------------------------------------------

    def _rejoin(self, segment: str, entity_id: str) -> None:
        """Bring every joined index up to date after a write of (segment, entity_id)."""
        for join in self.joins:
            if segment == join.segment:
                self._rekey(join, entity_id)
            elif segment == join.target:
                for member in list(self.tables[join.segment].lookup(join.via_field, entity_id)):
                    self._rekey(join, member)

    def _rekey(self, join: JoinedIndex, member_id: str) -> None:
        keys, index = self._joined_keys[join], self._joined[join]
        old = keys.pop(member_id, None)
        if old is not None:
            index[old].discard(member_id)
            if not index[old]:
                del index[old]
        row = self.tables[join.segment].get(member_id)
        if row is None:
            return
        target = self.get(join.target, row.get(join.via_field)) or {}
        key = (row.get(join.own_field), target.get(join.target_field))
        keys[member_id] = key
        index[key].add(member_id)

    # --- reading the whole ---------------------------------------------------------------

    def snapshot(self) -> dict[str, list[Row]]:
        """Every table's rows, in creation order (so that an import recreates that order). The
        rows are the stored objects, never changed in place: the caller must not change them."""
        return {segment: list(table.rows.values()) for segment, table in self.tables.items()}
