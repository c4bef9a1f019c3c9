"""Every request Schemathesis sends over HTTP, sent as the suite sends its own: each try through
`transport.before_request` (budget, rate limit, ledger), and retried by the suite's policy
(`transport.send_with_retries`: 429 and 503 after `Retry-After`, and what else it documents).

Schemathesis sends a case in two ways, both through the schema's `transport` (Schemathesis 4):
- `case.call`: the suite's Schemathesis tests and the state machine's steps;
- its checks' own requests: `ignored_auth` sends the case again without and with a wrong token,
  the object-authorization checks as another user, the content-type check a control request
  (`schema.transport.send(probe, **transport_kwargs)`, with the session and auth left out of
  those keyword arguments, so a session's adapter or retry would not reach them).
The suite's schemas over HTTP (`st_checks.load_schema`) answer `PoliteTransport` there, which
wraps Schemathesis' requests transport; in-process the app is called (`transport.gated_asgi`),
and no gateway answers 429.

A create (`POST .../create`) whose answer was lost (502, 504, a dropped connection, a read that
timed out) is never sent again here: `transport.AnswerLost` reaches `st_reconcile.call_reconciled`
for a case of the suite, which looks for the entity first; a check's probe of a create ends its
test with that error instead (the probe sends no credentials, or a wrong token: a server that
keeps the contract made nothing).
"""

from __future__ import annotations

from typing import Any

import requests
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from .target import is_resendable
from .transport import RetryPolicy, before_request, send_with_retries

NOT_SENT_ERRORS: tuple[type[Exception], ...] = (requests.ConnectTimeout,)
ANSWER_LOST_ERRORS: tuple[type[Exception], ...] = (requests.ConnectionError, requests.Timeout)


def schemathesis_status(response: Any) -> int:
    return int(response.status_code)


def schemathesis_header(response: Any, name: str) -> str | None:
    """A header of Schemathesis' `Response` (lower-cased names, lists of values)."""
    return next(iter(response.headers.get(name.lower(), [])), None)


class PoliteTransport:
    """Schemathesis' requests transport, each send through the suite's retry policy."""

    def __init__(self, policy: RetryPolicy, inner: Any = REQUESTS_TRANSPORT) -> None:
        self.policy = policy
        self.inner = inner

    def send(self, case: Any, **kwargs: Any) -> Any:
        operation = case.operation

        def once() -> Any:
            before_request(operation.label)
            sent = dict(kwargs)
            if isinstance(sent.get("headers"), dict):
                sent["headers"] = dict(sent["headers"])  # the inner send adds the session's headers to it
            return self.inner.send(case, **sent)

        return send_with_retries(
            once,
            schemathesis_status,
            schemathesis_header,
            resendable=is_resendable(operation.method, operation.path),
            describe=operation.label,
            policy=self.policy,
            not_sent_errors=NOT_SENT_ERRORS,
            answer_lost_errors=ANSWER_LOST_ERRORS,
        )

    def __getattr__(self, name: str) -> Any:
        # serializers and the rest: Schemathesis' own transport's
        return getattr(self.inner, name)


def with_polite_transport(schema: Any, policy: RetryPolicy) -> Any:
    """`schema`, its `transport` (which `case.call` and the checks' probes ask for) a
    `PoliteTransport`. `BaseSchema.transport` is a read-only property, so the schema becomes an
    instance of a subclass that answers this one; a copy of it Schemathesis makes keeps it."""
    polite = PoliteTransport(policy)
    base = type(schema)
    schema.__class__ = type(f"Polite{base.__name__}", (base,), {"transport": property(lambda self: polite), "__module__": __name__})
    return schema
