"""Filter, sort and page a resource's rows as every index does (semantics: "Pagination and search")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..resources import Resource
from ..storage import Row

DEFAULT_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    items: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def page_count(self) -> int:
        return math.ceil(self.total / self.per_page)

    def headers(self) -> dict[str, str]:
        return {
            "X-Pagination-Current-Page": str(self.page),
            "X-Pagination-Page-Count": str(self.page_count),
            "X-Pagination-Per-Page": str(self.per_page),
            "X-Pagination-Total-Count": str(self.total),
        }


@dataclass(frozen=True)
class Query:
    filter: dict[str, Any]
    sort: str | None
    page: int
    per_page: int

    @classmethod
    def from_body(cls, body: dict[str, Any] | None) -> "Query":
        body = body or {}
        return cls(
            filter=body.get("filter") or {},
            sort=body.get("sort"),
            page=body.get("page", 1),
            per_page=body.get("per-page", DEFAULT_PER_PAGE),
        )

    @property
    def sort_field(self) -> str | None:
        return self.sort.lstrip("-") if self.sort else None

    @property
    def descending(self) -> bool:
        return bool(self.sort and self.sort.startswith("-"))

    def fields(self) -> set[str]:
        return set(self.filter) | ({self.sort_field} if self.sort_field else set())


def _matcher(field: str, expected: Any, kind: str) -> Callable[[Row], bool]:
    if expected is None:
        return lambda row: row.get(field) is None
    if kind == "substring" and isinstance(expected, str):
        needle = expected.casefold()
        return lambda row: isinstance(row.get(field), str) and needle in row[field].casefold()
    if isinstance(expected, dict):  # objects match when they hold every given key and value
        return lambda row: isinstance(row.get(field), dict) and all(
            row[field].get(k) == v for k, v in expected.items()
        )
    return lambda row: row.get(field) == expected and type(row.get(field)) is type(expected)


def matches(resource: Resource, filter_: dict[str, Any]) -> Callable[[Row], bool]:
    checks = [_matcher(field, value, resource.filters[field]) for field, value in filter_.items()]
    return lambda row: all(check(row) for check in checks)


def sort_key(field: str) -> Callable[[Row], tuple]:
    """Null lowest (as MySQL orders NULL); strings without regard to case, as its collations."""

    def key(row: Row) -> tuple:
        value = row.get(field)
        if value is None:
            return (0, "")
        if isinstance(value, str):
            return (1, value.casefold())
        return (1, value)

    return key


def paginate(rows: Iterable[Row], query: Query, id_field: str, presorted_by_id: bool) -> Page:
    """`rows` already filtered; sort by the query's field (ties by id ascending) and cut the page."""
    rows = list(rows)
    if not presorted_by_id:
        rows.sort(key=lambda row: row[id_field])
    if query.sort_field:
        # Python's sort is stable, also with reverse=True: equal keys keep the id order.
        rows.sort(key=sort_key(query.sort_field), reverse=query.descending)
    start = (query.page - 1) * query.per_page
    return Page(items=rows[start : start + query.per_page], total=len(rows), page=query.page, per_page=query.per_page)
