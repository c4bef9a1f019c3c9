"""Many clients at once against the real server: enrollments created and deleted and sessions
force-deleted while others read. Afterwards every computed count agrees with what the indexes
hold, nothing is orphaned, and every read during the run saw consistent counts."""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mockhttp import RunningMock, index_all
from mockworld import O_ROME, P_ACME, TODAY, directory_data, extra_person

pytestmark = pytest.mark.http

THREADS = 8
REQUESTS_PER_THREAD = 50
PEOPLE = 30
ACTION = "4c000000-0000-4000-8000-000000000001"
FIRST_SESSIONS = 6


def _session_body(session_id: str) -> dict[str, Any]:
    return {"action_session_id": session_id, "action_id": ACTION, "subtenant_id": O_ROME, "tenant_id": P_ACME}


def _date_body(session_id: str, day: dt.date) -> dict[str, Any]:
    return {"action_session_id": session_id, "date_begin": f"{day}T09:00:00", "date_end": f"{day}T17:00:00",
            "subtenant_id": O_ROME, "tenant_id": P_ACME}


def _state() -> dict[str, Any]:
    """The small world's directory with 30 more people, one action, 30 entries (10 of them
    certified, valid) and six sessions (three past, three to come)."""
    directory = copy.deepcopy(directory_data())
    people = [extra_person(n) for n in range(PEOPLE)]
    directory["resources"] += [{"resource_id": p, "project_id": P_ACME, "office_id": O_ROME, "type": "PERSON",
                                "name": f"Person {n:02d}"} for n, p in enumerate(people)]
    sessions = [f"6c000000-0000-4000-8000-{n:012d}" for n in range(FIRST_SESSIONS)]
    certificates = [f"8c000000-0000-4000-8000-{n:012d}" for n in range(10)]
    return {
        "directory": directory,
        "entities": {
            "action": [{"action_id": ACTION, "action_type": "TRAINING", "name": "Concurrent course",
                        "validity": 1, "validity_unit": "YEAR", "subtenant_id": O_ROME, "tenant_id": P_ACME}],
            "action-subscription": [
                {"action_subscription_id": f"5c000000-0000-4000-8000-{n:012d}", "action_id": ACTION,
                 "subscriber_id": p, "subscriber_type": "PERSON", "subtenant_id": O_ROME, "tenant_id": P_ACME}
                for n, p in enumerate(people)
            ],
            "action-session": [_session_body(s) for s in sessions],
            "action-session-date": [
                _date_body(s, TODAY + dt.timedelta(days=(n - 3) * 10)) for n, s in enumerate(sessions)
            ],
            "certificate": [
                {"certificate_id": c, "date_release": "2026-01-01", "name": "Course certificate",
                 "action_type": "TRAINING", "resource_id": people[n], "tenant_id": P_ACME}
                for n, c in enumerate(certificates)
            ],
            "certificate-action": [{"certificate_id": c, "action_id": ACTION} for c in certificates],
        },
    }


@dataclass
class Shared:
    sessions: list[str]
    subscriptions: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    unexpected: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=lambda: {"enrolled": 0, "sessions deleted": 0, "reads": 0})

    def count(self, what: str) -> None:
        with self.lock:
            self.done[what] += 1

    def note(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.unexpected.append(f"{what}: {response.status_code} {response.text[:200]}")


def _expect(shared: Shared, what: str, response: httpx.Response, allowed: tuple[int, ...]) -> bool:
    if response.status_code not in allowed:
        shared.note(what, response)
        return False
    return True


def _check_counts(shared: Shared, action: dict[str, Any]) -> None:
    parts = action["countValid"] + action["countScheduled"] + action["countToDo"]
    if action["countSubscribed"] != parts or action["countSubscribed"] != PEOPLE:
        with shared.lock:
            shared.inconsistent.append(f"action counts {action}")


def _check_session(shared: Shared, session: dict[str, Any]) -> None:
    if session["count_subscribed"] != session["count_done"] + session["count_fail"] + session["count_unknown"]:
        with shared.lock:
            shared.inconsistent.append(f"session counts {session}")


def _worker(mock: RunningMock, shared: Shared, number: int, barrier: threading.Barrier) -> None:
    rng = random.Random(number)
    mine: list[str] = []
    with mock.client() as client:
        barrier.wait()
        for step in range(REQUESTS_PER_THREAD):
            roll = rng.random()
            with shared.lock:
                session = rng.choice(shared.sessions)
                subscription = rng.choice(shared.subscriptions)
            if roll < 0.35:
                body = {"action_session_id": session, "action_subscription_id": subscription,
                        "done": rng.choice((-1, -1, 0, 1)), "subtenant_id": O_ROME, "tenant_id": P_ACME}
                response = client.post("/v2/action-session-subscription/create", json=body)
                # 422: already enrolled there, or the session was just force-deleted
                if _expect(shared, "create enrollment", response, (201, 422)) and response.status_code == 201:
                    mine.append(response.json()["action_session_subscription_id"])
                    shared.count("enrolled")
            elif roll < 0.55 and mine:
                enrollment = mine.pop(rng.randrange(len(mine)))
                response = client.delete(f"/v2/action-session-subscription/delete/{enrollment}")
                # 404: its session was force-deleted meanwhile
                _expect(shared, "delete enrollment", response, (204, 404))
            elif roll < 0.62:
                response = client.delete(f"/v2/action-session/delete/{session}", params={"force": "true"})
                if _expect(shared, "force delete session", response, (204, 404)) and response.status_code == 204:
                    shared.count("sessions deleted")
                    replacement = f"6d000000-0000-4000-8000-{number:04d}{step:08d}"  # never a first session's id
                    created = client.post("/v2/action-session/create", json=_session_body(replacement))
                    _expect(shared, "create session", created, (201,))
                    day = TODAY + dt.timedelta(days=rng.randint(-20, 20))
                    _expect(shared, "create date", client.post("/v2/action-session-date/create", json=_date_body(replacement, day)), (201,))
                    with shared.lock:
                        if session in shared.sessions:
                            shared.sessions.remove(session)
                        shared.sessions.append(replacement)
            elif roll < 0.80:
                response = client.get(f"/v2/action/view/{ACTION}")
                if _expect(shared, "view action", response, (200,)):
                    _check_counts(shared, response.json())
                    shared.count("reads")
            else:
                response = client.post("/v2/action-session/index", json={"filter": {"action_id": ACTION}})
                if _expect(shared, "index sessions", response, (200,)):
                    shared.count("reads")
                    for item in response.json():
                        _check_session(shared, item)


@pytest.fixture
def crowded(small_mock: RunningMock, api: httpx.Client) -> Iterator[tuple[RunningMock, httpx.Client, Shared]]:
    state = _state()
    response = api.put("/__mock/state", json=state)
    assert response.status_code == 200, response.text
    shared = Shared(
        sessions=[s["action_session_id"] for s in state["entities"]["action-session"]],
        subscriptions=[s["action_subscription_id"] for s in state["entities"]["action-subscription"]],
    )
    yield small_mock, api, shared  # `api` resets the mock afterwards


def test_concurrent_writes_and_reads_keep_counts_consistent(crowded: tuple[RunningMock, httpx.Client, Shared]) -> None:
    mock, api, shared = crowded
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_worker, args=(mock, shared, n, barrier)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client is still running"
    assert not shared.unexpected, "\n".join(shared.unexpected[:20])
    assert not shared.inconsistent, "\n".join(shared.inconsistent[:20])
    # the run did interleave writes, cascades and reads
    assert all(n > 0 for n in shared.done.values()), shared.done

    sessions = index_all(api, "action-session")
    enrollments = index_all(api, "action-session-subscription")
    subscriptions = index_all(api, "action-subscription")
    session_ids = {s["action_session_id"] for s in sessions}
    subscription_ids = {s["action_subscription_id"] for s in subscriptions}
    # no orphan: every enrollment's session and entry exist
    orphans = [e for e in enrollments
               if e["action_session_id"] not in session_ids or e["action_subscription_id"] not in subscription_ids]
    assert not orphans
    assert api.get("/__mock/health").json()["entities"]["action-session-subscription"] == len(enrollments)
    # every session's counts are its enrollments found by index
    for session in sessions:
        outcomes = [e["done"] for e in enrollments if e["action_session_id"] == session["action_session_id"]]
        assert (session["count_subscribed"], session["count_done"], session["count_fail"], session["count_unknown"]) == (
            len(outcomes), outcomes.count(1), outcomes.count(0), outcomes.count(-1)), session
    # the action's counts, from the indexes by the rule: valid = VALID/EXPIRING; scheduled = the
    # others enrolled with done -1 in a session of the action ending today or later
    action = api.get(f"/v2/action/view/{ACTION}").json()
    valid = {s["action_subscription_id"] for s in subscriptions if s["status"] in ("VALID", "EXPIRING")}
    open_sessions = {s["action_session_id"] for s in sessions
                     if s["action_id"] == ACTION and s["date_end"] is not None and s["date_end"] >= TODAY.isoformat()}
    scheduled = {e["action_subscription_id"] for e in enrollments
                 if e["done"] == -1 and e["action_session_id"] in open_sessions} - valid
    assert len(valid) == 10  # the ten certified people (2026-01-01 + 1 YEAR)
    assert (action["countSubscribed"], action["countValid"], action["countScheduled"], action["countToDo"]) == (
        PEOPLE, len(valid), len(scheduled), PEOPLE - len(valid) - len(scheduled))
