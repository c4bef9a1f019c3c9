"""What a search computes: only the fields it reads, and a status in time that does not grow
with the number of certificates the person holds. Counted in calls, not timed."""

from __future__ import annotations

import datetime as dt

import pytest

from mock_server.domain.computed import DERIVED_WHEN_EMPTY, Derivations
from mockworld import TODAY, World


@pytest.fixture
def crowded() -> World:
    """Twenty actions, each with an entry of every one of 30 people."""
    world = World(extra_people=30)
    for n in range(20):
        action = world.action(name=f"Action {n:02d}", validity=1, validity_unit="YEAR")
        for person in world.people[-30:]:
            world.subscription(action, person)
    return world


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> dict[str, int]:
    calls = {"n": 0}
    original = getattr(Derivations, name)

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Derivations, name, counting)
    return calls


@pytest.mark.parametrize("body", [
    {"sort": "office_name", "per-page": 5},
    {"sort": "-subscriber_name", "per-page": 5},
    {"filter": {"office_name": "rome"}, "per-page": 5},
])
def test_a_search_on_names_computes_statuses_only_for_the_page(
    crowded: World, monkeypatch: pytest.MonkeyPatch, body: dict
) -> None:
    calls = count_calls(monkeypatch, "subscription_status")
    page = crowded.domain.search("action-subscription", body)
    assert page.total == 600
    assert calls["n"] <= 5  # at most the five answered entries (some may be cached), not the 600 searched


def test_a_status_reads_only_the_links_of_its_action_and_person(crowded: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world = crowded
    person = world.people[-1]
    actions = [a["action_id"] for a in world.domain.search("action", {"per-page": 100}).items]
    # the person holds a certificate linked to each of the twenty actions
    for action in actions:
        world.link(world.certificate(person, "2026-01-01"), action)
    entry = world.domain.search("action-subscription", {"filter": {"subscriber_id": person, "action_id": actions[0]}}).items[0]
    world.set_today(TODAY + dt.timedelta(days=1))  # nothing derived is cached for the new day
    calls = count_calls(monkeypatch, "link_expiry")
    assert world.view("action-subscription", entry["action_subscription_id"])["status"] == "VALID"
    assert calls["n"] == 1  # one link of this action to this person's certificates, of the twenty


def test_each_group_of_computed_fields_derives_exactly_the_fields_it_declares() -> None:
    """A search projects rows through the groups: a group that derived a field it does not
    declare would give that field only sometimes; together they are the spec's computed fields."""
    world = World(with_entities=True)
    derive = world.domain.derive
    for segment, resource in world.domain.resources.items():
        rows = list(world.domain.store.table(segment).rows.values())
        assert rows, f"the small world has no {segment}"
        declared: set[str] = set()
        for names, method in derive.groups(segment):
            assert set(getattr(derive, method)(rows[0])) == names, (segment, method)
            declared |= names
        assert declared == set(resource.computed) | (DERIVED_WHEN_EMPTY.get(segment, frozenset())), segment
