"""The small test world of the mock's tests: fixed ids, its seed file, and a builder of domains.

The ids match tests/mock/fixtures/small_world.yaml. `World` builds a `Domain` that holds only
that file's directory (projects, offices, resources), so that a test creates exactly the
entities its rule needs.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from pathlib import Path
from typing import Any

from mock_server.domain.clock import Clock
from mock_server.domain.service import Domain
from mock_server.resources import SEGMENTS, Resource, read_resources  # noqa: F401  (SEGMENTS: for the tests)
from mock_server.seed import read_seed
from mock_server.spec import load_spec

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SMALL_WORLD = HERE / "fixtures" / "small_world.yaml"
TODAY = dt.date(2026, 6, 15)  # the `--today` of the HTTP tests on the small world

# --- directory --------------------------------------------------------------------------
P_ACME = "10000000-0000-4000-8000-000000000001"
P_BOREALIS = "10000000-0000-4000-8000-000000000002"
O_ROME = "20000000-0000-4000-8000-000000000001"  # of P_ACME, active
O_MILAN = "20000000-0000-4000-8000-000000000002"  # of P_ACME, not active
O_TURIN = "20000000-0000-4000-8000-000000000003"  # of P_BOREALIS
PERSON_1 = "30000000-0000-4000-8000-000000000001"  # Alpha Anna
PERSON_2 = "30000000-0000-4000-8000-000000000002"
PERSON_3 = "30000000-0000-4000-8000-000000000003"
PERSON_4 = "30000000-0000-4000-8000-000000000004"
PERSON_5 = "30000000-0000-4000-8000-000000000005"
PERSON_6 = "30000000-0000-4000-8000-000000000006"
PERSONS = (PERSON_1, PERSON_2, PERSON_3, PERSON_4, PERSON_5, PERSON_6)
CRANE = "30000000-0000-4000-8000-000000000011"  # EQUIPMENT of P_ACME
PERSON_BOREALIS = "30000000-0000-4000-8000-000000000021"
MISSING = "ffffffff-ffff-4fff-bfff-ffffffffffff"  # no entity, project, office or resource has it

# --- entities of the small world ------------------------------------------------------------
FIRE = "40000000-0000-4000-8000-000000000001"  # TRAINING FST-01, 5 YEAR, interval 90, O_ROME
CRANE_MAINTENANCE = "40000000-0000-4000-8000-000000000002"  # MAINTENANCE, O_MILAN
FOOD_HYGIENE = "40000000-0000-4000-8000-000000000003"  # TRAINING, P_BOREALIS
SUB_1 = "50000000-0000-4000-8000-000000000001"  # FIRE x PERSON_1 (VALID)
SUB_2 = "50000000-0000-4000-8000-000000000002"  # FIRE x PERSON_2 (NEW, scheduled)
SUB_3 = "50000000-0000-4000-8000-000000000003"  # FIRE x PERSON_3 (NEW, to do)
SUB_CRANE = "50000000-0000-4000-8000-000000000011"  # CRANE_MAINTENANCE x CRANE
SESSION_PAST = "60000000-0000-4000-8000-000000000001"  # FIRE, 2026-03-10
SESSION_NEXT = "60000000-0000-4000-8000-000000000002"  # FIRE, 2026-07-01..2026-07-02
DATE_PAST = "70000000-0000-4000-8000-000000000001"
DATE_NEXT_1 = "70000000-0000-4000-8000-000000000002"
DATE_NEXT_2 = "70000000-0000-4000-8000-000000000003"
CERT_1 = "80000000-0000-4000-8000-000000000001"  # PERSON_1, 2025-01-10, linked to FIRE
CERT_UNLINKED = "80000000-0000-4000-8000-000000000002"  # PERSON_4, 2026-01-01, own 1 YEAR
LINK_1 = "90000000-0000-4000-8000-000000000001"  # CERT_1 -> FIRE
ENROLLMENT_1 = "e0000000-0000-4000-8000-000000000001"  # SESSION_PAST x SUB_1, done 1, CERT_1
ENROLLMENT_2 = "e0000000-0000-4000-8000-000000000002"  # SESSION_NEXT x SUB_2, done -1



def extra_person(number: int) -> str:
    """The id of the `number`-th extra person a `World` may add to the directory (of P_ACME)."""
    return f"3a000000-0000-4000-8000-{number:012d}"


def id_field(segment: str) -> str:
    return segment.replace("-", "_") + "_id"


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return load_spec()


@functools.lru_cache(maxsize=1)
def resources() -> dict[str, Resource]:
    return read_resources(spec())


@functools.lru_cache(maxsize=1)
def small_world_data() -> dict[str, Any]:
    return read_seed(SMALL_WORLD)


def directory_data() -> dict[str, Any]:
    return small_world_data()["directory"]


class World:
    """A domain over the small world's directory, with builders that fill in the dull fields.

    Each builder creates one entity through `Domain.create` and answers its id; any field given
    replaces the default.
    """

    def __init__(self, today: dt.date = TODAY, *, with_entities: bool = False, extra_people: int = 0) -> None:
        self.clock = Clock(today)
        self.domain = Domain(resources(), self.clock)
        directory = copy.deepcopy(directory_data())
        extra = [extra_person(i) for i in range(extra_people)]
        directory["resources"] += [
            {"resource_id": person, "project_id": P_ACME, "office_id": O_ROME, "type": "PERSON", "name": f"Extra {i:03d}"}
            for i, person in enumerate(extra)
        ]
        self.people: tuple[str, ...] = PERSONS + tuple(extra)
        entities = small_world_data()["entities"] if with_entities else {}
        self.domain.load({"directory": directory, "entities": entities})

    def set_today(self, today: dt.date) -> None:
        self.clock.set(today)

    def _create(self, segment: str, body: dict[str, Any]) -> str:
        return self.domain.create(segment, body)[id_field(segment)]

    def view(self, segment: str, entity_id: str) -> dict[str, Any]:
        return self.domain.view(segment, entity_id)

    def exists(self, segment: str, entity_id: str) -> bool:
        return self.domain.store.get(segment, entity_id) is not None

    def action(self, **fields: Any) -> str:
        body = {"action_type": "TRAINING", "name": "An action", "subtenant_id": O_ROME, "tenant_id": P_ACME}
        return self._create("action", {**body, **fields})

    def subscription(self, action_id: str, subscriber_id: str, **fields: Any) -> str:
        body = {
            "action_id": action_id,
            "subscriber_id": subscriber_id,
            "subscriber_type": "PERSON",
            "subtenant_id": O_ROME,
            "tenant_id": P_ACME,
        }
        return self._create("action-subscription", {**body, **fields})

    def session(self, action_id: str, **fields: Any) -> str:
        body = {"action_id": action_id, "subtenant_id": O_ROME, "tenant_id": P_ACME}
        return self._create("action-session", {**body, **fields})

    def date(self, session_id: str, begin: str, end: str, **fields: Any) -> str:
        body = {
            "action_session_id": session_id,
            "date_begin": begin,
            "date_end": end,
            "subtenant_id": O_ROME,
            "tenant_id": P_ACME,
        }
        return self._create("action-session-date", {**body, **fields})

    def day(self, session_id: str, day: dt.date | str) -> str:
        """A 09:00-17:00 date of `session_id` on `day`."""
        text = day if isinstance(day, str) else day.isoformat()
        return self.date(session_id, f"{text}T09:00:00", f"{text}T17:00:00")

    def certificate(self, resource_id: str, date_release: str, **fields: Any) -> str:
        body = {
            "date_release": date_release,
            "name": "A certificate",
            "action_type": "TRAINING",
            "resource_id": resource_id,
            "tenant_id": P_ACME,
        }
        return self._create("certificate", {**body, **fields})

    def link(self, certificate_id: str, action_id: str, **fields: Any) -> str:
        body = {"certificate_id": certificate_id, "action_id": action_id}
        return self._create("certificate-action", {**body, **fields})

    def enroll(self, session_id: str, subscription_id: str, **fields: Any) -> str:
        body = {
            "action_session_id": session_id,
            "action_subscription_id": subscription_id,
            "subtenant_id": O_ROME,
            "tenant_id": P_ACME,
        }
        return self._create("action-session-subscription", {**body, **fields})


# --- valid bodies on the small world (its entities loaded) -----------------------------------

def create_body(segment: str) -> dict[str, Any]:
    """A create body that the small world accepts (201) as it stands after a reset."""
    bodies: dict[str, dict[str, Any]] = {
        "action": {"action_type": "CHECK", "code": "CHK-01", "name": "Scaffold Inspection",
                   "subtenant_id": O_ROME, "tenant_id": P_ACME},
        "action-session": {"action_id": FIRE, "validity_unit": "YEAR", "validity": 2,
                           "subtenant_id": O_ROME, "tenant_id": P_ACME},
        "action-session-date": {"action_session_id": SESSION_NEXT, "date_begin": "2026-07-03T09:00:00",
                                "date_end": "2026-07-03T17:00:00", "subtenant_id": O_ROME, "tenant_id": P_ACME},
        "certificate": {"date_release": "2026-02-01", "name": "First Aid Certificate", "action_type": "TRAINING",
                        "resource_id": PERSON_5, "tenant_id": P_ACME},
        "action-subscription": {"action_id": FIRE, "subscriber_id": PERSON_4, "subscriber_type": "PERSON",
                                "subtenant_id": O_ROME, "tenant_id": P_ACME},
        "action-session-subscription": {"action_session_id": SESSION_NEXT, "action_subscription_id": SUB_3,
                                        "subtenant_id": O_ROME, "tenant_id": P_ACME},
        "certificate-action": {"certificate_id": CERT_UNLINKED, "action_id": FIRE, "tenant_id": P_ACME},
    }
    return copy.deepcopy(bodies[segment])


# One stored entity per resource, and a partial update of it that the small world accepts.
EXISTING: dict[str, str] = {
    "action": FIRE,
    "action-session": SESSION_NEXT,
    "action-session-date": DATE_NEXT_2,
    "certificate": CERT_1,
    "action-subscription": SUB_3,
    "action-session-subscription": ENROLLMENT_2,
    "certificate-action": LINK_1,
}


def update_body(segment: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "action": {"name": "Fire Safety Training High Risk"},
        "action-session": {"validity": 3, "validity_unit": "YEAR"},
        "action-session-date": {"date_end": "2026-07-02T18:00:00"},
        "certificate": {"note": "renewed on paper"},
        "action-subscription": {"data": '{"priority": "high"}'},
        "action-session-subscription": {"done": 0},
        "certificate-action": {"date_expire": "2031-01-01"},
    }
    return copy.deepcopy(bodies[segment])
