"""The suite in production conditions: retries, lost create answers, the spec drift report.

The retry and drift tests judge the suite's own support code (no target needed); the
reconciliation test loses the answer of a real create of the target, once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest

from .suite_runs import RUN_MARKER, mock_entry, run_suite, start_mock
from contract.support import transport
from contract.support.client import ApiClient
from contract.support.drift import compare, report, resolve_local_refs
from contract.support.oracle import World
from contract.support.samples import fresh_create_body
from contract.support.target import Target
from contract.support.transport import AnswerLost, RetryPolicy, TargetUnavailable, retry_after_seconds, send_with_retries

FAST = RetryPolicy(attempts=4, backoff=0.01, max_wait=5.0, budget=60.0)


class Script:
    """Answers (status, headers) or raises, in order; records the waits it was asked for."""

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)
        self.sent = 0
        self.waits: list[float] = []

    def send(self) -> tuple[int, dict[str, str]]:
        self.sent += 1
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def run(self, *, resendable: bool = True, policy: RetryPolicy = FAST) -> tuple[int, dict[str, str]]:
        return send_with_retries(
            self.send, lambda a: a[0], lambda a, name: a[1].get(name), resendable=resendable, describe="POST /v2/x", policy=policy, sleep=self.waits.append
        )


def test_429_is_sent_again_after_retry_after(ledger: transport.RequestLedger) -> None:
    script = Script((429, {"Retry-After": "2"}), (429, {"Retry-After": "1"}), (200, {}))
    assert script.run(resendable=False)[0] == 200  # unprocessed: even a create is sent again
    assert script.waits == [2.0, 1.0]
    assert ledger.retries == {"429": 2} and ledger.waited == 3.0


def test_502_of_a_create_is_a_lost_answer_not_a_second_create(ledger: transport.RequestLedger) -> None:
    script = Script((502, {}), (201, {}))
    with pytest.raises(AnswerLost):
        script.run(resendable=False)
    assert script.sent == 1


def test_reads_are_sent_again_after_a_dropped_connection_and_503(ledger: transport.RequestLedger) -> None:
    script = Script(httpx.RemoteProtocolError("dropped"), (503, {}), httpx.ConnectError("refused"), (200, {}))
    assert script.run()[0] == 200
    assert script.sent == 4 and len(script.waits) == 3


def test_a_create_whose_connection_never_opened_is_sent_again(ledger: transport.RequestLedger) -> None:
    script = Script(httpx.ConnectError("refused"), (201, {}))
    assert script.run(resendable=False)[0] == 201


def test_attempts_exhausted_is_target_unavailable(ledger: transport.RequestLedger) -> None:
    script = Script(*[(503, {})] * 4)
    with pytest.raises(TargetUnavailable, match="target unavailable: POST /v2/x failed 4 times"):
        script.run()


def test_run_budget_exhausted_is_target_unavailable(ledger: transport.RequestLedger) -> None:
    ledger.waited = 59.5
    with pytest.raises(TargetUnavailable, match="budget"):
        Script((429, {"Retry-After": "1"}), (200, {})).run()


def test_a_retry_after_longer_than_the_longest_wait_is_target_unavailable(ledger: transport.RequestLedger) -> None:
    with pytest.raises(TargetUnavailable, match="asking to wait 3600 s"):
        Script((429, {"Retry-After": "3600"}), (200, {})).run()


def test_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2026, 1, 31, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("Sat, 31 Jan 2026 12:00:05 GMT", now) == 5.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


# ---------------------------------------------------------------- a create whose answer was lost


def _lose_first_create_answer(target: Target, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first create reaches the server, which makes the entity; its answer never arrives.
    Every later request passes (the patch is undone at the end of the test)."""
    original = target.client.request
    lost: list[str] = []

    def request(method: str, url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
        response = original(method, url, *args, **kwargs)
        if str(url).endswith("/create") and not lost:
            lost.append(str(url))
            raise httpx.ReadError("connection reset after the request was sent")
        return response

    monkeypatch.setattr(target.client, "request", request)
    return lost


@pytest.mark.writes
@pytest.mark.parametrize("segment", ["action", "action-session", "certificate"])
def test_a_lost_create_answer_is_reconciled_by_the_run_marker(
    api: ApiClient, target: Target, segment: str, monkeypatch: pytest.MonkeyPatch, ledger: transport.RequestLedger
) -> None:
    with api.scope() as scope:
        world = World(today=target.today())
        body = fresh_create_body(api, target, world, segment)  # parents created before the loss
        lost = _lose_first_create_answer(target, monkeypatch)
        answer = api.create(segment, body)
        assert lost, "the create's answer was not lost"
        assert len(ledger.reconciled) == 1 and "by its marker" in ledger.reconciled[0]  # a warning, noted
        assert answer.status == 201, answer.body
        entity_id = str(answer.body[f"{segment.replace('-', '_')}_id"]).lower()
        assert api.owns(segment, entity_id) and (segment, entity_id) in scope.created
        items, _ = api.index_all(segment, api._marker_filter(segment, body))
        mine = [item for item in items if str(item[f"{segment.replace('-', '_')}_id"]).lower() == entity_id]
        assert len(mine) == 1
        # exactly one entity of this create: never sent blindly twice
        unknown = [item for item in items if not api.owns(segment, str(item[f"{segment.replace('-', '_')}_id"]))]
        assert unknown == []


# ---------------------------------------------------------------- Schemathesis behind a gateway that loses create answers

LOST_EVERY = 4  # a quarter of the stored creates: each Schemathesis test meets some
# The mock as a real server, behind tests/mutation/mutants.py's gateway that answers 502 for every
# LOST_EVERY-th create it stored (201).
LOSSY_MOCK = mock_entry(f"from tests.mutation.mutants import add_lost_create_answers\nadd_lost_create_answers(patch, every={LOST_EVERY})")
SCHEMATHESIS_CREATES = "keeps_the_contract and create or linked_operations"


def _entity_ids(state: dict[str, Any]) -> dict[str, set[str]]:
    return {segment: {str(row.get(f"{segment.replace('-', '_')}_id")).lower() for row in rows} for segment, rows in state["entities"].items()}


def test_schemathesis_creates_whose_answer_was_lost_are_reconciled_and_deleted() -> None:
    """The Schemathesis tests (every create operation, the state machine) against a real server
    whose gateway loses the answer of some stored creates: they pass, the lost creates are noted as
    warnings, and nothing of the run stays on the server. Two pytest-xdist workers share it, so it
    is a shared server (no state put back): only the run's own cleanup can delete what it made."""
    mock = start_mock(entry=("-c", LOSSY_MOCK))
    try:
        with mock.client() as control:
            before = _entity_ids(control.get("/__mock/state").json())
        run = run_suite("tests/contract/test_schemathesis.py", "tests/contract/test_stateful.py",
                        "-k", SCHEMATHESIS_CREATES, "--target-url", mock.url, "-n", "2")
        output = run.stdout + run.stderr
        with mock.client() as control:
            state = control.get("/__mock/state").json()
    finally:
        mock.stop()
    assert run.returncode == 0, output[-6000:]
    warnings = output.split("contract retries (warnings, not broken rules)", 1)
    assert len(warnings) == 2, f"no warnings section: {output[-3000:]}"
    found = re.findall(r"lost create answer: POST /v2/([a-z-]+)/create: 502: found \1 [0-9a-f-]+ by its marker \(Schemathesis\)", warnings[1])
    assert len(found) >= 2, warnings[1][:3000]
    leftovers = [json.dumps(row)[:200] for rows in state["entities"].values() for row in rows if RUN_MARKER.search(json.dumps(row))]
    assert leftovers == [], f"{len(leftovers)} entities of the run stayed on the server: {leftovers[:5]}"
    assert _entity_ids(state) == before  # nothing the run did not know about either


# ---------------------------------------------------------------- the spec drift report

CONTRACT = {
    "info": {"title": "API", "version": "2"},
    "paths": {"/v2/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Ok"}}}}},
    "components": {"responses": {"Ok": {"description": "ok"}}, "schemas": {"A": {"required": ["b", "a"], "properties": {"a_id": {"type": "string"}}}}},
}


def test_drift_ignores_key_order_refs_and_the_order_of_required() -> None:
    served = {
        "components": {"schemas": {"A": {"properties": {"a_id": {"type": "string"}}, "required": ["a", "b"]}}, "responses": {"Ok": {"description": "ok"}}},
        "paths": {"/v2/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "info": {"version": "2", "title": "API"},
    }
    assert list(compare(resolve_local_refs(CONTRACT), resolve_local_refs(served))) == []


def test_drift_names_what_each_side_has() -> None:
    served = {
        "info": {"title": "API", "version": "1"},
        "paths": {},
        "components": {"responses": {"Ok": {"description": "ok"}}, "schemas": {"A": {"required": ["a"], "properties": {"a_id": {"type": "string"}, "x_gateway": {}}}}},
    }
    lines = report(CONTRACT, json.dumps(served), "served").lines()
    text = "\n".join(lines)
    assert "differs         /info/version" in text
    assert "only in contract /paths/~1v2~1a" in text
    assert "only in contract /components/schemas/A/required[\"b\"]" in text
    assert "only served     /components/schemas/A/properties/x_gateway" in text


def test_drift_of_a_document_that_is_not_json() -> None:
    assert report(CONTRACT, b"<html>", "served").error is not None
