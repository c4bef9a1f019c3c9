"""All or nothing: a write that fails for any reason leaves the state exactly as it was.

The model is a deep copy of everything the store holds taken before the write (rows, their
creation order, the sorted id order, each index's order, the joined index), compared with the
state after the failed write; independent of how the store undoes its writes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.computed import Derivations
from mock_server.domain.relations import JOINS
from mock_server.storage import Store
from mockworld import CERT_1, FIRE, LINK_1, PERSON_4, SESSION_NEXT, World


class Boom(RuntimeError):
    """An unexpected error, as a bug would raise."""


def observed(store: Store) -> dict[str, Any]:
    """Everything a reader of the store can observe, in order."""
    return copy.deepcopy({
        segment: {
            "rows": list(table.rows.items()),
            "order": list(table.sorted_ids()),
            "indexes": {f: {v: list(ids) for v, ids in index.items()} for f, index in table.indexes.items()},
        }
        for segment, table in store.tables.items()
    } | {"joined": {j.segment: {k: sorted(v) for k, v in store._joined[j].items()} for j in store.joins}})


# --- the domain: unexpected exceptions after the first write --------------------------------

def test_create_whose_answer_fails_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(with_entities=True)
    before = observed(world.domain.store), world.domain.export()

    def broken(self: Derivations, certificate_id: str) -> dict:
        raise Boom("computing the answer failed")

    monkeypatch.setattr(Derivations, "first_link", broken)
    with pytest.raises(Boom):
        world.domain.create("certificate", {"name": "x", "date_release": "2026-01-01", "action_type": "TRAINING",
                                            "resource_id": PERSON_4, "tenant_id": world.view("action", FIRE)["tenant_id"]})
    assert (observed(world.domain.store), world.domain.export()) == before


def test_update_whose_answer_fails_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(with_entities=True)
    before = observed(world.domain.store)
    def broken(self: Derivations, subscription: dict) -> str:
        raise Boom("computing the answer failed")

    monkeypatch.setattr(Derivations, "subscription_status", broken)
    with pytest.raises(Boom):
        world.domain.update("action", FIRE, {"name": "renamed", "validity": 2})
    assert observed(world.domain.store) == before


@pytest.mark.parametrize("fail_at", [1, 2, 3, 5, 8])
def test_cascade_that_fails_half_way_is_undone(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    world = World(with_entities=True)
    store = world.domain.store
    before = observed(store)
    original = Store.remove
    calls = {"n": 0}

    def failing_remove(self: Store, segment: str, entity_id: str) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise Boom(f"remove #{fail_at} failed")
        original(self, segment, entity_id)

    monkeypatch.setattr(Store, "remove", failing_remove)
    with pytest.raises(Boom):
        world.domain.delete("action", FIRE, force=True)
    assert observed(store) == before
    # and the domain still answers for everything, as before
    assert world.view("certificate-action", LINK_1)["certificate_id"] == CERT_1
    assert world.view("action-session", SESSION_NEXT)["count_subscribed"] == 1


# --- the store: any sequence of writes, then an error ------------------------------------------

LAYOUT = {
    "certificate": ("certificate_id", ("resource_id",)),
    "certificate-action": ("certificate_action_id", ("certificate_id", "action_id")),
}
IDS = [f"id-{n}" for n in range(6)]
VALUES = ["a", "b", "c", None]

write = st.one_of(
    st.tuples(st.just("certificate"), st.sampled_from(IDS), st.sampled_from(VALUES), st.none()),
    st.tuples(st.just("certificate-action"), st.sampled_from(IDS), st.sampled_from(IDS), st.sampled_from(VALUES)),
)


def apply(store: Store, segment: str, entity_id: str, first: Any, second: Any) -> None:
    """Insert, replace or remove, whichever the drawn write means for the current state."""
    id_field = LAYOUT[segment][0]
    if first is None and second is None and store.get(segment, entity_id) is not None:
        store.remove(segment, entity_id)
        return
    row = {id_field: entity_id}
    if segment == "certificate":
        row["resource_id"] = first
    else:
        row["certificate_id"], row["action_id"] = first, second
    row = {k: v for k, v in row.items() if v is not None}
    if store.get(segment, entity_id) is None:
        store.insert(segment, row)
    else:
        store.replace(segment, row)


@settings(max_examples=200, deadline=None)
@given(setup=st.lists(write, max_size=20), failed=st.lists(write, min_size=1, max_size=20))
def test_a_failed_transaction_restores_every_order(setup: list, failed: list) -> None:
    store = Store(LAYOUT, JOINS)
    for step in setup:
        apply(store, *step)
    before = observed(store)
    with pytest.raises(Boom):
        with store.transaction():
            for step in failed:
                apply(store, *step)
            raise Boom("the last step of the request failed")
    assert observed(store) == before
    # and the store goes on working from there like one that never saw the failed writes
    twin = Store(LAYOUT, JOINS)
    for step in setup:
        apply(twin, *step)
    for step in failed:
        apply(store, *step)
        apply(twin, *step)
    assert observed(store) == observed(twin)
