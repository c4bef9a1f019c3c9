"""Every request Schemathesis sends for the suite over HTTP honours 429 and 503 with
`Retry-After`: the cases the suite sends (`case.call`), the probes of its checks (`ignored_auth`
sends the case again without a token and with a wrong one), and the requests other checks send
through the schema's transport themselves (the content-type check's control request, auth
inference).

Each test puts a gateway (tests/suite/gateway.py) in front of a real mock that refuses chosen
requests once, and judges what reached the gateway: the refused request came again, no sooner
than its `Retry-After`, and the check saw the mock's answer, not the gateway's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from schemathesis.specs.openapi.checks import ignored_auth

from .gateway import Decide, Gateway, gateway, resend_gaps
from .suite_runs import start_mock
from contract.support import transport
from contract.support.st_checks import CreatedEntities, load_schema, suite_config
from contract.support.st_reconcile import call_reconciled
from contract.support.target import DEFAULT_TOKEN, Target, TargetOptions, open_http_target

pytestmark = pytest.mark.suite_self_test  # on a mock of its own: no verdict on the target

RETRY_AFTER_S = 1
INDEX = ("post", "/v2/action/index")


def once_each(*rules: tuple[str, int]) -> Decide:
    """Refuse, once each, the first `/v2` request whose token is absent ("none") or wrong
    ("wrong") or valid ("valid"), with the given status and `Retry-After`."""
    pending = dict(rules)

    def decide(method: str, path: str, query: str, headers: dict[str, str]) -> tuple[int, int] | None:
        if not path.startswith("/v2/"):
            return None
        tokens = parse_qs(query).get("access-token")
        kind = "none" if not tokens else ("valid" if tokens == [DEFAULT_TOKEN] else "wrong")
        status = pending.pop(kind, None)
        return None if status is None else (status, RETRY_AFTER_S)

    return decide


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    with start_mock() as started:
        yield started


def _target(url: str) -> Target:
    return open_http_target(TargetOptions(url=url))


def _index_case(target: Target) -> Any:
    schema = load_schema(target, suite_config(target), operation=INDEX)
    # the token as the configured auth puts it in the cases Schemathesis generates
    return schema[INDEX[1]][INDEX[0].upper()].Case(body={"per-page": 1}, query={"access-token": target.token})


def _assert_resent_after_retry_after(gw: Gateway, refusals: int) -> None:
    gaps = resend_gaps(gw)
    assert len(gaps) == refusals, [p.path for p, _ in gaps]
    for refused, gap in gaps:
        assert gap is not None, f"{refused.method} {refused.path} answered {refused.refused} was never sent again"
        assert gap >= RETRY_AFTER_S, f"{refused.method} {refused.path} sent again after {gap:.2f} s, before its Retry-After ({RETRY_AFTER_S} s)"


def test_the_probes_of_ignored_auth_answered_429_and_503_are_sent_again_after_retry_after(mock: Any, ledger: transport.RequestLedger) -> None:
    """Schemathesis' `ignored_auth` sends the case without its token, then with a wrong one
    (`send_probe`, which keeps neither the session nor the auth of the case's call)."""
    with gateway(mock.url, once_each(("none", 429), ("wrong", 503))) as gw:
        target = _target(gw.url)
        try:
            case = _index_case(target)
            kwargs = target.schemathesis_kwargs()
            response = case.call(**kwargs)
            assert response.status_code == 200, response.text
            case.validate_response(response, checks=[ignored_auth], transport_kwargs=kwargs)  # the mock's 401s, not the gateway's
        finally:
            target.close()
    _assert_resent_after_retry_after(gw, 2)
    assert ledger.retries == {"429": 1, "503": 1}


def test_a_request_a_check_sends_through_the_schemas_transport_answered_503_is_sent_again(mock: Any, ledger: transport.RequestLedger) -> None:
    """The content-type check's control request and auth inference call the schema's transport
    themselves (`schema.transport.send(case, **transport_kwargs)`), with no session."""
    with gateway(mock.url, once_each(("valid", 503))) as gw:
        target = _target(gw.url)
        try:
            case = _index_case(target)
            response = case.operation.schema.transport.send(case)
            assert response.status_code == 200, response.text
        finally:
            target.close()
    _assert_resent_after_retry_after(gw, 1)
    assert ledger.retries == {"503": 1}


def test_a_create_answered_429_is_sent_again_not_reconciled(mock: Any, ledger: transport.RequestLedger) -> None:
    """A 429 says the create was not processed: sent again after `Retry-After`, not looked for."""
    with gateway(mock.url, once_each(("valid", 429))) as gw:
        target = _target(gw.url)
        created = CreatedEntities()
        try:
            schema = load_schema(target, suite_config(target), operation=("post", "/v2/action/create"))
            body = {"tenant_id": target.tenant_id, "subtenant_id": target.subtenant_id, "name": "polite", "action_type": "TRAINING"}
            case = schema["/v2/action/create"]["POST"].Case(body=body, query={"access-token": target.token})
            response = call_reconciled(case, target, created, **target.schemathesis_kwargs())
            assert response.status_code == 201, response.text
            created.record(response, case)
        finally:
            stayed = created.cleanup(target)
            target.close()
    assert stayed == []
    _assert_resent_after_retry_after(gw, 1)
    assert ledger.retries == {"429": 1} and ledger.reconciled == []
    creates = [p for p in gw.passages if p.path == "/v2/action/create"]
    assert [p.refused for p in creates] == [429, None]
