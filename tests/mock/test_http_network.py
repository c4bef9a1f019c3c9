"""The simulated network over a real server: latency where configured and only there, each fault
kind at its configured probability in a seeded run (repeatable), and no injected fault ever
changes the state."""

from __future__ import annotations

import html
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockhttp import RunningMock, start_mock
from mockworld import REPO, SMALL_WORLD, TODAY

pytestmark = pytest.mark.http

ACTION_ID = "40000000-0000-4000-8000-000000000001"
CERTIFICATE_ID = "80000000-0000-4000-8000-000000000001"
NEW_CERTIFICATE = {"date_release": "2026-01-01", "name": "Network test", "action_type": "TRAINING",
                   "resource_id": "30000000-0000-4000-8000-000000000001",
                   "tenant_id": "10000000-0000-4000-8000-000000000001"}
CALLS = 200
PROBABILITY = 0.3


@pytest.fixture(scope="module")
def network_mock() -> Iterator[RunningMock]:
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--fault-seed", "1234")) as mock:
        yield mock


@pytest.fixture
def net(network_mock: RunningMock) -> Iterator[httpx.Client]:
    """A client of the seeded mock; faults, latency and state put back after the test."""
    with network_mock.client() as client:
        try:
            yield client
        finally:
            for workspace in ({}, {"X-Mock-Workspace": "other"}):
                assert client.delete("/__mock/faults", headers=workspace).status_code == 200
                assert client.delete("/__mock/latency", headers=workspace).status_code == 200
            assert client.post("/__mock/reset").status_code == 200


def timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    return response, time.perf_counter() - started


def binomial_bounds(calls: int, probability: float, sigmas: float = 4.5) -> tuple[float, float]:
    mean = calls * probability
    spread = sigmas * math.sqrt(calls * probability * (1 - probability))
    return mean - spread, mean + spread


def put_faults(client: httpx.Client, rules: list[dict[str, Any]], **kwargs: Any) -> None:
    response = client.put("/__mock/faults", json=rules, **kwargs)
    assert response.status_code == 200, response.text
    assert response.json() == rules


# --- latency ----------------------------------------------------------------------------------

def test_latency_of_one_operation_delays_it_and_nothing_else(net: httpx.Client) -> None:
    response = net.put("/__mock/latency", json={"operations": {"action_view": {"min_ms": 300}}})
    assert response.status_code == 200, response.text
    assert response.json() == {"default": None, "operations": {"action_view": {"min_ms": 300, "max_ms": 300}}}
    for _ in range(3):
        answer, seconds = timed(net, "GET", f"/v2/action/view/{ACTION_ID}")
        assert answer.status_code == 200
        assert seconds >= 0.3
    others = sorted(timed(net, "POST", "/v2/action/index", json={})[1] for _ in range(5))
    assert others[2] < 0.2, others  # the median of an unconfigured operation, well under 300 ms


def test_a_latency_range_bounds_every_api_answer_and_not_the_controls(net: httpx.Client) -> None:
    assert net.put("/__mock/latency", json={"default": {"min_ms": 150, "max_ms": 250}}).status_code == 200
    for method, url in [("GET", f"/v2/action/view/{ACTION_ID}"), ("POST", "/v2/certificate/index"),
                        ("GET", "/v2/action/view/not-an-id")]:
        answer, seconds = timed(net, method, url, json={} if method == "POST" else None)
        assert answer.status_code in (200, 400)  # a refused request waits too
        assert 0.15 <= seconds < 0.25 + 1.5  # generous above: the machine is shared
    health = sorted(timed(net, "GET", "/__mock/health")[1] for _ in range(5))
    assert health[2] < 0.1, health
    assert net.get("/__mock/health").json()["network"]["latency"]["default"] == {"min_ms": 150, "max_ms": 250}


def test_latency_from_the_command_line(tmp_path: Path) -> None:
    mock = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--latency", "250"), control_token="c")
    try:
        with mock.client() as client:
            answer, seconds = timed(client, "GET", f"/v2/action/view/{ACTION_ID}")
            assert answer.status_code == 200 and seconds >= 0.25
            # The network controls take the control token like every other control.
            refused = client.get("/__mock/latency")
            assert refused.status_code == 401 and refused.json()["field"] == "X-Mock-Control-Token"
            assert client.put("/__mock/faults", json=[]).status_code == 401
            assert client.get("/__mock/webhooks").status_code == 401
            shown = client.get("/__mock/latency", headers={"X-Mock-Control-Token": "c"})
            assert shown.json() == {"default": {"min_ms": 250, "max_ms": 250}, "operations": {}}
    finally:
        mock.stop()


# --- faults -------------------------------------------------------------------------------------

def statuses(client: httpx.Client, calls: int = CALLS) -> list[int | str]:
    """The status of each of `calls` searches of actions ("dropped" when the connection closed)."""
    seen: list[int | str] = []
    for _ in range(calls):
        try:
            seen.append(client.post("/v2/action/index", json={}).status_code)
        except httpx.TransportError:
            seen.append("dropped")
    return seen


@pytest.mark.parametrize("rule, outcome", [
    ({"status": 500}, 500),
    ({"status": 503, "retry_after": 5}, 503),
    ({"status": 429}, 429),
    ({"drop": True}, "dropped"),
])
def test_each_fault_kind_hits_at_its_probability_repeatably(net: httpx.Client, rule: dict[str, Any],
                                                            outcome: int | str) -> None:
    rules = [{"operationId": "action_index", "probability": PROBABILITY, **rule}]
    put_faults(net, rules)
    first = statuses(net)
    low, high = binomial_bounds(CALLS, PROBABILITY)
    assert low <= first.count(outcome) <= high, first.count(outcome)
    assert set(first) == {200, outcome}
    put_faults(net, rules)  # setting the rules again starts the draws again from the seed
    assert statuses(net) == first


def test_error_faults_answer_a_problem_with_retry_after(net: httpx.Client) -> None:
    for status, retry_after in [(500, None), (503, "5"), (429, "1")]:
        rule: dict[str, Any] = {"operationId": "action_view", "status": status}
        if status == 503:
            rule["retry_after"] = 5
        put_faults(net, [rule])
        answer = net.get(f"/v2/action/view/{ACTION_ID}")
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == status and answer.json()["title"]
        assert answer.headers.get("retry-after") == retry_after
        assert answer.headers["x-mock-fault"] == f"status-{status}"


def test_slow_answers_hit_at_their_probability_and_are_late(net: httpx.Client) -> None:
    put_faults(net, [{"path": "/v2/action/view/*", "method": "GET", "slow_ms": 200, "probability": 0.5}])
    calls = 60
    slow = 0
    for _ in range(calls):
        answer, seconds = timed(net, "GET", f"/v2/action/view/{ACTION_ID}")
        assert answer.status_code == 200  # a slow answer is the real answer, late
        if answer.headers.get("x-mock-fault") == "slow":
            slow += 1
            assert seconds >= 0.2
    low, high = binomial_bounds(calls, 0.5)
    assert low <= slow <= high, slow


def export(client: httpx.Client) -> bytes:
    response = client.get("/__mock/state")
    assert response.status_code == 200
    return response.content


WRITES = [
    ("POST", "/v2/certificate/create", NEW_CERTIFICATE, "certificate_create"),
    ("PUT", f"/v2/certificate/update/{CERTIFICATE_ID}", {"name": "Renamed"}, "certificate_update"),
    ("DELETE", f"/v2/certificate/delete/{CERTIFICATE_ID}?force=true", None, "certificate_delete"),
]


@pytest.mark.parametrize("kind", [{"status": 500}, {"status": 503}, {"status": 429}, {"drop": True}])
@pytest.mark.parametrize("method, url, body, operation_id", WRITES)
def test_an_injected_fault_never_changes_the_state(net: httpx.Client, kind: dict[str, Any], method: str, url: str,
                                                   body: dict[str, Any] | None, operation_id: str) -> None:
    before = export(net)
    put_faults(net, [{"operationId": operation_id, **kind}])
    try:
        answer = net.request(method, url, json=body)
        assert answer.status_code == kind.get("status")
    except httpx.TransportError:
        assert kind.get("drop")
    assert export(net) == before
    assert net.delete("/__mock/faults").status_code == 200
    assert net.request(method, url, json=body).status_code in (200, 201, 204)  # the same call, unfaulted, writes
    assert export(net) != before


def test_path_rules_match_method_and_pattern(net: httpx.Client) -> None:
    put_faults(net, [{"path": "/v2/certificate/*", "method": "POST", "status": 503}])
    assert net.post("/v2/certificate/index", json={}).status_code == 503
    assert net.get(f"/v2/certificate/view/{CERTIFICATE_ID}").status_code == 200  # not a POST
    assert net.post("/v2/action/index", json={}).status_code == 200  # not the pattern
    assert net.get("/__mock/health").status_code == 200  # controls are never faulted


def test_rules_are_scoped_to_the_workspace_header(net: httpx.Client) -> None:
    other = {"X-Mock-Workspace": "other"}
    put_faults(net, [{"operationId": "action_index", "status": 500}], headers=other)
    assert net.post("/v2/action/index", json={}, headers=other).status_code == 500
    assert net.post("/v2/action/index", json={}).status_code == 200
    assert net.get("/__mock/faults").json() == []
    assert net.get("/__mock/health", headers=other).json()["network"]["faults"] == [
        {"operationId": "action_index", "status": 500}]
    assert net.delete("/__mock/faults", headers=other).json() == []
    assert net.post("/v2/action/index", json={}, headers=other).status_code == 200


def test_a_workspace_name_past_the_limit_is_a_400(net: httpx.Client) -> None:
    answer = net.put("/__mock/faults", json=[], headers={"X-Mock-Workspace": "w" * 201})
    assert answer.status_code == 400 and answer.json()["field"] == "X-Mock-Workspace"


@pytest.mark.parametrize("document, field", [
    ({}, "body"),
    ([{"operationId": "action_nope", "status": 500}], "[0].operationId"),
    ([{"status": 500}], "[0].operationId"),
    ([{"operationId": "action_view", "path": "/v2/*", "status": 500}], "[0].operationId"),
    ([{"operationId": "action_view", "status": 404}], "[0].status"),
    ([{"operationId": "action_view"}], "[0].status"),
    ([{"operationId": "action_view", "status": 500, "drop": True}], "[0].drop"),
    ([{"operationId": "action_view", "drop": False}], "[0].drop"),
    ([{"operationId": "action_view", "status": 500, "probability": 1.5}], "[0].probability"),
    ([{"operationId": "action_view", "status": 500, "retry_after": 3}], "[0].retry_after"),
    ([{"operationId": "action_view", "method": "GET", "status": 500}], "[0].method"),
    ([{"path": "v2/action", "status": 500}], "[0].path"),
    ([{"operationId": "action_view", "status": 500, "typo": 1}], "[0].typo"),
    ([{"operationId": "action_view", "slow_ms": 0}], "[0].slow_ms"),
])
def test_bad_rules_are_a_400_naming_the_field(net: httpx.Client, document: Any, field: str) -> None:
    put_faults(net, [{"operationId": "action_view", "status": 500}])
    answer = net.put("/__mock/faults", json=document)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == field, answer.json()
    assert net.get("/__mock/faults").json() == [{"operationId": "action_view", "status": 500}]  # kept


@pytest.mark.parametrize("body, field", [
    (b"not json", "body"),
    (b'[{"operationId": "action_view", "status": 500, "probability": NaN}]', "body"),
])
def test_a_body_that_is_not_json_is_a_400(net: httpx.Client, body: bytes, field: str) -> None:
    answer = net.put("/__mock/faults", content=body)
    assert answer.status_code == 400 and answer.json()["field"] == field


@pytest.mark.parametrize("document, field", [
    ({"default": {"min_ms": 300, "max_ms": 100}}, "default.max_ms"),
    ({"default": {"min_ms": -1}}, "default.min_ms"),
    ({"operations": {"action_nope": {"min_ms": 1}}}, "operations.action_nope"),
    ({"operations": {"action_view": {"max_ms": 1}}}, "operations.action_view.min_ms"),
    ({"all": 1}, "all"),
    ([], "body"),
])
def test_bad_latency_is_a_400_naming_the_field(net: httpx.Client, document: Any, field: str) -> None:
    answer = net.put("/__mock/latency", json=document)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field, answer.json()
    assert net.get("/__mock/latency").json() == {"default": None, "operations": {}}


# --- the command line ---------------------------------------------------------------------------

def run_mock(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "--port", "0", "--log-level", "warning", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("content, message", [
    ('[{"operationId": "action_view", "status": 418}]', "[0].status"),
    ("- operationId: action_nope\n  drop: true\n", "[0].operationId"),
    ("{not: [yaml", "body"),
])
def test_a_bad_faults_file_stops_the_mock_with_status_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(content, encoding="utf-8")
    result = run_mock("--faults", str(path))
    assert result.returncode == 2
    assert f"--faults {path}: {message}" in result.stderr
    assert "listening" not in result.stdout


def test_a_bad_latency_stops_the_mock_with_status_2() -> None:
    result = run_mock("--latency", "300-100")
    assert result.returncode == 2
    assert "--latency: expected MIN <= MAX" in result.stderr and "listening" not in result.stdout


def test_a_faults_file_in_yaml_applies_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("- operationId: action_view\n  status: 503\n  retry_after: 2\n", encoding="utf-8")
    mock = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD, extra=("--faults", str(path)))
    try:
        with mock.client() as client:
            answer = client.get(f"/v2/action/view/{ACTION_ID}")
            assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
            assert client.get("/__mock/health").json()["network"]["faults"] == [
                {"operationId": "action_view", "status": 503, "retry_after": 2}]
            assert json.loads(client.delete("/__mock/faults").text) == []
            assert client.get(f"/v2/action/view/{ACTION_ID}").status_code == 200
    finally:
        mock.stop()


def test_the_dashboard_shows_the_faults_and_latency_of_its_workspace(net: httpx.Client) -> None:
    other = {"X-Mock-Workspace": "other"}
    put_faults(net, [{"operationId": "certificate_update", "status": 503, "probability": 0.25}], headers=other)
    assert net.put("/__mock/latency", json={"default": {"min_ms": 40, "max_ms": 40}, "operations": {}},
                   headers=other).status_code == 200
    shown = net.get("/__mock/", params={"workspace": "other"})
    assert shown.status_code == 200
    page = html.unescape(shown.text)
    assert "certificate_update" in page and "0.25" in page and '"min_ms": 40' in page
    default = net.get("/__mock/")
    assert default.status_code == 200 and "certificate_update" not in default.text
