"""The webhooks the spec describes under `x-webhooks`, POSTed to the configured receivers.

The domain tells each committed create/update/delete (`Domain.listeners`); the events the spec
declares (operationId `webhook_<segment with _>_<created|updated|deleted>`) are built here:
- created: the entity as the API answered it;
- updated: `{"entity_id", "updated_fields": {field: {"old", "new"}}}`, exactly the fields of the
  answer that changed (an update that changes nothing sends no event);
- deleted: the entity as it was.

Each receiver URL has its own bounded queue and delivery thread, so the API call only enqueues:
a slow or dead receiver never slows it. Deliveries to one receiver go one at a time in commit
order (so in order per certificate), each retried with exponential backoff. What does not fit in
a full queue is logged, counted and shown in the delivery log as `overflowed`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .domain.service import Change, Listener
from .network import schema_error
from .state_format import StateError, excerpt, path_text

logger = logging.getLogger("mock_server.webhooks")

SIGNATURE_HEADER = "X-Mock-Signature"  # sha256=<hex HMAC-SHA256 of the body with the secret>
EVENT_HEADER = "X-Mock-Event"  # the x-webhooks name, e.g. certificateUpdated
DELIVERY_HEADER = "X-Mock-Delivery"  # the delivery's id in the log
WORKSPACE_HEADER = "X-Mock-Workspace"
QUEUE_SIZE = 1000  # per receiver
LOG_SIZE = 500  # deliveries kept in the log, the newest
ATTEMPTS = 4  # the first and three retries
BACKOFF_S = 0.25  # before retry n (1, 2, 3): BACKOFF_S * 2**(n-1): 0.25, 0.5, 1 s
TIMEOUT_S = 5.0  # per attempt
MAX_RECEIVERS = 10
OVERFLOW_LOG_EVERY = 100  # server log lines: the first overflow of a receiver, then every 100th

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["urls"],
    "properties": {
        "urls": {"type": "array", "maxItems": MAX_RECEIVERS, "items": {"type": "string", "maxLength": 2000}},
        "secret": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 1, "maxLength": 500}]},
    },
}


def check_url(url: str) -> str | None:
    """Why `url` cannot receive webhooks, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"is not an http(s) URL: {excerpt(url, 100)}"
    return None


def parse_config(document: Any) -> tuple[list[str], str | None]:
    """`{"urls": [...], "secret": str|null}` (StateError naming the field)."""
    error = schema_error(CONFIG_SCHEMA, document)
    if error is not None:
        raise error
    for index, url in enumerate(document["urls"]):
        problem = check_url(url)
        if problem:
            raise StateError(path_text(["urls", index]), problem)
    return list(dict.fromkeys(document["urls"])), document.get("secret")


# --- the events of the spec -------------------------------------------------------------------

class SpecEvents:
    """Which changes the spec's `x-webhooks` declares an event for, and their payloads."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.names: dict[tuple[str, str], str] = {}  # (operationId segment part, kind) -> event name
        for name, item in (spec.get("x-webhooks") or {}).items():
            operation_id = (item.get("post") or {}).get("operationId", "")
            prefix, _, kind = operation_id.rpartition("_")
            if prefix.startswith("webhook_") and kind in ("created", "updated", "deleted"):
                self.names[(prefix.removeprefix("webhook_"), kind)] = name

    def event(self, change: Change) -> tuple[str, dict[str, Any]] | None:
        """The event name and payload of `change`, or None when the spec declares none."""
        name = self.names.get((change.segment.replace("-", "_"), change.kind))
        if name is None:
            return None
        if change.kind == "updated":
            before, after = change.before or {}, change.after or {}
            changed = {key: {"old": before.get(key), "new": after.get(key)}
                       for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)}
            if not changed:
                return None
            return name, {"entity_id": change.entity_id, "updated_fields": changed}
        return name, dict(change.after if change.kind == "created" else change.before or {})


# --- deliveries ---------------------------------------------------------------------------------

def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Delivery:
    id: int
    event: str
    workspace: str
    entity_id: str
    url: str
    body: bytes
    state: str = "queued"  # queued, delivering, delivered, failed, overflowed, cancelled
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "workspace": self.workspace, "entity_id": self.entity_id,
                "url": self.url, "state": self.state, "attempts": list(self.attempts)}


class _Receiver:
    """One URL: its queue and its delivery thread."""

    def __init__(self, sender: WebhookSender, url: str) -> None:
        self.sender = sender
        self.url = url
        self.queue: queue.Queue[Delivery] = queue.Queue(maxsize=sender.queue_size)
        self.stopped = threading.Event()
        self.overflowed = 0
        self.thread = threading.Thread(target=self._run, name=f"webhooks {url}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                delivery = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.sender.deliver(delivery, self.stopped)
        while True:  # what was still queued when the URL was removed
            try:
                self.sender.finish(self.queue.get_nowait(), "cancelled")
            except queue.Empty:
                return


class WebhookSender:
    def __init__(self, urls: list[str] | None = None, secret: str | None = None, *, queue_size: int = QUEUE_SIZE,
                 log_size: int = LOG_SIZE, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.queue_size, self.attempts, self.backoff_s, self.timeout_s = queue_size, attempts, backoff_s, timeout_s
        self.secret = secret
        self.log: deque[Delivery] = deque(maxlen=log_size)
        self.counts = dict.fromkeys(("queued", "delivered", "failed", "overflowed", "cancelled"), 0)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._receivers: dict[str, _Receiver] = {}
        # Direct connections only: a receiver on loopback must not go through a proxy of the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.configure(urls or [], secret)

    def configure(self, urls: list[str], secret: str | None) -> None:
        """The receivers from now on; a removed one stops, what it had queued is `cancelled`."""
        with self._lock:
            self.secret = secret
            for url in list(self._receivers):
                if url not in urls:
                    self._receivers.pop(url).stopped.set()
            for url in urls:
                if url not in self._receivers:
                    self._receivers[url] = _Receiver(self, url)

    @property
    def urls(self) -> list[str]:
        return list(self._receivers)

    def listener(self, events: SpecEvents) -> Listener:
        """For `Domain.listeners`: queue the spec's event of each change."""
        def on_change(change: Change) -> None:
            event = events.event(change)
            if event is not None:
                self.submit(event[0], change.workspace, change.entity_id, event[1])

        return on_change

    def submit(self, event: str, workspace: str, entity_id: str, payload: dict[str, Any]) -> None:
        """Queue the event for every receiver; never blocks."""
        with self._lock:
            receivers = list(self._receivers.values())
        if not receivers:
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        for receiver in receivers:
            delivery = Delivery(next(self._ids), event, workspace, entity_id, receiver.url, body)
            with self._lock:
                self.log.append(delivery)
            try:
                receiver.queue.put_nowait(delivery)
                self._count("queued")
            except queue.Full:
                self.finish(delivery, "overflowed")
                receiver.overflowed += 1
                if receiver.overflowed % OVERFLOW_LOG_EVERY == 1:  # the first, then one line per 100
                    logger.warning("webhook queue of %s full (%d): %s %d of %s %s not delivered (%d overflowed so far)",
                                   receiver.url, self.queue_size, event, delivery.id, workspace, entity_id,
                                   receiver.overflowed)

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def finish(self, delivery: Delivery, state: str) -> None:
        with self._lock:
            delivery.state = state
            self.counts[state] += 1

    def headers(self, delivery: Delivery) -> dict[str, str]:
        headers = {"Content-Type": "application/json", EVENT_HEADER: delivery.event,
                   DELIVERY_HEADER: str(delivery.id), WORKSPACE_HEADER: delivery.workspace}
        secret = self.secret
        if secret is not None:
            digest = hmac.new(secret.encode("utf-8"), delivery.body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        return headers

    def deliver(self, delivery: Delivery, stopped: threading.Event) -> None:
        """Try until a 2xx or `attempts` tries, waiting BACKOFF_S * 2**n between them."""
        with self._lock:
            delivery.state = "delivering"
        for attempt in range(self.attempts):
            if attempt and stopped.wait(self.backoff_s * 2 ** (attempt - 1)):
                self.finish(delivery, "cancelled")
                return
            status, error, started = None, None, time.perf_counter()
            request = urllib.request.Request(delivery.url, data=delivery.body, method="POST",
                                             headers=self.headers(delivery))
            try:
                with self._opener.open(request, timeout=self.timeout_s) as response:
                    status = response.status
            except urllib.error.HTTPError as failure:
                status = failure.code
            except (OSError, ValueError) as failure:  # refused, reset, timed out, bad URL
                error = excerpt(f"{type(failure).__name__}: {failure}", 200)
            record = {"at": _now(), "status": status, "error": error,
                      "ms": round((time.perf_counter() - started) * 1000, 1)}
            with self._lock:
                delivery.attempts.append(record)
            if status is not None and 200 <= status < 300:
                self.finish(delivery, "delivered")
                return
        self.finish(delivery, "failed")
        logger.warning("webhook %s %d to %s failed after %d attempts", delivery.event, delivery.id, delivery.url,
                       self.attempts)

    def describe(self, limit: int | None = None) -> dict[str, Any]:
        with self._lock:
            deliveries = [d.to_data() for d in self.log]
            return {"urls": list(self._receivers), "signed": self.secret is not None,
                    "signature_header": SIGNATURE_HEADER, "counts": dict(self.counts),
                    "pending": sum(r.queue.qsize() for r in self._receivers.values()),
                    "deliveries": deliveries if limit is None else deliveries[-limit:]}

    def summary(self) -> dict[str, Any]:
        """For /__mock/health."""
        with self._lock:
            return {"receivers": len(self._receivers), "counts": dict(self.counts)}
