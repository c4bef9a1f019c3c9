"""Walking the pages of an index over HTTP (semantics.md, "Pagination and search"): the
X-Pagination-* headers, the size of every page, the empty page past the last, and the walk
yielding every matching entity exactly once."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from mockhttp import create
from mockworld import P_ACME, PERSONS

pytestmark = pytest.mark.http

NAMES = ["Kilo", "alpha", "Echo", "Bravo", "delta", "Charlie", "Juliet", "India", "Hotel", "golf", "Foxtrot"]


def _certificates(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    created = []
    for n in range(count):
        name = f"{NAMES[n % len(NAMES)]} certificate {n:02d}"
        body = {"date_release": f"2025-{n % 12 + 1:02d}-01", "name": name, "action_type": "TRAINING",
                "resource_id": PERSONS[n % len(PERSONS)], "tenant_id": P_ACME}
        if n % 3 == 0:
            body["date_expire"] = f"2030-{n % 12 + 1:02d}-01"
        created.append(create(client, "certificate", body))
    return created


def _walk(client: httpx.Client, body: dict[str, Any], per_page: int, expected_total: int) -> list[dict[str, Any]]:
    pages = math.ceil(expected_total / per_page)
    seen: list[dict[str, Any]] = []
    for number in range(1, pages + 2):  # and one page past the last
        response = client.post("/v2/certificate/index", json={**body, "per-page": per_page, "page": number})
        assert response.status_code == 200, response.text
        items = response.json()
        assert response.headers["X-Pagination-Total-Count"] == str(expected_total)
        assert response.headers["X-Pagination-Page-Count"] == str(pages)
        assert response.headers["X-Pagination-Per-Page"] == str(per_page)
        assert response.headers["X-Pagination-Current-Page"] == str(number)
        # min(per-page, max(0, total - (page - 1) * per-page)) items
        assert len(items) == min(per_page, max(0, expected_total - (number - 1) * per_page))
        seen += items
    return seen


def test_walk_without_sort_yields_everything_once_in_id_order(api: httpx.Client) -> None:
    _certificates(api, 21)
    # 2 certificates in the small world + 21: 23, pages of 5 -> 5 pages
    seen = _walk(api, {}, 5, 23)
    ids = [c["certificate_id"] for c in seen]
    assert len(set(ids)) == 23 and ids == sorted(ids)


@pytest.mark.parametrize("sort", ["name", "-name", "date_release", "-date_release"])
def test_walk_with_sort_yields_everything_once_in_sort_order(api: httpx.Client, sort: str) -> None:
    created = _certificates(api, 21)
    seen = _walk(api, {"sort": sort}, 4, 23)
    ids = [c["certificate_id"] for c in seen]
    assert len(set(ids)) == 23
    assert {c["certificate_id"] for c in created} <= set(ids)
    field = sort.lstrip("-")
    values = [c[field] for c in seen]
    # sorted by the field (without regard to case for names), ties by id ascending
    for (value, entity_id), (next_value, next_id) in zip(zip(values, ids), zip(values[1:], ids[1:])):
        a, b = (value.casefold(), next_value.casefold()) if field == "name" else (value, next_value)
        if a == b:
            assert entity_id < next_id
        else:
            assert (a < b) != sort.startswith("-")


def test_walk_with_a_filter_counts_only_matches(api: httpx.Client) -> None:
    _certificates(api, 21)
    # "certificate 0" is in the names numbered 00..09: 10 matches (the small world's two
    # certificates are "Fire Safety Certificate" and "Unlinked Certificate")
    seen = _walk(api, {"filter": {"name": "CERTIFICATE 0"}}, 3, 10)
    assert sorted(c["name"][-2:] for c in seen) == [f"{n:02d}" for n in range(10)]


def test_per_page_one_walks_one_entity_a_page(api: httpx.Client) -> None:
    seen = _walk(api, {}, 1, 2)
    assert [c["certificate_id"] for c in seen] == sorted(c["certificate_id"] for c in seen)


def test_no_match_answers_an_empty_first_page_and_zero_pages(api: httpx.Client) -> None:
    response = api.post("/v2/certificate/index", json={"filter": {"name": "no such name"}, "per-page": 10})
    assert response.json() == []
    assert response.headers["X-Pagination-Total-Count"] == "0"
    assert response.headers["X-Pagination-Page-Count"] == "0"
    assert response.headers["X-Pagination-Current-Page"] == "1"
    assert response.headers["X-Pagination-Per-Page"] == "10"
