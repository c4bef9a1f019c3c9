"""The run's request count is what the server received: every try of a request, and the requests
Schemathesis' checks send of their own (e.g. `ignored_auth` sends the case again without the
token), over HTTP (one kept-alive session) and in-process alike. The oracle is the mock's own
request log, not the suite's ledger."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from hypothesis.errors import NonInteractiveExampleWarning

from mock_server.testing import running_mock

from contract.support import transport
from contract.support.plugin import options_from_config
from contract.support.st_checks import load_schema, suite_config
from contract.support.target import Target, TargetOptions, open_target
from contract.support.transport import call_case

VIEW = ("get", "/v2/action/view/{id}")
pytestmark = pytest.mark.suite_self_test  # on mocks of its own: no verdict on the target


@pytest.fixture(params=["over HTTP", "in-process"])
def fresh_target(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[Target]:
    options: TargetOptions = options_from_config(pytestconfig)
    if request.param == "in-process":
        opened = open_target(TargetOptions(**{**options.__dict__, "url": None}))
        try:
            yield opened
        finally:
            opened.close()
        return
    with running_mock(today="2026-06-15") as mock:
        opened = open_target(TargetOptions(**{**options.__dict__, "url": mock.url, "token": mock.token}))
        try:
            yield opened
        finally:
            opened.close()


def received_api_requests(target: Target) -> int:
    answer = target.client.get("/__mock/requests", params={"path": "/v2/", "limit": 500})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    entries = body.get("requests", body) if isinstance(body, dict) else body
    return len(entries)


def test_ledger_counts_what_the_server_received(fresh_target: Target, ledger: transport.RequestLedger) -> None:
    target = fresh_target
    schema = load_schema(target, suite_config(target), operation=VIEW)
    operation = schema[VIEW[1]][VIEW[0].upper()]
    before = received_api_requests(target)
    ledger.current_module = "here"  # the log's own reads are not counted here
    some_action = target.request("POST", "/v2/action/index", json={"per-page": 1}).json()[0]["action_id"]
    # a view that answers 200: `ignored_auth` then sends it again without and with a wrong token
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)  # one example, outside @given
        case = operation.as_strategy(path_parameters={"id": some_action}).example()
    kwargs = target.schemathesis_kwargs()
    for _ in range(3):
        target.request("POST", "/v2/action/index", json={"per-page": 1})
        response = call_case(case, target.retry, **kwargs)
        # the checks may find nothing wrong or something: what counts here is what they send
        try:
            case.validate_response(response, transport_kwargs=kwargs or None)
        except Exception:  # noqa: BLE001
            pass
    ledger.current_module = "log"
    received = received_api_requests(target) - before
    assert received > 7, f"the checks sent nothing of their own ({received} requests): this test proves nothing"
    assert ledger.requests["here"] == received, f"the ledger counted {ledger.requests['here']} requests, the mock received {received}"
