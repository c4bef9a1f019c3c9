"""In-memory tables: rows by id, ids in order, and indexes by the fields rows are looked up by.

Storage knows nothing of the API's rules; the domain layer decides what may be written.
"""

from __future__ import annotations

import bisect
import copy
import itertools
from collections import defaultdict
from typing import Any, Iterable, Iterator

Row = dict[str, Any]


class Table:
    def __init__(self, id_field: str, indexed: Iterable[str] = ()) -> None:
        self.id_field = id_field
        self.rows: dict[str, Row] = {}
        self.order: list[str] = []  # ids, sorted: the default order of a search
        self.created: dict[str, int] = {}  # id -> creation sequence number
        self.indexes: dict[str, defaultdict[Any, set[str]]] = {f: defaultdict(set) for f in indexed}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, entity_id: str) -> Row | None:
        return self.rows.get(entity_id)

    def lookup(self, field: str, value: Any) -> set[str]:
        """Ids of the rows whose indexed `field` equals `value`."""
        return self.indexes[field].get(value, set())

    def insert(self, row: Row, sequence: int) -> None:
        entity_id = row[self.id_field]
        self.rows[entity_id] = row
        bisect.insort(self.order, entity_id)
        self.created[entity_id] = sequence
        for field, index in self.indexes.items():
            index[row.get(field)].add(entity_id)

    def replace(self, row: Row) -> None:
        entity_id = row[self.id_field]
        old = self.rows[entity_id]
        for field, index in self.indexes.items():
            if old.get(field) != row.get(field):
                self._unindex(index, old.get(field), entity_id)
                index[row.get(field)].add(entity_id)
        self.rows[entity_id] = row

    def remove(self, entity_id: str) -> None:
        row = self.rows.pop(entity_id)
        position = bisect.bisect_left(self.order, entity_id)
        del self.order[position]
        del self.created[entity_id]
        for field, index in self.indexes.items():
            self._unindex(index, row.get(field), entity_id)

    @staticmethod
    def _unindex(index: defaultdict[Any, set[str]], value: Any, entity_id: str) -> None:
        ids = index.get(value)
        if ids is not None:
            ids.discard(entity_id)
            if not ids:
                del index[value]


class Store:
    """The tables of all resources. Not thread-safe by itself: the domain holds a lock."""

    def __init__(self, layout: dict[str, tuple[str, Iterable[str]]]) -> None:
        # layout: segment -> (id field, indexed fields)
        self.layout = {segment: (id_field, tuple(indexed)) for segment, (id_field, indexed) in layout.items()}
        self.tables: dict[str, Table] = {}
        self._sequence = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self.tables = {segment: Table(id_field, indexed) for segment, (id_field, indexed) in self.layout.items()}
        self._sequence = itertools.count(1)

    def table(self, segment: str) -> Table:
        return self.tables[segment]

    def get(self, segment: str, entity_id: str) -> Row | None:
        return self.tables[segment].get(entity_id)

    def rows(self, segment: str, ids: Iterable[str]) -> Iterator[Row]:
        rows = self.tables[segment].rows
        return (rows[i] for i in ids if i in rows)

    def insert(self, segment: str, row: Row) -> None:
        self.tables[segment].insert(row, next(self._sequence))

    def replace(self, segment: str, row: Row) -> None:
        self.tables[segment].replace(row)

    def remove(self, segment: str, entity_id: str) -> None:
        self.tables[segment].remove(entity_id)

    def export(self) -> dict[str, list[Row]]:
        """Every table's rows, in creation order (so that an import recreates that order)."""
        out = {}
        for segment, table in self.tables.items():
            ids = sorted(table.rows, key=table.created.__getitem__)
            out[segment] = [copy.deepcopy(table.rows[i]) for i in ids]
        return out
