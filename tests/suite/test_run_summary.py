"""The end of a run: the `contract rules` summary lists every failure, a wrong target or token is
one configuration error, and --keep-data leaves what the run made for its curl lines to repeat.

Small parts of the suite run in a pytest subprocess against the mock as a real server, behind a
faulty gateway or as a faulty variant (tests/mutation/mutants.py).
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from mock_server.spec import load_spec
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import UseAfterFree

from mock_server.testing import running_mock

from contract.support import rules
from contract.support.client import ApiClient
from contract.support.plugin import options_from_config
from contract.support.preflight import ConfigurationError
from contract.support.target import AuthMode, TargetOptions, open_target
from contract.support.findings import ANSWER_MATCHES_SPEC, Finding, findings
from .suite_runs import REPO_ROOT, child_environment, mock_entry, run_suite, start_mock

pytestmark = pytest.mark.suite_self_test  # on mocks of its own: no verdict on the target
SCHEMATHESIS_ACTION_VIEW = "tests/contract/test_schemathesis.py::test_operation_keeps_the_contract[GET /v2/action/view/{id}]"
ABSENT_CERTIFICATE_VIEW = "tests/contract/test_semantic_rules.py::test_an_absent_id_is_404_on_view[certificate]"


# the mock's own fault injection: every action view answers 500
ACTION_VIEWS_FAIL = [{"operationId": "action_view", "status": 500, "probability": 1.0}]


def _summary(output: str) -> str:
    """The `contract rules` section of a run's output."""
    parts = re.split(r"=+ contract rules =+\n", output, maxsplit=1)
    assert len(parts) == 2, f"no contract rules section:\n{output[-4000:]}"
    return re.split(r"\n=+ ", parts[1], maxsplit=1)[0]


# ---------------------------------------------------------------- every failure is in the summary


def test_schemathesis_server_errors_break_no_server_error_in_the_summary_under_workers() -> None:
    """A server whose action views answer 500: Schemathesis' own check (ST101) fails that
    operation's test. Under two pytest-xdist workers the summary shows the rule broken, never
    held (another test checked it and held), names the failed test, and ends red."""
    with start_mock() as mock:
        with mock.client() as control:
            assert control.put("/__mock/faults", json=ACTION_VIEWS_FAIL).status_code == 200
        run = run_suite(SCHEMATHESIS_ACTION_VIEW, ABSENT_CERTIFICATE_VIEW, "--target-url", mock.url, "-n", "2")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-4000:]
    summary = _summary(output)
    assert "ok    no_server_error" not in summary, summary
    assert re.search(r"^  BROKE no_server_error: ", summary, re.MULTILINE), summary
    failed = summary.split("failed tests (1):", 1)
    assert len(failed) == 2, summary
    assert f"FAIL  {SCHEMATHESIS_ACTION_VIEW}" in failed[1] and "broke no_server_error: ST101 Server error" in failed[1], summary
    assert ABSENT_CERTIFICATE_VIEW not in failed[1]  # it passed
    assert summary.rstrip().splitlines()[-1] == "the run is RED: 1 tests failed", summary


def _server_error() -> ServerError:
    return ServerError(operation="GET /v2/action/view/{id}", status_code=500)


def test_findings_map_schemathesis_failures_to_rules_and_name_the_rest() -> None:
    violation = rules.RuleViolation("counts_add_up", "countSubscribed 3, the parts add up to 4")
    group = FailureGroup([_server_error(), UseAfterFree(operation="DELETE /v2/action/delete/{id}", message="still there", free="", usage="")], "two")
    assert findings(BaseExceptionGroup("hypothesis", [group, violation, KeyError("action_id")])) == [
        Finding("no_server_error", "ST101 Server error"),
        Finding(None, "ST301 Deleted resource still available"),
        Finding("counts_add_up", "countSubscribed 3, the parts add up to 4"),
        Finding(None, "KeyError: 'action_id'"),
    ]



def test_a_rule_broken_down_an_errors_chain_still_counts() -> None:
    """A violation re-raised as another error (`raise ... from`, or while handling it) keeps its rule."""
    def wrapped(chain_by_cause: bool) -> BaseException:
        try:
            try:
                raise rules.RuleViolation("counts_add_up", "countSubscribed 3, the parts add up to 4")
            except rules.RuleViolation as violation:
                if chain_by_cause:
                    raise RuntimeError("while checking the tree") from violation
                raise RuntimeError("while checking the tree")
        except RuntimeError as error:
            return error
        raise AssertionError("not raised")

    for chain_by_cause in (True, False):
        assert Finding("counts_add_up", "countSubscribed 3, the parts add up to 4") in findings(wrapped(chain_by_cause))

def test_a_schema_violation_breaks_the_answer_rule() -> None:
    """An action view whose body lacks every required field, judged by Schemathesis' own checks."""
    operation = schemathesis.openapi.from_dict(load_spec(), config=schemathesis.Config()).find_operation_by_label("GET /v2/action/view/{id}")
    assert operation is not None
    request = requests.Request("GET", "http://testserver/v2/action/view/6f1c1e0e-7a8e-4d55-9a53-0c2b8f8e9a11").prepare()
    answer = schemathesis.Response(status_code=200, headers={"content-type": ["application/json"]}, content=b"{}", request=request, elapsed=0.0, verify=True)
    with pytest.raises(AssertionError) as raised:  # one failure, or a FailureGroup of several
        operation.validate_response(answer)
    assert [finding.rule for finding in findings(raised.value)] == [ANSWER_MATCHES_SPEC]


# ---------------------------------------------------------------- a target the suite cannot judge

TWO_RULE_TESTS = ("tests/contract/test_semantic_rules.py", "-k", "absent_id_is_404_on_view and (certificate] or action])")


def _assert_configuration_error(run: subprocess.CompletedProcess[str], message: str) -> None:
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    assert message in output, output[-4000:]
    assert "Rule broken" not in output and "BROKE" not in output and "ok    " not in output, output[-4000:]
    summary = _summary(output).strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith(f"the run is RED, the target was not judged: {message}"), summary  # no rule held or broke
    assert re.search(r"\b1 error\b", output) and "passed" not in output.splitlines()[-1], output[-2000:]  # stopped at the first test


def test_a_wrong_token_stops_the_run_with_one_configuration_error() -> None:
    with start_mock() as mock:
        run = run_suite(*TWO_RULE_TESTS, "--target-url", mock.url, "--token", "not-the-token")
    _assert_configuration_error(run, "configuration error: the target refuses the token of --token / CONTRACT_TOKEN")


def test_a_url_that_serves_no_api_stops_the_run_with_one_configuration_error() -> None:
    with start_mock() as mock:
        run = run_suite(*TWO_RULE_TESTS, "--target-url", f"{mock.url}/not-the-api", "--token", mock_token())
    _assert_configuration_error(run, f"configuration error: --target-url / CONTRACT_TARGET_URL {mock.url}/not-the-api does not serve the API")


def test_a_url_that_does_not_answer_stops_the_run_with_one_configuration_error() -> None:
    # bound but never listening for the whole run: connections are refused, and no other server
    # started meanwhile (`--port 0`) can be given the port
    with socket.socket() as unanswered:
        unanswered.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unanswered.getsockname()[1]}"
        run = run_suite(*TWO_RULE_TESTS, "--target-url", url, "--retries", "1")
    _assert_configuration_error(run, f"configuration error: --target-url / CONTRACT_TARGET_URL {url} does not answer")


def mock_token() -> str:
    from mock_server.config import DEFAULT_TOKEN

    return DEFAULT_TOKEN


def test_a_401_to_the_configured_token_is_a_configuration_error_and_wrong_tokens_stay_probes(pytestconfig: pytest.Config) -> None:
    """Mid-run (the preflight passed, then the server refuses the token): the suite's own
    requests with the configured token raise the configuration error; the auth rules' requests,
    which send no token or a wrong one on purpose, get their 401 to judge."""
    with running_mock(today="2026-06-15") as mock:
        options = options_from_config(pytestconfig)
        target = open_target(TargetOptions(**{**options.__dict__, "url": mock.url, "token": "revoked-token"}))
        try:
            api = ApiClient(target, "ct0123abcd")
            with pytest.raises(ConfigurationError, match=r"refuses the token of --token / CONTRACT_TOKEN: POST \S*/v2/action/index .* answered 401"):
                api.index("action", {})
            assert api.index("action", {}, auth=AuthMode.NONE).status == 401
            assert api.index("action", {}, token="wrong").status == 401
        finally:
            target.close()



def _target_answering(answer: Any) -> Any:
    """A target over an in-memory transport: `answer(request)` is the server."""
    from contract.support.target import DEFAULT_RESOURCE_IDS, DEFAULT_SUBTENANT_ID, DEFAULT_TENANT_ID, ResourceRef, Target

    return Target(
        client=httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(answer)),
        base_url="http://127.0.0.1:9", token="the-token", auth_mode=AuthMode.HEADER, tenant_id=DEFAULT_TENANT_ID,
        subtenant_id=DEFAULT_SUBTENANT_ID, foreign_subtenant_id=None, resources=(ResourceRef(DEFAULT_RESOURCE_IDS[0]),),
        is_loopback=True, in_process=False, writes_allowed=True,
    )


def test_a_401_on_one_operation_to_a_token_the_probe_takes_is_the_servers_answer() -> None:
    """A server that refuses a valid token on one operation only breaks a rule: the suite does not
    take it for a wrong token (the preflight's probe, an index of actions, still takes it)."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer the-token"
        if request.url.path == "/v2/action/index":
            return httpx.Response(200, json=[], headers={"X-Pagination-Total-Count": "0"})
        return httpx.Response(401, json={"type": "about:blank", "title": "Unauthorized", "status": 401})

    target = _target_answering(answer)
    try:
        view = ApiClient(target, "ct0123abcd").view("action", "3f0e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b")
    finally:
        target.close()
    assert view.status == 401

# ---------------------------------------------------------------- --keep-data

UPDATE_NOT_STORED = mock_entry("from tests.mutation.mutants import CATALOGUE\nCATALOGUE['update_answers_description_not_stored'].apply(patch)")
UPDATE_TEST = "tests/contract/test_semantic_rules.py::test_each_field_an_update_sends_is_stored[action]"
REPRODUCE_GET = re.compile(r"Reproduce: (curl .* -X GET .*)$", re.MULTILINE)
KEEP_COMMAND = re.compile(r"^  (\.venv/bin/python -m tests\.contract\.support\.kept (\S+) --token mock-token)$", re.MULTILINE)


def _send_curl_line(line: str, token: str) -> httpx.Response:
    """The request a printed curl line makes, with $TOKEN as the shell would expand it."""
    words = shlex.split(line.replace("$TOKEN", token))
    method, url = words[words.index("-X") + 1], words[words.index("-X") + 2]
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    return httpx.request(method, url, headers=headers, trust_env=False, timeout=15.0)


def _run_entities(control: httpx.Client, marker: str) -> list[str]:
    state = control.get("/__mock/state").json()
    return [json.dumps(row) for rows in state["entities"].values() for row in rows if marker in json.dumps(row)]


def test_keep_data_leaves_what_a_failure_repeats_and_says_how_to_delete_it() -> None:
    """A server that answers an update's description without storing it: the failure's curl
    line (a view of the action) answers 200 after the run, the summary counts what stayed, and
    the printed command deletes it."""
    with start_mock(entry=("-c", UPDATE_NOT_STORED)) as mock:
        run = run_suite(UPDATE_TEST, "--target-url", mock.url, "--keep-data")
        output = run.stdout + run.stderr
        assert run.returncode == 1 and "BROKE update_is_stored" in output, output[-4000:]
        view = _send_curl_line(REPRODUCE_GET.findall(output)[-1], mock_token())
        assert view.status_code == 200, view.text
        kept = output.split("contract data kept (--keep-data)", 1)[1]
        marker = re.search(r"\(run markers (ct[0-9a-f]{8})\)", kept)
        command = KEEP_COMMAND.search(kept)
        assert marker and command, kept[:2000]
        with mock.client() as control:
            stayed = _run_entities(control, marker[1])
            assert stayed and f"  action: {len(stayed)}\n" in kept, (stayed, kept[:2000])
            deleted = subprocess.run(shlex.split(command[1]), cwd=REPO_ROOT, env=child_environment(), capture_output=True, text=True, timeout=120)
            (REPO_ROOT / command[2]).unlink()
            assert deleted.returncode == 0, deleted.stdout + deleted.stderr
            assert _run_entities(control, marker[1]) == []


# ---------------------------------------------------------------- what a run against a server leaves out


def test_a_run_against_a_server_leaves_out_the_tests_of_the_suite_itself() -> None:
    """The suite's self-tests start mocks of their own and judge no target: a run against a URL
    (a conformance run on production) deselects them, with the reason; the in-process run keeps them."""
    from contract.support import plugin

    assert plugin.SELF_TEST_MARKER in plugin.requirement_reasons(TargetOptions(url="https://api.example.test"))
    assert plugin.SELF_TEST_MARKER in plugin.requirement_reasons(TargetOptions(url="http://127.0.0.1:8080"))
    assert plugin.SELF_TEST_MARKER not in plugin.requirement_reasons(TargetOptions())
