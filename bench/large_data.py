"""A large, consistent state for the mock, in the seed format (docs/ARCHITECTURE.md).

The default shape: 1,000 actions x 100 sessions = 100,000 action-sessions, each with 1-2 dates
and 1-3 enrollments; each enrollment is of one of the action's 10 compliance schedule entries
(action-subscriptions) of 50 people. Ids are random uuids from a seeded generator, so a shape
always gives the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

PROJECT_ID = "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01"  # Acme Construction Ltd
OFFICE_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"  # Rome North Site
FIRST_DAY = dt.date(2022, 1, 3)
SPAN_DAYS = 6 * 365
ACTION_TYPES = ("TRAINING", "MAINTENANCE", "HEALTH", "CHECK", "PER")


@dataclass(frozen=True)
class Shape:
    actions: int = 1000
    sessions_per_action: int = 100
    subscriptions_per_action: int = 10
    persons: int = 50
    max_dates: int = 2  # 1..max_dates per session
    max_enrollments: int = 3  # 1..max_enrollments per session
    seed: int = 4


@dataclass
class LargeState:
    data: dict[str, Any]
    action_ids: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {segment: len(items) for segment, items in self.data["entities"].items()}

    def to_json(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":")).encode("utf-8")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def directory(persons: list[str]) -> dict[str, Any]:
    """One project, one office, `persons` people of it."""
    return {
        "projects": [{"project_id": PROJECT_ID, "name": "Acme Construction Ltd", "type": "COMPANY"}],
        "offices": [
            {"office_id": OFFICE_ID, "project_id": PROJECT_ID, "name": "Rome North Site", "type": "SITE",
             "active": True}
        ],
        "resources": [
            {"resource_id": person, "project_id": PROJECT_ID, "office_id": OFFICE_ID, "type": "PERSON",
             "name": f"Person {position:04d}"}
            for position, person in enumerate(persons)
        ],
    }


def _tenancy() -> dict[str, str]:
    return {"subtenant_id": OFFICE_ID, "tenant_id": PROJECT_ID}


def _action(rng: random.Random, position: int) -> dict[str, Any]:
    return {
        "action_id": _uuid(rng),
        "action_type": ACTION_TYPES[position % len(ACTION_TYPES)],
        "code": f"BENCH-{position:05d}",
        "name": f"Benchmark action {position:05d}",
        "validity_unit": "YEAR",
        "validity": 5,
        "expire_interval": 90,
        **_tenancy(),
    }


def _subscription(rng: random.Random, action_id: str, person: str) -> dict[str, Any]:
    return {
        "action_subscription_id": _uuid(rng),
        "action_id": action_id,
        "subscriber_id": person,
        "subscriber_type": "PERSON",
        **_tenancy(),
    }


def _dates(rng: random.Random, session_id: str, count: int) -> list[dict[str, Any]]:
    first = FIRST_DAY + dt.timedelta(days=rng.randrange(SPAN_DAYS))
    days = [first + dt.timedelta(days=offset) for offset in range(count)]
    return [
        {
            "action_session_date_id": _uuid(rng),
            "action_session_id": session_id,
            "date_begin": f"{day.isoformat()}T09:00:00",
            "date_end": f"{day.isoformat()}T17:00:00",
            **_tenancy(),
        }
        for day in days
    ]


def _enrollments(rng: random.Random, session_id: str, subscriptions: list[str], count: int) -> list[dict[str, Any]]:
    return [
        {
            "action_session_subscription_id": _uuid(rng),
            "action_session_id": session_id,
            "action_subscription_id": subscription,
            "done": rng.choice((-1, 0, 1)),
            **_tenancy(),
        }
        for subscription in rng.sample(subscriptions, count)
    ]


def build(shape: Shape = Shape()) -> LargeState:
    rng = random.Random(shape.seed)
    persons = [_uuid(rng) for _ in range(shape.persons)]
    entities: dict[str, list[dict[str, Any]]] = {
        "action": [], "action-subscription": [], "action-session": [],
        "action-session-date": [], "action-session-subscription": [],
    }
    for position in range(shape.actions):
        action = _action(rng, position)
        entities["action"].append(action)
        subscribers = rng.sample(persons, shape.subscriptions_per_action)
        subscriptions = [_subscription(rng, action["action_id"], person) for person in subscribers]
        entities["action-subscription"].extend(subscriptions)
        subscription_ids = [s["action_subscription_id"] for s in subscriptions]
        for _ in range(shape.sessions_per_action):
            session = {"action_session_id": _uuid(rng), "action_id": action["action_id"], **_tenancy()}
            entities["action-session"].append(session)
            session_id = session["action_session_id"]
            entities["action-session-date"].extend(_dates(rng, session_id, rng.randint(1, shape.max_dates)))
            enrolled = rng.randint(1, min(shape.max_enrollments, len(subscription_ids)))
            entities["action-session-subscription"].extend(_enrollments(rng, session_id, subscription_ids, enrolled))
    data = {"directory": directory(persons), "entities": entities}
    return LargeState(data=data, action_ids=[a["action_id"] for a in entities["action"]])


def directory_only_seed(persons: int = 10, seed: int = 4) -> dict[str, Any]:
    """Reference data without entities: what the benchmark starts the mock with when the
    bundled seed file is missing (`--empty` needs it for its reference data)."""
    rng = random.Random(seed)
    return {"directory": directory([_uuid(rng) for _ in range(persons)]), "entities": {}}
