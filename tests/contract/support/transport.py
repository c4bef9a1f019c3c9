"""Bounded retries for a server in production conditions, and the run's request ledger.

A server behind a gateway answers some requests with `429 Too Many Requests` (with `Retry-After`),
`502/503/504`, or drops a connection. None of that is a broken rule of the contract: the request is
sent again, after `Retry-After` when the server gives one, else after an exponential backoff, and
the retry is noted as a warning (the "retries" section at the end of the run). A request that
still fails after `RetryPolicy.attempts` tries, or a run that has waited `RetryPolicy.budget`
seconds in all, stops with `TargetUnavailable` ("target unavailable": the session stops, instead
of hundreds of failures).

What may be sent again:
- `429` and `503` say the request was not processed (a gateway or an overloaded server refused
  it), and a connection that could not be opened sent nothing: every request is sent again;
- `502`, `504`, a connection dropped or a read that timed out may come after the server processed
  the request: reads (GET, index), updates (a PUT of the same body) and deletes are sent again; a
  create is not (it would create twice) and raises `AnswerLost`, which the client reconciles by
  searching for its run marker (`client.ApiClient.create`; for Schemathesis cases,
  `st_reconcile.call_reconciled`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from .budget import BUDGET
from .rate_limit import RATE_LIMIT

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
UNPROCESSED_STATUSES = frozenset({429, 503})
# Errors raised before the request left: nothing reached the server.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after the request may have reached it: the answer is lost, not the request.
ANSWER_LOST_ERRORS: tuple[type[Exception], ...] = (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError, httpx.WriteTimeout)

Answer = TypeVar("Answer")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries of one request, the first included
    backoff: float = 0.5  # seconds before the second try without Retry-After; doubled each time
    max_wait: float = 30.0  # the longest single wait (a longer Retry-After counts as unavailable)
    budget: float = 600.0  # seconds of waiting the whole run may spend before the target is unavailable
    timeout: float = 30.0  # seconds for connecting and for each read


class TargetUnavailable(RuntimeError):
    """The retry budget ran out: the target does not answer well enough to judge it."""


class AnswerLost(RuntimeError):
    """A create reached the server, maybe, but its answer did not come back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds: an integer of seconds or an HTTP date (RFC 9110); None when absent
    or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


@dataclass
class RequestLedger:
    """Requests sent, per test module, and the retries of the run (warnings, not broken rules)."""

    requests: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    retries: Counter[str] = field(default_factory=Counter)  # reason -> count
    reconciled: list[str] = field(default_factory=list)
    waited: float = 0.0
    current_module: str = "(outside tests)"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests[self.current_module] += 1

    def note_retry(self, reason: str, wait: float) -> None:
        with self._lock:
            self.retries[reason] += 1
            self.waited += wait

    def note_reconciled(self, text: str) -> None:
        with self._lock:
            self.reconciled.append(text)


LEDGER = RequestLedger()


# ---------------------------------------------------------------- where requests leave
# Counted on the wire, not where the suite asks: every try of a retried request, and the requests
# Schemathesis' checks send of their own (ignored_auth, use_after_free...), are requests too. Each
# takes a unit of the run's request budget and waits for a slot of its rate limit first.


def before_request(describe: str) -> None:
    """What every request the suite causes goes through just before it leaves: the budget
    (`BudgetSpent` once spent), the rate limit (a wait), the ledger."""
    BUDGET.take(describe)
    RATE_LIMIT.acquire()
    LEDGER.count_request()


def gate_httpx_request(request: httpx.Request) -> None:
    """An httpx `request` event hook."""
    before_request(f"{request.method} {request.url.path}")


def gated_asgi(app: Callable) -> Callable:
    """The ASGI app, each HTTP request it receives gone through `before_request` (Schemathesis'
    calls in-process)."""

    async def gated(scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") == "http":
            before_request(f"{scope.get('method', '')} {scope.get('path', '')}")
        await app(scope, receive, send)

    return gated


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    # full jitter keeps workers that failed together from coming back together
    return min(policy.max_wait, policy.backoff * (2**attempt)) * (0.5 + random.random() / 2)


def _wait(policy: RetryPolicy, reason: str, seconds: float, describe: str, sleep: Callable[[float], None]) -> None:
    if seconds > policy.max_wait:
        raise TargetUnavailable(f"target unavailable: {describe} answered {reason} asking to wait {seconds:.0f} s (more than --retry-max-wait {policy.max_wait:.0f} s)")
    if LEDGER.waited + seconds > policy.budget:
        raise TargetUnavailable(
            f"target unavailable: the run has waited {LEDGER.waited:.0f} s for retries, the budget is {policy.budget:.0f} s "
            f"(--retry-budget); last: {describe} answered {reason}"
        )
    LEDGER.note_retry(reason, seconds)
    sleep(seconds)


def send_with_retries(
    send: Callable[[], Answer],
    status_of: Callable[[Answer], int],
    header_of: Callable[[Answer, str], str | None],
    *,
    resendable: bool,
    describe: str,
    policy: RetryPolicy,
    not_sent_errors: tuple[type[Exception], ...] = NOT_SENT_ERRORS,
    answer_lost_errors: tuple[type[Exception], ...] = ANSWER_LOST_ERRORS,
    sleep: Callable[[float], None] = time.sleep,
) -> Answer:
    """`send()` until it answers something other than a retried status, within the policy.

    `resendable`: whether sending twice does no harm (reads, updates, deletes). When it does not
    (creates), a lost answer raises `AnswerLost` for the caller to reconcile."""
    last = ""
    for attempt in range(policy.attempts):
        try:
            answer = send()
        except not_sent_errors as error:
            last = type(error).__name__
            if attempt + 1 < policy.attempts:
                _wait(policy, last, _backoff(policy, attempt), describe, sleep)
            continue
        except answer_lost_errors as error:
            last = type(error).__name__
            if not resendable:
                raise AnswerLost(f"{describe}: {last}") from error
            if attempt + 1 < policy.attempts:
                _wait(policy, last, _backoff(policy, attempt), describe, sleep)
            continue
        status = status_of(answer)
        if status not in RETRIED_STATUSES:
            return answer
        last = str(status)
        if status not in UNPROCESSED_STATUSES and not resendable:
            raise AnswerLost(f"{describe}: {status}")
        if attempt + 1 < policy.attempts:
            after = retry_after_seconds(header_of(answer, "Retry-After"))
            _wait(policy, last, _backoff(policy, attempt) if after is None else after, describe, sleep)
    raise TargetUnavailable(f"target unavailable: {describe} failed {policy.attempts} times (last: {last}); --retries sets the number of tries")


def httpx_status(response: httpx.Response) -> int:
    return response.status_code


def httpx_header(response: httpx.Response, name: str) -> str | None:
    return response.headers.get(name)


def call_case(case: object, policy: RetryPolicy, **kwargs: object) -> object:
    """`case.call()` of Schemathesis with the same retries as the suite's own requests. Over HTTP
    the schema's transport has retried each try already (`st_transport.PoliteTransport`, which the
    checks' probes use too), so only its final answers and errors reach this loop."""
    import requests

    operation = case.operation  # type: ignore[attr-defined]
    resendable = not (operation.method.upper() == "POST" and operation.path.rstrip("/").endswith("/create"))
    return send_with_retries(
        lambda: case.call(**kwargs),  # type: ignore[attr-defined]
        lambda response: response.status_code,
        lambda response, name: next(iter(response.headers.get(name.lower(), [])), None),
        resendable=resendable,
        describe=operation.label,
        policy=policy,
        not_sent_errors=(requests.ConnectTimeout,),
        answer_lost_errors=(requests.ConnectionError, requests.Timeout),
    )
