"""Which server the suite talks to, and what it may do there.

Without a URL the target is the mock, in-process, with a fixed `today`. With a URL it is any
server claiming to implement the spec; writes there are allowed only on loopback or with
`--allow-writes`, and `--read-only` forbids them everywhere.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import httpx

from .budget import BUDGET
from .transport import RetryPolicy, gate_httpx_request, httpx_header, httpx_status, send_with_retries

DEFAULT_TOKEN = "mock-token"
# The fixed reference ids of docs/ARCHITECTURE.md (the mock's default seed).
DEFAULT_TENANT_ID = "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01"  # project Acme Construction Ltd
DEFAULT_SUBTENANT_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"  # office Rome North Site (Acme)
DEFAULT_SECOND_SUBTENANT_ID = "7b68b1d4-2d23-43ec-ae40-a4768c95b2fe"  # office Milan Head Office (Acme)
DEFAULT_FOREIGN_SUBTENANT_ID = "89d05fcb-b77e-4eb0-a3ee-eabe00e00fa3"  # office Turin Plant (Borealis)
DEFAULT_FOREIGN_TENANT_ID = "808e3f3f-800c-40dd-8dcc-edbc196081ba"  # project Borealis, whose office that is
DEFAULT_RESOURCE_IDS = (
    "953e1ebf-06ce-42ab-88f7-0dd04b8f1ab3",
    "6a418122-a0e9-4283-98b6-8da435a1bd7b",
    "ef050100-4b5e-4190-9646-5650e38b49b2",
    "69d4e935-c38b-4b9d-a5ed-0814b84e5174",
    "63d715ca-7fb6-4418-87e7-38a9e75a2ce7",
)
DEFAULT_RESOURCE_TYPE = "PERSON"
# In-process the mock's clock is pinned, so runs are reproducible. The last day of a month makes
# MONTH and YEAR validities meet the end-of-month clamp.
IN_PROCESS_TODAY = dt.date(2026, 1, 31)
MOCK_CLOCK_PATH = "/__mock/clock"
# Days kept between a date and each boundary it is compared with, when the server's today is not
# exactly known (a remote server may be a time zone away).
REMOTE_DATE_MARGIN = 2


class AuthMode(Enum):
    HEADER = "header"  # Authorization: Bearer <token>
    QUERY = "query"  # ?access-token=<token>
    NONE = "none"


@dataclass(frozen=True)
class ResourceRef:
    """A resource (person, equipment...) of the directory that runs may subscribe and certify."""

    resource_id: str
    resource_type: str = DEFAULT_RESOURCE_TYPE

    @classmethod
    def parse(cls, text: str) -> ResourceRef:
        resource_id, _, resource_type = text.strip().partition(":")
        return cls(resource_id.strip().lower(), resource_type.strip().upper() or DEFAULT_RESOURCE_TYPE)


@dataclass(frozen=True)
class TargetOptions:
    url: str | None = None
    token: str = DEFAULT_TOKEN
    auth_mode: AuthMode = AuthMode.HEADER
    tenant_id: str = DEFAULT_TENANT_ID
    # offices of that project; the first is the main one, more let trees differ in office
    subtenant_ids: tuple[str, ...] = (DEFAULT_SUBTENANT_ID, DEFAULT_SECOND_SUBTENANT_ID)
    foreign_subtenant_id: str | None = DEFAULT_FOREIGN_SUBTENANT_ID
    foreign_tenant_id: str | None = DEFAULT_FOREIGN_TENANT_ID  # the project of foreign_subtenant_id
    resources: tuple[ResourceRef, ...] = tuple(ResourceRef(r) for r in DEFAULT_RESOURCE_IDS)
    allow_writes: bool = False
    read_only: bool = False
    retry: RetryPolicy = RetryPolicy()

    @property
    def subtenant_id(self) -> str:
        return self.subtenant_ids[0]

    @property
    def in_process(self) -> bool:
        return not self.url

    @property
    def is_loopback(self) -> bool:
        return self.in_process or is_loopback_url(self.url or "")

    @property
    def writes_allowed(self) -> bool:
        if self.read_only:
            return False
        return self.is_loopback or self.allow_writes

    def refusal_reason(self) -> str | None:
        """Why writing tests do not run against this target, or None when they do."""
        if self.read_only:
            return "--read-only was given"
        if not self.writes_allowed:
            return f"{self.url} is not a loopback address and --allow-writes was not given"
        return None


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_list(name: str) -> list[str]:
    return [item for item in os.environ.get(name, "").split(",") if item.strip()]


@dataclass
class Target:
    client: httpx.Client
    base_url: str
    token: str
    auth_mode: AuthMode
    tenant_id: str
    subtenant_id: str  # the main office: entities that need no other office are created there
    foreign_subtenant_id: str | None
    resources: tuple[ResourceRef, ...]
    is_loopback: bool
    in_process: bool
    writes_allowed: bool
    can_set_clock: bool = False
    retry: RetryPolicy = RetryPolicy()
    shared_by_workers: bool = False  # other pytest-xdist workers of this run use the same server
    can_read_clock: bool = False  # a mock's clock control answers GET (its date, not to be set)
    other_subtenant_ids: tuple[str, ...] = ()  # more offices of the project, for trees to differ in
    foreign_tenant_id: str | None = None  # the project of foreign_subtenant_id
    _restore_clock: Mapping[str, Any] | None = field(default=None, repr=False)
    _closers: list[Any] = field(default_factory=list, repr=False)
    _schemathesis_session: Any = field(default=None, repr=False)

    @property
    def subtenant_ids(self) -> tuple[str, ...]:
        return (self.subtenant_id, *self.other_subtenant_ids)

    @property
    def exclusive(self) -> bool:
        """Nobody else changes this server meanwhile: its whole state may be read and put back."""
        return self.in_process or (self.is_loopback and not self.shared_by_workers)

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        auth: AuthMode | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request with the target's auth (or the given one: tests of 401 choose theirs)."""
        mode = auth or self.auth_mode
        sent_token = self.token if token is None else token
        all_headers = dict(headers or {})
        all_params = dict(params or {})
        if mode is AuthMode.HEADER:
            all_headers["Authorization"] = f"Bearer {sent_token}"
        elif mode is AuthMode.QUERY:
            all_params["access-token"] = sent_token
        if content is not None:
            all_headers.setdefault("Content-Type", "application/json")

        def send() -> httpx.Response:
            if content is not None:
                return self.client.request(method, path, content=content, params=all_params, headers=all_headers)
            return self.client.request(method, path, json=json, params=all_params, headers=all_headers)

        return send_with_retries(
            send, httpx_status, httpx_header, resendable=is_resendable(method, path), describe=f"{method} {path}", policy=self.retry
        )

    def schemathesis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of Schemathesis' `case.call` (and `transport_kwargs` of its checks, which
        send requests of their own): over HTTP, one kept-alive session of this target, since every
        new connection costs a round trip more over a network (in-process: none, the app is called).
        Retries, the budget and the rate limit are the schema's transport's (`st_transport.py`),
        which the checks' probes use too, though without this session."""
        if self.in_process:
            return {}
        if self._schemathesis_session is None:
            # Schemathesis' own session class: redirects kept to the host, cookies dropped between cases
            from schemathesis.transport.requests import ManagedCookiesSession

            session = ManagedCookiesSession()
            session.trust_env = not self.is_loopback  # loopback never goes through a proxy from the environment
            self._schemathesis_session = session
            self._closers.append(session.close)
        return {"session": self._schemathesis_session}

    # ------------------------------------------------------------ clock

    @property
    def knows_today_exactly(self) -> bool:
        """The server's date is readable, so dates may sit right on today's boundaries."""
        return self.can_set_clock

    @property
    def date_margin(self) -> int:
        return 0 if self.knows_today_exactly else REMOTE_DATE_MARGIN

    def today(self) -> dt.date:
        if self.can_read_clock and not self.can_set_clock:
            return clock_today(self.client.get(MOCK_CLOCK_PATH).json())
        if not self.can_set_clock:
            # A remote server's date may differ from ours by a time zone: scenarios keep 2 days away.
            return dt.date.today()
        return clock_today(self.client.get(MOCK_CLOCK_PATH).json())

    def set_today(self, day: dt.date | None) -> None:
        if not self.can_set_clock:
            raise RuntimeError("this target has no settable clock")
        response = self.client.put(MOCK_CLOCK_PATH, json={"today": day.isoformat() if day else None})
        response.raise_for_status()

    def close(self) -> None:
        if self._restore_clock is not None:
            # a clock that followed the real date goes back to following it (past the request budget too)
            fixed = self._restore_clock.get("fixed", True)
            with BUDGET.cleaning():
                self.client.put(MOCK_CLOCK_PATH, json={"today": self._restore_clock.get("today") if fixed else None})
        for closer in reversed(self._closers):
            closer()


def is_resendable(method: str, path: str) -> bool:
    """Whether sending the request twice does no harm: everything but a create."""
    return not (method.upper() == "POST" and path.rstrip("/").endswith("/create"))


def clock_today(body: Mapping[str, Any]) -> dt.date:
    """The effective date of a `/__mock/clock` answer (a pinned `today`, else the real one)."""
    for key in ("today", "effective", "date"):
        value = body.get(key)
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
    return dt.date.today()


def probe_clock(client: httpx.Client) -> Mapping[str, Any] | None:
    """The mock's clock control, if the target has one (a GET: harmless anywhere)."""
    try:
        response = client.get(MOCK_CLOCK_PATH)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "today" in body else None


def _target_fields(options: TargetOptions) -> dict[str, Any]:
    return dict(
        token=options.token,
        auth_mode=options.auth_mode,
        tenant_id=options.tenant_id,
        subtenant_id=options.subtenant_id,
        other_subtenant_ids=options.subtenant_ids[1:],
        foreign_subtenant_id=options.foreign_subtenant_id,
        foreign_tenant_id=options.foreign_tenant_id,
        resources=options.resources,
        is_loopback=options.is_loopback,
        in_process=options.in_process,
        writes_allowed=options.writes_allowed,
        retry=options.retry,
    )


def open_in_process_target(options: TargetOptions) -> Target:
    """A fresh mock app in this process, its clock pinned to IN_PROCESS_TODAY."""
    from mock_server.app import create_app
    from mock_server.config import MockConfig

    app = create_app(MockConfig(tokens=(options.token,), today=IN_PROCESS_TODAY))
    client = app.test_client(raise_server_exceptions=False)
    client.event_hooks = {"request": [gate_httpx_request]}  # Starlette's TestClient takes no event_hooks argument
    client.__enter__()
    target = Target(client=client, base_url=str(client.base_url), **_target_fields(options))
    target._closers.append(lambda: client.__exit__(None, None, None))
    target.can_set_clock = probe_clock(client) is not None
    return target


def xdist_worker_count() -> int:
    """How many pytest-xdist workers run this session (1 without xdist)."""
    try:
        return max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    except ValueError:
        return 1


def open_http_target(options: TargetOptions) -> Target:
    assert options.url
    base_url = options.url.rstrip("/")
    # loopback never goes through a proxy from the environment
    client = httpx.Client(
        base_url=base_url, timeout=options.retry.timeout, trust_env=not options.is_loopback, event_hooks={"request": [gate_httpx_request]}
    )
    target = Target(client=client, base_url=base_url, **_target_fields(options))
    target.shared_by_workers = xdist_worker_count() > 1
    target._closers.append(client.close)
    # Workers sharing one mock cannot each move its clock: they run as against a remote server
    # (dates kept REMOTE_DATE_MARGIN days from every boundary).
    clock = probe_clock(client) if options.is_loopback else None
    target.can_read_clock = clock is not None
    if target.shared_by_workers:
        clock = None
    if clock is not None and options.writes_allowed:
        target.can_set_clock = True
        # Pin the date for the run so that midnight cannot fall inside it; restored on close.
        target._restore_clock = clock
        target.set_today(clock_today(clock))
    return target


def open_target(options: TargetOptions) -> Target:
    return open_in_process_target(options) if options.in_process else open_http_target(options)
