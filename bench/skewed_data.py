"""A skewed state for the mock: few people, each holding very many certificates and compliance
schedule entries, on top of the 100,000-session state of `large_data`.

The default shape: 1,200 actions x 35 people = 42,000 action-subscriptions (every person is
subscribed to every action) and 42,000 certificates (one per person and action, 1,200 per
person). Three in four certificates are linked to their action by a certificate-action (31,500),
so that each subscription's status is, in turn, NEW (no link), VALID, EXPIRING and EXPIRED
relative to `today`; half the links carry their own `date_expire`, the others inherit the
certificate's. A subscription's status reads the links of its person's certificates: with 1,200
certificates per person, that is where a computed-field search costs most.

Ids are random uuids from a seeded generator, so a shape always gives the same state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench import large_data
from bench.large_data import OFFICE_ID, PROJECT_ID

STATUSES = ("NEW", "VALID", "EXPIRING", "EXPIRED")
EXPIRE_INTERVAL_DAYS = 90  # each action's `expire_interval`: EXPIRING is within 90 days of today


@dataclass(frozen=True)
class SkewShape:
    actions: int = 1200
    persons: int = 35
    seed: int = 8


def _uuid(rng: random.Random) -> str:
    return large_data._uuid(rng)


def _tenancy() -> dict[str, str]:
    return {"subtenant_id": OFFICE_ID, "tenant_id": PROJECT_ID}


def _expiry(status: str, today: dt.date, rng: random.Random) -> dt.date | None:
    """A certificate expiry giving `status` (NEW has no link, so its expiry does not matter)."""
    if status == "VALID":
        return today + dt.timedelta(days=EXPIRE_INTERVAL_DAYS + 1 + rng.randrange(3 * 365))
    if status == "EXPIRING":
        return today + dt.timedelta(days=rng.randrange(EXPIRE_INTERVAL_DAYS + 1))
    return today - dt.timedelta(days=1 + rng.randrange(3 * 365))  # EXPIRED, and NEW's unlinked ones


def skewed_entities(shape: SkewShape, today: dt.date) -> tuple[list[str], dict[str, list[dict[str, Any]]], Counter[str]]:
    """The people, the entities and how many subscriptions should answer each status."""
    rng = random.Random(shape.seed)
    persons = [_uuid(rng) for _ in range(shape.persons)]
    entities: dict[str, list[dict[str, Any]]] = {
        "action": [], "action-subscription": [], "certificate": [], "certificate-action": []}
    expected: Counter[str] = Counter()
    for position in range(shape.actions):
        action_id = _uuid(rng)
        action_type = large_data.ACTION_TYPES[position % len(large_data.ACTION_TYPES)]
        entities["action"].append({
            "action_id": action_id, "action_type": action_type, "code": f"SKEW-{position:05d}",
            "name": f"Skewed action {position:05d}", "validity_unit": "YEAR", "validity": 5,
            "expire_interval": EXPIRE_INTERVAL_DAYS, **_tenancy()})
        for person_position, person in enumerate(persons):
            status = STATUSES[(position + person_position) % len(STATUSES)]
            expected[status] += 1
            entities["action-subscription"].append({
                "action_subscription_id": _uuid(rng), "action_id": action_id, "subscriber_id": person,
                "subscriber_type": "PERSON", **_tenancy()})
            expiry = _expiry(status, today, rng)
            assert expiry is not None
            release = expiry - dt.timedelta(days=5 * 365)
            certificate_id = _uuid(rng)
            entities["certificate"].append({
                "certificate_id": certificate_id, "date_release": release.isoformat(),
                "date_expire": expiry.isoformat(), "name": f"Skewed certificate {position:05d}",
                "action_type": action_type, "resource_id": person, "tenant_id": PROJECT_ID})
            if status == "NEW":
                continue
            own_date = rng.random() < 0.5  # else the link inherits the certificate's expiry
            entities["certificate-action"].append({
                "certificate_action_id": _uuid(rng), "certificate_id": certificate_id, "action_id": action_id,
                "date_expire": expiry.isoformat() if own_date else None, "tenant_id": PROJECT_ID})
    return persons, entities, expected


@dataclass
class SkewedState:
    data: dict[str, Any]
    action_ids: list[str]
    expected_statuses: Counter[str]  # of the skewed part's subscriptions

    def counts(self) -> dict[str, int]:
        return {segment: len(items) for segment, items in self.data["entities"].items()}

    def to_json(self) -> bytes:
        return large_data.LargeState(self.data).to_json()


def build(today: dt.date, shape: SkewShape = SkewShape(),
          sessions: large_data.Shape = large_data.Shape()) -> SkewedState:
    """The skewed part plus the sessions state of `large_data` (its own 50 people), in one document."""
    base = large_data.build(sessions).data
    persons, skewed, expected = skewed_entities(shape, today)
    base_persons = [r["resource_id"] for r in base["directory"]["resources"]]
    entities = {segment: base["entities"].get(segment, []) + skewed.get(segment, [])
                for segment in ("action", "action-subscription", "action-session", "action-session-date",
                                "certificate", "certificate-action", "action-session-subscription")}
    data = {"directory": large_data.directory(base_persons + persons), "entities": entities}
    return SkewedState(data, [a["action_id"] for a in skewed["action"]], expected)
