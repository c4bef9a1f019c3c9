"""The scenario strategies give every update of `updates_of_every_kind` an entity to update: no
server is involved, only what the strategies draw."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given

from contract.support.scenarios import (
    DescribeAction,
    ForestSpec,
    MoveDate,
    MoveSubscription,
    RecordOutcome,
    Room,
    SetActionValidity,
    SetCertificateValidity,
    SetExpireInterval,
    SetLinkExpiry,
    SetSessionValidity,
    Sizes,
    forests,
    updates_of_every_kind,
)
from contract.support.verify import DERIVED

pytestmark = pytest.mark.suite_self_test  # draws scenarios only: no verdict on the target

ROOM = Room(today=dt.date(2026, 3, 1), margin=0, resource_count=4)
UPDATED = {
    DescribeAction: "action",
    SetActionValidity: "action",
    SetExpireInterval: "action",
    MoveSubscription: "action-subscription",
    SetSessionValidity: "action-session",
    MoveDate: "action-session-date",
    RecordOutcome: "action-session-subscription",
    SetCertificateValidity: "certificate",
    SetLinkExpiry: "certificate-action",
}


def _kinds_present(forest: ForestSpec) -> set[str]:
    first = forest.trees[0]
    present = {"action"}
    present |= {"action-subscription"} if first.subscribers else set()
    present |= {"action-session"} if first.sessions else set()
    present |= {"action-session-date"} if any(s.dates for s in first.sessions) else set()
    present |= {"action-session-subscription"} if first.enrollments else set()
    present |= {"certificate"} if forest.certificates else set()
    present |= {"certificate-action"} if forest.links else set()
    return present


@given(forest=forests(ROOM, Sizes(max_certificates=2, every_kind=True)), updates=updates_of_every_kind(ROOM))
def test_every_kind_forest_has_an_entity_for_each_update(forest: ForestSpec, updates: list[object]) -> None:
    updated = [UPDATED[type(update)] for update in updates]
    assert set(updated) == set(DERIVED)  # every resource whose answers carry derived fields
    assert [type(u) for u in updates].count(DescribeAction) == 1 and {SetActionValidity, SetExpireInterval} <= {type(u) for u in updates}
    assert _kinds_present(forest) == set(DERIVED)

