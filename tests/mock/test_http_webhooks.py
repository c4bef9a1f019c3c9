"""The certificate webhooks over a real server: a local receiver gets every event in order, each
payload valid against the spec's `x-webhooks` schemas and signed; a dead receiver shows its
retries in the delivery log while the API answers as before."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from mock_server.webhooks import SpecEvents, WebhookSender
from mockhttp import RunningMock, start_mock, view
from mockworld import REPO, SMALL_WORLD, TODAY, spec

pytestmark = pytest.mark.http

SECRET = "hook-secret"
NEW_CERTIFICATE = {"date_release": "2026-01-01", "name": "Webhook test", "action_type": "TRAINING",
                   "resource_id": "30000000-0000-4000-8000-000000000001",
                   "tenant_id": "10000000-0000-4000-8000-000000000001"}
WAIT_S = 15.0


@dataclass
class Receiver:
    """A tiny HTTP receiver on loopback that records every POST; `fail_first` answers 500 first."""

    server: ThreadingHTTPServer
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(headers["X-Mock-Event"], json.loads(body)) for headers, body in self.received]

    def wait_for(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + WAIT_S
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # and nothing more arrives
        return self.events()


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                failing = receiver.fail_first > 0
                receiver.fail_first -= failing
                if not failing:
                    receiver.received.append((dict(self.headers), body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"  # nothing listens there any more


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()


@pytest.fixture(scope="module")
def hook_mock(receiver: Receiver) -> Iterator[RunningMock]:
    mock = start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD,
                      extra=("--webhook-url", receiver.url, "--webhook-secret", SECRET))
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def hooks(hook_mock: RunningMock, receiver: Receiver) -> Iterator[httpx.Client]:
    with hook_mock.client() as client:
        with receiver.lock:
            receiver.received.clear()
        try:
            yield client
        finally:
            put = client.put("/__mock/webhooks", json={"urls": [receiver.url], "secret": SECRET})
            assert put.status_code == 200, put.text
            assert client.delete("/__mock/faults").status_code == 200
            assert client.post("/__mock/reset").status_code == 200


def webhook_validator(event: str) -> OAS30Validator:
    document = spec()
    operation = document["x-webhooks"][event]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    # The payload's schema as the root, with the spec's components its refs point into.
    return OAS30Validator({**schema, "components": document["components"]})


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: {"old": before.get(key), "new": after.get(key)}
            for key in {*before, *after} if before.get(key) != after.get(key)}


def test_a_receiver_gets_every_event_in_order_valid_and_signed(hooks: httpx.Client, receiver: Receiver) -> None:
    created = hooks.post("/v2/certificate/create", json=NEW_CERTIFICATE)
    assert created.status_code == 201
    first = created.json()
    certificate_id = first["certificate_id"]
    other = hooks.post("/v2/certificate/create", json={**NEW_CERTIFICATE, "name": "Other"}).json()

    renamed = hooks.put(f"/v2/certificate/update/{certificate_id}", json={"name": "Renamed"}).json()
    # Validity changes the computed expiry too: the event carries every field of the answer that changed.
    extended = hooks.put(f"/v2/certificate/update/{certificate_id}", json={"validity": 3, "validity_unit": "YEAR"}).json()
    assert hooks.put(f"/v2/certificate/update/{certificate_id}", json={"name": "Renamed"}).status_code == 200  # no change
    assert hooks.put(f"/v2/certificate/update/{other['certificate_id']}", json={"name": "Other 2"}).status_code == 200
    assert hooks.delete(f"/v2/certificate/delete/{certificate_id}").status_code == 204
    # Writes that fail or are not certificates send nothing.
    assert hooks.post("/v2/certificate/create", json={**NEW_CERTIFICATE, "resource_id": None}).status_code in (400, 422)
    assert hooks.put("/v2/certificate/update/80000000-0000-4000-8000-00000000dead", json={"name": "x"}).status_code == 404

    events = receiver.wait_for(6)
    mine = [(name, body) for name, body in events
            if body.get("certificate_id", body.get("entity_id")) == certificate_id]
    assert mine == [
        ("certificateCreated", first),
        ("certificateUpdated", {"entity_id": certificate_id, "updated_fields": {"name": {"old": "Webhook test", "new": "Renamed"}}}),
        ("certificateUpdated", {"entity_id": certificate_id, "updated_fields": changed_fields(renamed, extended)}),
        ("certificateDeleted", extended),
    ]
    assert set(changed_fields(renamed, extended)) >= {"validity", "validity_unit", "date_expire"}
    assert [name for name, _ in events] == ["certificateCreated", "certificateCreated", "certificateUpdated",
                                            "certificateUpdated", "certificateUpdated", "certificateDeleted"]
    for name, body in events:
        webhook_validator(name).validate(body)
    # The schemas are not vacuous: what lacks a required field fails them.
    assert not webhook_validator("certificateCreated").is_valid({"name": "only a name"})
    assert not webhook_validator("certificateUpdated").is_valid({"entity_id": certificate_id})
    for headers, body in receiver.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Mock-Signature"] == f"sha256={expected}"
        assert headers["X-Mock-Workspace"] == "default"
        assert headers["Content-Type"] == "application/json"

    log = hooks.get("/__mock/webhooks").json()
    assert log["urls"] == [receiver.url] and log["signed"] is True
    delivered = [d for d in log["deliveries"] if d["state"] == "delivered"][-6:]
    assert [d["event"] for d in delivered] == [name for name, _ in events]
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status"] == 200 for d in delivered)


def test_the_events_of_a_deleted_linked_certificate_and_of_a_cascade(hooks: httpx.Client, receiver: Receiver) -> None:
    # The seed's certificate 1 is linked to an action; force=true deletes the links too, and
    # only the certificate itself is an event.
    before = view(hooks, "certificate", "80000000-0000-4000-8000-000000000001")
    assert hooks.delete("/v2/certificate/delete/80000000-0000-4000-8000-000000000001?force=true").status_code == 204
    assert receiver.wait_for(1) == [("certificateDeleted", before)]


def test_an_injected_fault_sends_no_event(hooks: httpx.Client, receiver: Receiver) -> None:
    assert hooks.put("/__mock/faults", json=[{"operationId": "certificate_create", "status": 503}]).status_code == 200
    assert hooks.post("/v2/certificate/create", json=NEW_CERTIFICATE).status_code == 503
    assert receiver.wait_for(1) == []


def test_a_dead_receiver_shows_its_retries_and_the_api_answers_as_before(hooks: httpx.Client) -> None:
    dead = closed_port_url()
    assert hooks.put("/__mock/webhooks", json={"urls": [dead]}).json()["urls"] == [dead]
    started = time.perf_counter()
    created = hooks.post("/v2/certificate/create", json=NEW_CERTIFICATE)
    updated = hooks.put(f"/v2/certificate/update/{created.json()['certificate_id']}", json={"name": "Still answered"})
    elapsed = time.perf_counter() - started
    assert created.status_code == 201 and updated.status_code == 200
    assert elapsed < 1.0  # the four attempts of each delivery take about 2 s: not on the call's time

    deadline = time.monotonic() + WAIT_S
    while True:
        log = hooks.get("/__mock/webhooks").json()
        deliveries = [d for d in log["deliveries"] if d["url"] == dead]
        if [d["state"] for d in deliveries] == ["failed", "failed"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [d["state"] for d in deliveries] == ["failed", "failed"], deliveries
    assert [d["event"] for d in deliveries] == ["certificateCreated", "certificateUpdated"]
    for delivery in deliveries:
        assert len(delivery["attempts"]) == 4
        assert all(a["status"] is None and "Connection refused" in a["error"] for a in delivery["attempts"])
    assert log["counts"]["failed"] >= 2
    assert hooks.get("/__mock/health").json()["webhooks"]["counts"]["failed"] >= 2


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(hooks: httpx.Client, receiver: Receiver) -> None:
    receiver.fail_first = 2
    created = hooks.post("/v2/certificate/create", json=NEW_CERTIFICATE).json()
    assert receiver.wait_for(1) == [("certificateCreated", created)]
    delivery = hooks.get("/__mock/webhooks").json()["deliveries"][-1]
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]


@pytest.mark.parametrize("document, field_name", [
    ({}, "urls"),
    ([], "body"),
    ({"urls": ["ftp://example.invalid/x"]}, "urls[0]"),
    ({"urls": ["not a url"]}, "urls[0]"),
    ({"urls": [5]}, "urls[0]"),
    ({"urls": [], "secret": ""}, "secret"),
    ({"urls": [], "extra": 1}, "extra"),
])
def test_bad_webhook_settings_are_a_400_naming_the_field(hooks: httpx.Client, receiver: Receiver,
                                                         document: Any, field_name: str) -> None:
    answer = hooks.put("/__mock/webhooks", json=document)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field_name, answer.json()
    assert hooks.get("/__mock/webhooks").json()["urls"] == [receiver.url]


@pytest.mark.parametrize("option", [["--webhook-url", "ftp://127.0.0.1/x"], ["--webhook-secret", ""]])
def test_bad_webhook_options_stop_the_mock_with_status_2(option: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "mock_server", "--port", "0", "--log-level", "warning", *option],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"mock-4hse: {option[0]}" in result.stderr and "listening" not in result.stdout


def test_what_overflows_a_full_queue_is_counted_and_in_the_log() -> None:
    # In-process, a receiver that holds each delivery: the queue of 2 fills at once.
    gate = threading.Event()
    receiver = start_receiver()
    original = receiver.server.RequestHandlerClass.do_POST

    def held(handler: BaseHTTPRequestHandler) -> None:
        gate.wait(10)
        original(handler)

    receiver.server.RequestHandlerClass.do_POST = held  # type: ignore[method-assign]
    sender = WebhookSender([receiver.url], queue_size=2, attempts=1)
    events = SpecEvents(spec())
    try:
        for number in range(6):
            sender.submit("certificateCreated", "default", f"id-{number}", {"n": number})
            time.sleep(0.05)  # the first is taken by the delivery thread, the next two queue
        overflowed = sender.describe()["counts"]["overflowed"]
        assert overflowed == 3
        states = [d["state"] for d in sender.describe()["deliveries"]]
        assert states.count("overflowed") == 3
        gate.set()
        received = receiver.wait_for(3)
        assert [body["n"] for _, body in received] == [0, 1, 2]
        assert events.names[("certificate", "updated")] == "certificateUpdated"
    finally:
        gate.set()
        sender.configure([], None)
        receiver.server.shutdown()
