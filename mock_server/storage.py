"""In-memory tables: rows by id, ids in order, and indexes by the fields rows are looked up by.

Storage knows nothing of the API's rules; the domain layer decides what may be written. Rows keep
only the fields that have a value (most optional fields are empty, and a large state is mostly
rows), and ids are interned: a reference repeats its target's id string instead of copying it.
"""

from __future__ import annotations

import bisect
import copy
import sys
from collections import defaultdict
from typing import Any, Iterable, Iterator

Row = dict[str, Any]


def _own(text: str) -> str:
    """A string of the store's own: interned when short (ids and enums repeat across rows), and
    never the parser's object, so a large parsed request does not stay resident through it."""
    copy_ = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    return sys.intern(copy_) if len(copy_) <= 64 else copy_


def compact(row: Row) -> Row:
    """The row without empty fields, its strings the store's own."""
    return {k: _own(v) if isinstance(v, str) else v for k, v in row.items() if v is not None}


class Table:
    def __init__(self, id_field: str, indexed: Iterable[str] = ()) -> None:
        self.id_field = id_field
        self.rows: dict[str, Row] = {}  # in creation order
        self.order: list[str] = []  # ids, sorted: the default order of a search
        self._order_stale = False
        # field -> value -> ids in the order they got that value (a dict used as an ordered set)
        self.indexes: dict[str, defaultdict[Any, dict[str, None]]] = {f: defaultdict(dict) for f in indexed}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, entity_id: str) -> Row | None:
        return self.rows.get(entity_id)

    def lookup(self, field: str, value: Any) -> dict[str, None]:
        """Ids of the rows whose indexed `field` equals `value`, oldest first (empty values are
        not indexed)."""
        return self.indexes[field].get(value) or {}

    def sorted_ids(self) -> list[str]:
        if self._order_stale:
            self.order.sort()
            self._order_stale = False
        return self.order

    def insert(self, row: Row, *, bulk: bool = False) -> None:
        """Add a row; `bulk` defers sorting the id order to the next read (loading many rows)."""
        entity_id = row[self.id_field]
        self.rows[entity_id] = row
        if bulk or self._order_stale:
            self.order.append(entity_id)
            self._order_stale = True
        else:
            bisect.insort(self.order, entity_id)
        for field, index in self.indexes.items():
            if row.get(field) is not None:
                index[row[field]][entity_id] = None

    def replace(self, row: Row) -> None:
        entity_id = row[self.id_field]
        old = self.rows[entity_id]
        for field, index in self.indexes.items():
            if old.get(field) != row.get(field):
                self._unindex(index, old.get(field), entity_id)
                if row.get(field) is not None:
                    index[row[field]][entity_id] = None
        self.rows[entity_id] = row

    def remove(self, entity_id: str) -> None:
        row = self.rows.pop(entity_id)
        order = self.sorted_ids()
        del order[bisect.bisect_left(order, entity_id)]
        for field, index in self.indexes.items():
            self._unindex(index, row.get(field), entity_id)

    @staticmethod
    def _unindex(index: defaultdict[Any, dict[str, None]], value: Any, entity_id: str) -> None:
        ids = index.get(value)
        if ids is not None:
            ids.pop(entity_id, None)
            if not ids:
                del index[value]


class Store:
    """The tables of all resources. Not thread-safe by itself: the domain holds a lock.

    `version` grows with every write, so derived values can be cached until the next write.
    """

    def __init__(self, layout: dict[str, tuple[str, Iterable[str]]]) -> None:
        # layout: segment -> (id field, indexed fields)
        self.layout = {segment: (id_field, tuple(indexed)) for segment, (id_field, indexed) in layout.items()}
        self.tables: dict[str, Table] = {
            segment: Table(id_field, indexed) for segment, (id_field, indexed) in self.layout.items()
        }
        self.version = 0

    def table(self, segment: str) -> Table:
        return self.tables[segment]

    def get(self, segment: str, entity_id: str) -> Row | None:
        return self.tables[segment].get(entity_id)

    def rows(self, segment: str, ids: Iterable[str]) -> Iterator[Row]:
        rows = self.tables[segment].rows
        return (rows[i] for i in ids if i in rows)

    def insert(self, segment: str, row: Row, *, bulk: bool = False) -> None:
        self.version += 1
        self.tables[segment].insert(row, bulk=bulk)

    def replace(self, segment: str, row: Row) -> None:
        self.version += 1
        self.tables[segment].replace(row)

    def remove(self, segment: str, entity_id: str) -> None:
        self.version += 1
        self.tables[segment].remove(entity_id)

    def export(self) -> dict[str, list[Row]]:
        """Every table's rows, in creation order (so that an import recreates that order)."""
        return {segment: [copy.deepcopy(row) for row in table.rows.values()] for segment, table in self.tables.items()}
