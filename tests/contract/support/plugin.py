"""pytest hooks of the contract suite: target options, Hypothesis profiles, write gating, rule summary.

In the checkout the top-level `tests/conftest.py` imports the hooks, so the options exist whichever
folder pytest is pointed at; `contract-4hse run` loads this module with `-p`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings

from . import findings as findings_module
from . import results
from .budget import BUDGET, COUNTER_FILE, BudgetSpent, SharedCounter
from .drift import DriftReport
from .findings import findings
from .kept import KEPT, kept_file_name, summary_lines, write_kept
from .preflight import ConfigurationError
from .profiles import current_profile, economy, first_parameter_sets
from .rate_limit import RATE_LIMIT, RateSpec, create_bucket_file
from .rules import LEDGER, RULES
from .target import (
    DEFAULT_FOREIGN_SUBTENANT_ID,
    DEFAULT_FOREIGN_TENANT_ID,
    DEFAULT_RESOURCE_IDS,
    DEFAULT_SECOND_SUBTENANT_ID,
    DEFAULT_SUBTENANT_ID,
    DEFAULT_TENANT_ID,
    DEFAULT_TOKEN,
    IN_PROCESS_TODAY,
    AuthMode,
    ResourceRef,
    TargetOptions,
    env_list,
    xdist_worker_count,
)
from .transport import LEDGER as REQUESTS
from .transport import RetryPolicy, TargetUnavailable

CONTRACT_DIR = Path(__file__).resolve().parents[1]
WRITES_MARKER = "writes"
ANY_ID_MARKER = "changes_any_id"
FOREIGN_OFFICE_MARKER = "needs_foreign_office"
FOREIGN_PROJECT_MARKER = "needs_foreign_project"
TWO_RESOURCES_MARKER = "needs_two_resources"
WHOLE_DATASET_MARKER = "whole_dataset"
SELF_TEST_MARKER = "suite_self_test"
PROFILE_ENV = "CONTRACT_PROFILE"
DEFAULT_PROFILE = "quick"

# No profile turns a health check off: a strategy that draws slowly, too much, or rejects most of
# what it draws is a fault of the strategy (a test that needs an exception says why, next to it).
# quick: the default and CI's. Derandomized, so a run is the same run everywhere; no shrinking, so
# a failure is reported at once (scenarios are small by construction).
settings.register_profile(
    "quick",
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)
# smoke: quick with one example per test; with the cuts of support/profiles.py (Schemathesis'
# coverage phase off, short state machine scenarios) every rule is touched at least once in at
# most 1,500 requests against the mock (tests/suite/test_smoke_profile.py holds it to that).
settings.register_profile("smoke", parent=settings.get_profile("quick"), max_examples=1)
# debug: the same examples as quick, shrunk to a minimal scenario when one fails.
settings.register_profile("debug", parent=settings.get_profile("quick"), phases=list(Phase))
# thorough: nightly; random, more examples, shrinking.
settings.register_profile("thorough", max_examples=150, deadline=None)
# randomized: the time-budgeted pass of CI (ci/pipeline.sh contract-random): random examples, a new
# seed each round (printed, so `--hypothesis-seed N` replays a failure), no shrinking, no database.
settings.register_profile(
    "randomized",
    max_examples=40,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)

_deselection_reasons: list[str] = []
# The spec drift report of the run's target (at most one: the first target opened).
DRIFT_REPORTS: list[DriftReport] = []
DRIFT_LINES: list[str] = []  # under pytest-xdist: the report of the first worker
# Failed contract tests: node id -> (phase, broken rule or None, short reason) of each cause.
FAILED_TESTS: dict[str, list[tuple[str, str | None, str]]] = {}
CONFIGURATION_ERRORS: list[str] = []  # the first stops the run
# Tests that ended, or did not start, without a verdict because the request budget was spent.
NO_VERDICT: list[str] = []
# The exit status of a run the request budget cut short (a test that failed before wins: 1).
PARTIAL_EXIT_STATUS = 6
RUN_DIR_KEY = "contract_run_dir"  # the run's shared folder, handed to the pytest-xdist workers
# Rule -> each failure of one of its checks in a failed test, with the exchange and curl line.
RULE_FAILURES: dict[str, list[results.RuleFailure]] = {}
STOP_REASONS: list[str] = []  # why the run stopped before its end (it is then partial)
DESELECTED: set[str] = set()  # node ids of the tests deselected, by any plugin
_STARTED = [time.monotonic()]
SHOWN_FAILED_TESTS = 30
_DEFAULT_RETRY = RetryPolicy()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suite: the server under test")
    group.addoption("--target-url", default=os.environ.get("CONTRACT_TARGET_URL"), help="base URL of the server (without /v2); default: the mock, in-process [CONTRACT_TARGET_URL]")
    group.addoption("--token", default=os.environ.get("CONTRACT_TOKEN", DEFAULT_TOKEN), help="API token [CONTRACT_TOKEN]")
    group.addoption("--auth-mode", choices=[m.value for m in (AuthMode.HEADER, AuthMode.QUERY)], default=os.environ.get("CONTRACT_AUTH_MODE", AuthMode.HEADER.value), help="send the token as Authorization Bearer (header) or access-token (query) [CONTRACT_AUTH_MODE]")
    group.addoption("--tenant-id", default=os.environ.get("CONTRACT_TENANT_ID", DEFAULT_TENANT_ID), help="the project the run may create in [CONTRACT_TENANT_ID]")
    group.addoption("--subtenant-id", action="append", default=None, help="an office of that project (repeatable: the first is the main one, others let trees differ in office) [CONTRACT_SUBTENANT_ID, comma-separated]")
    group.addoption("--foreign-subtenant-id", default=os.environ.get("CONTRACT_FOREIGN_SUBTENANT_ID", DEFAULT_FOREIGN_SUBTENANT_ID), help="an office of ANOTHER project ('' to skip that rule) [CONTRACT_FOREIGN_SUBTENANT_ID]")
    group.addoption("--foreign-tenant-id", default=os.environ.get("CONTRACT_FOREIGN_TENANT_ID", DEFAULT_FOREIGN_TENANT_ID), help="the project of --foreign-subtenant-id ('' to skip the rules that need another project: moves there, links across projects) [CONTRACT_FOREIGN_TENANT_ID]")
    group.addoption("--resource-id", action="append", default=None, help="a resource the run may subscribe and certify, ID or ID:TYPE (repeatable) [CONTRACT_RESOURCE_IDS, comma-separated]")
    group.addoption("--allow-writes", action="store_true", default=_env_flag("CONTRACT_ALLOW_WRITES"), help="allow creating (and deleting its own) data on a non-loopback target [CONTRACT_ALLOW_WRITES]")
    group.addoption("--retries", type=int, default=int(os.environ.get("CONTRACT_RETRIES", _DEFAULT_RETRY.attempts)), help="tries of one request on 429/502/503/504 or a connection error, the first included [CONTRACT_RETRIES]")
    group.addoption("--retry-budget", type=float, default=float(os.environ.get("CONTRACT_RETRY_BUDGET", _DEFAULT_RETRY.budget)), help="seconds the whole run may wait for retries before the target counts as unavailable [CONTRACT_RETRY_BUDGET]")
    group.addoption("--retry-max-wait", type=float, default=float(os.environ.get("CONTRACT_RETRY_MAX_WAIT", _DEFAULT_RETRY.max_wait)), help="the longest single wait (Retry-After or backoff), seconds [CONTRACT_RETRY_MAX_WAIT]")
    group.addoption("--request-timeout", type=float, default=float(os.environ.get("CONTRACT_REQUEST_TIMEOUT", _DEFAULT_RETRY.timeout)), help="seconds to connect and for each read of an answer [CONTRACT_REQUEST_TIMEOUT]")
    group.addoption("--rate-limit", default=os.environ.get("CONTRACT_RATE_LIMIT") or None, help="at most N requests per second (N/s) or minute (N/min) to the target, over all pytest-xdist workers together; e.g. 10/s [CONTRACT_RATE_LIMIT]")
    group.addoption("--max-requests", type=int, default=int(os.environ["CONTRACT_MAX_REQUESTS"]) if os.environ.get("CONTRACT_MAX_REQUESTS") else None, help="send at most N requests to the target (over all workers), then stop: the run is partial (exit status 6), and what it created is still deleted [CONTRACT_MAX_REQUESTS]")
    group.addoption("--keep-data", action="store_true", default=_env_flag("CONTRACT_KEEP_DATA"), help="delete nothing the run created, so that the curl lines of failures repeat them; the end of the run says what stayed and how to delete it [CONTRACT_KEEP_DATA]")
    group.addoption("--read-only", action="store_true", default=_env_flag("CONTRACT_READ_ONLY"), help="run only the tests that create nothing [CONTRACT_READ_ONLY]")
    group.addoption("--results-json", default=None, metavar="PATH", help="write the run's results (rules, failures with their exchanges, tests, requests) to PATH as JSON (support/results.py)")


def options_from_config(config: pytest.Config) -> TargetOptions:
    resource_texts = config.getoption("resource_id") or env_list("CONTRACT_RESOURCE_IDS") or list(DEFAULT_RESOURCE_IDS)
    offices = config.getoption("subtenant_id") or env_list("CONTRACT_SUBTENANT_ID") or [DEFAULT_SUBTENANT_ID, DEFAULT_SECOND_SUBTENANT_ID]
    foreign = config.getoption("foreign_subtenant_id") or None
    foreign_project = config.getoption("foreign_tenant_id") or None
    return TargetOptions(
        url=config.getoption("target_url") or None,
        token=config.getoption("token"),
        auth_mode=AuthMode(config.getoption("auth_mode")),
        tenant_id=config.getoption("tenant_id").lower(),
        subtenant_ids=tuple(office.strip().lower() for office in offices),
        foreign_subtenant_id=foreign.lower() if foreign else None,
        foreign_tenant_id=foreign_project.lower() if foreign_project else None,
        resources=tuple(ResourceRef.parse(text) for text in resource_texts),
        allow_writes=config.getoption("allow_writes"),
        read_only=config.getoption("read_only"),
        retry=RetryPolicy(
            attempts=max(1, config.getoption("retries")),
            backoff=_DEFAULT_RETRY.backoff,
            max_wait=config.getoption("retry_max_wait"),
            budget=config.getoption("retry_budget"),
            timeout=config.getoption("request_timeout"),
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{WRITES_MARKER}: creates entities on the target (deselected when writes are not allowed)")
    config.addinivalue_line(
        "markers",
        f"{ANY_ID_MARKER}: sends generated updates and deletes, whose ids could name anyone's entity "
        "(deselected unless the target is loopback)",
    )
    config.addinivalue_line("markers", f"{FOREIGN_OFFICE_MARKER}: needs an office of another project (deselected without one)")
    config.addinivalue_line("markers", f"{FOREIGN_PROJECT_MARKER}: needs another project and an office of it (deselected without them)")
    config.addinivalue_line("markers", f"{TWO_RESOURCES_MARKER}: needs two resources to subscribe and certify (deselected with fewer)")
    config.addinivalue_line(
        "markers",
        f"{WHOLE_DATASET_MARKER}: compares reads of every entity of a kind, so nobody may write meanwhile "
        "(deselected when other tests share the session with pytest-xdist workers: run them with -m whole_dataset)",
    )
    config.addinivalue_line(
        "markers",
        f"{SELF_TEST_MARKER}: tests the suite's own machinery on a mock of its own, not the target "
        "(left out of the mutation runs, which judge the suite's verdict on faulty servers)",
    )
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile(os.environ.get(PROFILE_ENV, DEFAULT_PROFILE))
    _STARTED[0] = time.monotonic()
    if config.pluginmanager.hasplugin("xdist") and not config.pluginmanager.has_plugin(WorkerLedgers.NAME):
        config.pluginmanager.register(WorkerLedgers(), WorkerLedgers.NAME)
    configure_limits(config)


def configure_limits(config: pytest.Config) -> None:
    """--rate-limit and --max-requests over the whole run: their state is in files of a folder the
    controller makes (and removes at the end) and hands to its pytest-xdist workers."""
    text = config.getoption("rate_limit", None)
    try:
        rate = RateSpec.parse(text) if text else None
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    limit = config.getoption("max_requests", None)
    if limit is not None and limit < 1:
        raise pytest.UsageError(f"--max-requests {limit}: expected N >= 1")
    if rate is None and limit is None:
        BUDGET.configure(None, None)
        RATE_LIMIT.configure(None, None)
        return
    run_dir = shared_run_dir(config)
    BUDGET.configure(limit, run_dir)
    RATE_LIMIT.configure(rate, run_dir)


def shared_run_dir(config: pytest.Config) -> Path:
    """The run's shared folder: a worker's from its controller, else a new one, its files made."""
    handed = getattr(config, "workerinput", {}).get(RUN_DIR_KEY)
    if handed:
        return Path(handed)
    existing = getattr(config, "_contract_run_dir", None)
    if existing is not None:
        return existing
    run_dir = Path(tempfile.mkdtemp(prefix="contract-run-"))
    SharedCounter(run_dir / COUNTER_FILE).create()
    create_bucket_file(run_dir)
    config._contract_run_dir = run_dir  # type: ignore[attr-defined]
    return run_dir


def pytest_unconfigure(config: pytest.Config) -> None:
    BUDGET.close()
    RATE_LIMIT.close()
    run_dir = getattr(config, "_contract_run_dir", None)
    if run_dir is not None:
        shutil.rmtree(run_dir, ignore_errors=True)


class WorkerLedgers:
    """Under pytest-xdist each worker checks rules and sends requests in its own process: the
    workers hand their ledgers (and the drift report) to the controller, which prints the summary."""

    NAME = "contract-worker-ledgers"
    KEY = "contract_ledgers"

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        run_dir = getattr(node.config, "_contract_run_dir", None)
        if run_dir is not None:
            node.workerinput[RUN_DIR_KEY] = str(run_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if output is None:
            return
        output[self.KEY] = {
            "checks": dict(LEDGER.checks),
            "broken": LEDGER.broken,
            "requests": dict(REQUESTS.requests),
            "seconds": dict(REQUESTS.seconds),
            "retries": dict(REQUESTS.retries),
            "reconciled": REQUESTS.reconciled,
            "waited": REQUESTS.waited,
            "drift": [drift.lines() for drift in DRIFT_REPORTS],
            "deselected": _deselection_reasons,
            "failed": FAILED_TESTS,
            "configuration": CONFIGURATION_ERRORS,
            "kept": KEPT,
            "partial": BUDGET.partial_reason,
            "no_verdict": NO_VERDICT,
            "rule_failures": {rule: [vars(failure) for failure in failures] for rule, failures in RULE_FAILURES.items()},
            "stopped": [*STOP_REASONS, *([str(session.shouldstop)] if session.shouldstop else [])],
            "deselected_ids": sorted(DESELECTED),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get(self.KEY)
        if not data:
            return
        LEDGER.checks.update(data["checks"])
        for rule, where in data["broken"].items():
            LEDGER.broken.setdefault(rule, []).extend(where)
        REQUESTS.requests.update(data["requests"])
        for module, seconds in data["seconds"].items():
            REQUESTS.seconds[module] += seconds  # time spent in the module, summed over workers
        REQUESTS.retries.update(data["retries"])
        REQUESTS.reconciled.extend(data["reconciled"])
        REQUESTS.waited += data["waited"]
        if not DRIFT_LINES and data["drift"]:
            DRIFT_LINES.extend(data["drift"][0])
        for reason in data["deselected"]:
            if reason not in _deselection_reasons:
                _deselection_reasons.append(reason)
        for nodeid, causes in data["failed"].items():
            FAILED_TESTS.setdefault(nodeid, []).extend(tuple(cause) for cause in causes)
        CONFIGURATION_ERRORS.extend(error for error in data["configuration"] if error not in CONFIGURATION_ERRORS)
        KEPT.extend(tuple(entity) for entity in data["kept"])
        if BUDGET.partial_reason is None:
            BUDGET.partial_reason = data["partial"]
        NO_VERDICT.extend(data["no_verdict"])
        for rule, failures in data["rule_failures"].items():
            RULE_FAILURES.setdefault(rule, []).extend(results.RuleFailure(**failure) for failure in failures)
        STOP_REASONS.extend(reason for reason in data["stopped"] if reason not in STOP_REASONS)
        DESELECTED.update(data["deselected_ids"])  # every worker deselects the same tests


def _is_contract_item(item: pytest.Item) -> bool:
    return CONTRACT_DIR in Path(str(item.path)).resolve().parents


def requirement_reasons(options: TargetOptions) -> dict[str, str]:
    """Marker -> why tests carrying it cannot run against this target (only unmet requirements)."""
    reasons = {}
    refusal = options.refusal_reason()
    if refusal is not None:
        reasons[WRITES_MARKER] = refusal
    if not options.is_loopback:
        reasons[ANY_ID_MARKER] = f"{options.url} is not a loopback address, and a generated id could name someone else's entity"
    if options.foreign_subtenant_id is None:
        reasons[FOREIGN_OFFICE_MARKER] = "no office of another project was given (--foreign-subtenant-id)"
    if options.foreign_subtenant_id is None or options.foreign_tenant_id is None:
        reasons[FOREIGN_PROJECT_MARKER] = "no other project with an office of it was given (--foreign-tenant-id, --foreign-subtenant-id)"
    if len(options.resources) < 2:
        reasons[TWO_RESOURCES_MARKER] = "fewer than two resources were given (--resource-id)"
    if not options.in_process:
        # they judge no target (each starts mocks of its own), so a run against one gains nothing from them
        reasons[SELF_TEST_MARKER] = (
            "they test the suite's own machinery on mocks of their own, not the target; "
            "the in-process run (no --target-url) runs them"
        )
    return reasons


def _whole_dataset_reason(options: TargetOptions, items: list[pytest.Item]) -> str | None:
    """Why the tests that compare reads of whole data sets cannot run in this session: other
    pytest-xdist workers run other tests (which may write) against the same server meanwhile. A
    session of only those tests (`-m whole_dataset`) only reads, so its workers may share it."""
    if options.in_process or xdist_worker_count() == 1:
        return None
    if all(item.get_closest_marker(WHOLE_DATASET_MARKER) for item in items if _is_contract_item(item)):
        return None
    return (
        f"{xdist_worker_count()} pytest-xdist workers run tests that write to the same server meanwhile; "
        "run them afterwards on their own: -m whole_dataset"
    )


# Schema-driven modules run after the rule tests: a server that breaks a rule then fails first
# with a message naming that rule, even under `-x`.
SCHEMA_DRIVEN_MODULES = ("test_schemathesis.py", "test_stateful.py")
LONGEST_MODULE = "test_stateful.py"


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have chosen the session's tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests the target cannot take (writes refused, generated updates and deletes on a shared
    server, a missing reference id, whole-data-set reads while workers write) are deselected, not
    skipped, and the reason is printed;
    schema-driven tests go last (under pytest-xdist the longest test goes first instead)."""
    if xdist_worker_count() > 1:
        # Workers take tests in this order: the longest one (the state machine's scenarios) goes
        # first, so that it does not start last and run on alone.
        items.sort(key=lambda item: item.path.name != LONGEST_MODULE)
    else:
        items.sort(key=lambda item: item.path.name in SCHEMA_DRIVEN_MODULES)
    options = options_from_config(config)
    reasons = requirement_reasons(options)
    for marker, reason in [*reasons.items(), (WHOLE_DATASET_MARKER, None)]:
        if marker == WHOLE_DATASET_MARKER:
            reason = _whole_dataset_reason(options, items)  # on what the other reasons left
            if reason is None:
                continue
        unfit = [item for item in items if _is_contract_item(item) and item.get_closest_marker(marker)]
        if not unfit:
            continue
        message = f"{len(unfit)} contract tests marked `{marker}` were deselected: {reason}"
        _deselection_reasons.append(message)
        config.hook.pytest_deselected(items=unfit)
        items[:] = [item for item in items if item not in unfit]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"contract: {message}", yellow=True)
    _thin_parameter_sets(config, items)


def _thin_parameter_sets(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A cheap profile (smoke) runs one parameter set of each parametrized contract test: every
    test function still runs, the other parameter sets are deselected with the reason printed."""
    profile = current_profile()
    if not economy(profile).one_parameter_set:
        return
    contract_items = [item for item in items if _is_contract_item(item)]
    _, dropped = first_parameter_sets(contract_items)
    if not dropped:
        return
    message = (
        f"{len(dropped)} contract tests were deselected: the {profile} profile runs one parameter set of each "
        "parametrized test (every other profile runs them all)"
    )
    _deselection_reasons.append(message)
    config.hook.pytest_deselected(items=dropped)
    gone = set(map(id, dropped))
    items[:] = [item for item in items if id(item) not in gone]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"contract: {message}", yellow=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    options = options_from_config(config)
    where = options.url or f"the mock in-process (today pinned to {IN_PROCESS_TODAY.isoformat()})"
    writes = "allowed" if options.writes_allowed else f"refused ({options.refusal_reason()})"
    return [f"contract target: {where}; writes {writes}; hypothesis profile: {getattr(settings, '_current_profile', '?')}"]


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, its causes and contexts, and the members of exception groups, each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)
        pending += [current.__cause__, current.__context__]


def _first_of(kind: type[BaseException], error: BaseException | None) -> Any:
    return next((current for current in _chain(error) if isinstance(current, kind)), None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """No test starts once the request budget is spent (by any worker): it could judge nothing."""
    item.stash[REFUSALS_AT_START] = BUDGET.refusals
    if not _is_contract_item(item) or BUDGET.limit is None:
        return
    used = BUDGET.used() or 0
    if used >= BUDGET.limit:
        if BUDGET.partial_reason is None:
            BUDGET.partial_reason = f"the request budget was spent: {BUDGET.limit} requests were sent (--max-requests {BUDGET.limit})"
        item.session.shouldstop = BUDGET.partial_reason
        raise BudgetSpent(f"{BUDGET.partial_reason}; the test did not start")


def _set_partial_exit_status(session: pytest.Session) -> None:
    """A run cut short by its request budget exits PARTIAL_EXIT_STATUS, unless a test failed
    before (1: a finding wins). Under pytest-xdist the controller decides, from its workers'."""
    if hasattr(session.config, "workerinput") or BUDGET.partial_reason is None:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED if session.testsfailed else PARTIAL_EXIT_STATUS


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED.update(item.nodeid for item in items)


@pytest.hookimpl(hookwrapper=True)
def costs_per_module(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Requests and wall time are counted per module of the contract suite: the contract
    folder's `pytest_runtest_protocol` (a name of its conftest, not of this plugin, so that it
    runs once whether this module is a plugin of its own or its hooks are a conftest's)."""
    if not _is_contract_item(item):
        yield
        return
    findings_module.FAILED_EXCHANGES.clear()
    REQUESTS.current_module = item.path.name
    started = time.monotonic()
    yield
    REQUESTS.seconds[item.path.name] += time.monotonic() - started


REFUSALS_AT_START = pytest.StashKey[int]()


def _refused_in(item: pytest.Item) -> bool:
    """Whether the budget refused a request of this test (not merely of another worker's)."""
    return BUDGET.refusals > item.stash.get(REFUSALS_AT_START, BUDGET.refusals)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Every failure of a contract test, in any phase, is noted for the summary: the rules it
    broke (the suite's own checks, and Schemathesis' that judge one), else a short reason. A
    configuration error or an unavailable target stops the run instead: every later test would
    fail the same way, and none of it is a finding about the target."""
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and call.excinfo is not None and _is_contract_item(item)):
        return
    spent: BaseException | None = _first_of(BudgetSpent, call.excinfo.value)
    if spent is None and _refused_in(item) and not any(f.rule for f in findings(call.excinfo.value)):
        # the budget ran out inside the test, and what failed is no rule: e.g. Hypothesis, replaying
        # an example whose requests were refused, reports its data generation as flaky
        spent = BudgetSpent(f"{BUDGET.partial_reason or 'the request budget was spent'} during the test")
    if spent is not None:
        # no verdict on the target: the test could not send what it needed
        item.session.shouldstop = BUDGET.partial_reason or str(spent)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"no verdict: {spent}")
        if item.nodeid not in NO_VERDICT:
            NO_VERDICT.append(item.nodeid)
        return
    misconfigured = _first_of(ConfigurationError, call.excinfo.value)
    if misconfigured is not None:
        if str(misconfigured) not in CONFIGURATION_ERRORS:
            CONFIGURATION_ERRORS.append(str(misconfigured))
        item.session.shouldstop = str(misconfigured)
        if str(misconfigured) not in STOP_REASONS:
            STOP_REASONS.append(str(misconfigured))
        report.longrepr = str(misconfigured)  # the message, not a traceback through the fixtures
        return
    unavailable = _first_of(TargetUnavailable, call.excinfo.value)
    if unavailable is not None:
        item.session.shouldstop = str(unavailable)
        if str(unavailable) not in STOP_REASONS:
            STOP_REASONS.append(str(unavailable))
        return
    causes = FAILED_TESTS.setdefault(item.nodeid, [])
    for finding in findings(call.excinfo.value):
        if finding.rule is not None:
            LEDGER.record_broken(finding.rule, item.nodeid)
            RULE_FAILURES.setdefault(finding.rule, []).append(
                results.RuleFailure(item.nodeid, finding.detail or finding.reason, finding.exchange, finding.curl))
        causes.append((call.when, finding.rule, finding.reason))


def _write_costs(terminalreporter: Any) -> None:
    """Requests and wall time per test module; retries and reconciled creates, as warnings."""
    if not REQUESTS.requests and not REQUESTS.seconds:
        return
    write = terminalreporter.write_line
    terminalreporter.section("contract requests")
    modules = sorted(set(REQUESTS.requests) | set(REQUESTS.seconds))
    width = max(len(name) for name in modules)
    for name in modules:
        write(f"  {name.ljust(width)}  {REQUESTS.requests[name]:6d} requests  {REQUESTS.seconds.get(name, 0.0):7.1f} s")
    write(f"  {'total'.ljust(width)}  {sum(REQUESTS.requests.values()):6d} requests  {sum(REQUESTS.seconds.values()):7.1f} s")
    reasons = ", ".join(f"{reason} x{count}" for reason, count in sorted(REQUESTS.retries.items()))
    write(f"  retries: {sum(REQUESTS.retries.values())}{f' ({reasons})' if reasons else ''}, {REQUESTS.waited:.1f} s waited")
    if REQUESTS.retries or REQUESTS.reconciled:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in sorted(REQUESTS.retries.items()))
        terminalreporter.section("contract retries (warnings, not broken rules)")
        write(f"  {sum(REQUESTS.retries.values())} retries ({reasons or 'none'}), {REQUESTS.waited:.1f} s waited", yellow=True)
        for text in REQUESTS.reconciled[:20]:
            write(f"  lost create answer: {text}", yellow=True)


def _write_partial(terminalreporter: Any) -> None:
    """A run its request budget cut short: why, and how far it got."""
    if BUDGET.partial_reason is None or hasattr(terminalreporter.config, "workerinput"):
        return
    write = terminalreporter.write_line
    terminalreporter.section("contract run PARTIAL")
    write(f"the run is partial: {BUDGET.partial_reason}", yellow=True, bold=True)
    write(f"  {sum(REQUESTS.requests.values())} requests counted (the cleanup's deletes past the budget included)", yellow=True)
    write(f"  {len(NO_VERDICT)} tests ended or did not start without a verdict on the target; the tests not reached were not run", yellow=True)
    for nodeid in NO_VERDICT[:SHOWN_FAILED_TESTS]:
        write(f"    no verdict: {nodeid}")


def _write_drift(terminalreporter: Any) -> None:
    lines = DRIFT_LINES or [line for drift in DRIFT_REPORTS[:1] for line in drift.lines()]
    if lines:
        terminalreporter.section("spec drift (report only)")
        for line in lines:
            terminalreporter.write_line(line)


def _failed_nodeids(terminalreporter: Any) -> list[str]:
    """Every test that failed or errored in this run (under pytest-xdist: as the workers reported it)."""
    reports = [*terminalreporter.stats.get("failed", []), *terminalreporter.stats.get("error", [])]
    return list(dict.fromkeys(report.nodeid for report in reports))


def _write_failed_tests(terminalreporter: Any, failed: list[str]) -> None:
    """Each failed test with what broke: its rules, or a short reason."""
    write = terminalreporter.write_line
    write(f"failed tests ({len(failed)}):", red=True)
    for nodeid in failed[:SHOWN_FAILED_TESTS]:
        write(f"  FAIL  {nodeid}", red=True)
        causes = FAILED_TESTS.get(nodeid) or [("", None, "see the failure above")]
        for when, rule, reason in list(dict.fromkeys(causes))[:5]:
            phase = f" (in {when})" if when and when != "call" else ""
            write(f"          {f'broke {rule}: ' if rule else ''}{reason}{phase}")
    if len(failed) > SHOWN_FAILED_TESTS:
        write(f"  ... and {len(failed) - SHOWN_FAILED_TESTS} more")


def _write_verdict(terminalreporter: Any, failed: list[str]) -> None:
    if CONFIGURATION_ERRORS:
        judged = "stopped before its end" if LEDGER.checks or LEDGER.broken else "the target was not judged"
        terminalreporter.write_line(f"the run is RED, {judged}: {CONFIGURATION_ERRORS[0]}", red=True, bold=True)
    elif failed:
        terminalreporter.write_line(f"the run is RED: {len(failed)} tests failed", red=True, bold=True)
    elif LEDGER.broken:
        # a check recorded a broken rule in a test that did not fail on it: still not green
        terminalreporter.write_line(f"the run is RED: {len(LEDGER.broken)} rules broken, though no test failed", red=True, bold=True)
    elif BUDGET.partial_reason is not None:
        terminalreporter.write_line(f"the run is PARTIAL, no verdict: {BUDGET.partial_reason}; no test failed before", yellow=True, bold=True)
    else:
        terminalreporter.write_line("the run is green: no test failed", green=True)


def _write_kept(terminalreporter: Any) -> None:
    """--keep-data: what stayed on the target, in a file (by the controller under pytest-xdist)."""
    if not KEPT or hasattr(terminalreporter.config, "workerinput"):
        return
    url = terminalreporter.config.getoption("target_url") or ""
    path = Path(kept_file_name(KEPT))
    write_kept(path, url, KEPT)
    terminalreporter.section("contract data kept (--keep-data)")
    for line in summary_lines(path, url, KEPT, terminalreporter.config.getoption("token")):
        terminalreporter.write_line(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    _write_drift(terminalreporter)
    _write_costs(terminalreporter)
    _write_partial(terminalreporter)
    _write_kept(terminalreporter)
    failed = _failed_nodeids(terminalreporter)
    if not LEDGER.checks and not LEDGER.broken and not FAILED_TESTS and not CONFIGURATION_ERRORS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("contract rules")
    if CONFIGURATION_ERRORS and not LEDGER.checks and not LEDGER.broken:
        # stopped before the first check: the target was not judged, no rule held or broke
        _write_verdict(terminalreporter, failed)
        return
    for reason in _deselection_reasons:
        write(reason)
    broken = sorted(LEDGER.broken)
    held = sorted(name for name in LEDGER.checks if name not in LEDGER.broken)
    write(f"held ({len(held)}):")
    for name in held:
        write(f"  ok    {name} ({LEDGER.checks[name]} checks)")
    if broken:
        write(f"broken ({len(broken)}):", red=True)
        for name in broken:
            tests = sorted(set(LEDGER.broken[name]))
            write(f"  BROKE {name}: {RULES[name].statement if name in RULES else ''}", red=True)
            for nodeid in tests[:5]:
                write(f"          in {nodeid}")
    unchecked = sorted(set(RULES) - set(LEDGER.checks) - set(LEDGER.broken))
    if unchecked:
        write(f"not exercised in this run ({len(unchecked)}): {', '.join(unchecked)}")
    if failed:
        _write_failed_tests(terminalreporter, failed)
    _write_verdict(terminalreporter, failed)


def _test_counts(stats: dict[str, list[Any]]) -> dict[str, int]:
    """Tests (not reports: a test that failed in teardown too is one failure) by outcome."""
    passed = {report.nodeid for report in stats.get("passed", []) if getattr(report, "when", "call") == "call"}
    failed = {report.nodeid for report in stats.get("failed", [])}
    errors = {report.nodeid for report in stats.get("error", [])}
    return {"passed": len(passed - failed - errors), "failed": len(failed), "errors": len(errors - failed), "deselected": len(DESELECTED)}


def _failed_tests(stats: dict[str, list[Any]]) -> dict[str, list[tuple[str | None, str]]]:
    """Node id -> (rule, reason) of each cause of every failed test, but those that only met a
    configuration error (the results say it once, not per test)."""
    failed: dict[str, list[tuple[str | None, str]]] = {nodeid: [(rule, reason) for _, rule, reason in causes] for nodeid, causes in FAILED_TESTS.items() if causes}
    for report in [*stats.get("failed", []), *stats.get("error", [])]:
        text = str(getattr(report, "longreprtext", "") or "")
        if report.nodeid in failed or text.strip() in CONFIGURATION_ERRORS:
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        failed[report.nodeid] = [(None, lines[-1][:findings_module.REASON_CHARS] if lines else "see the test's failure in the run's output")]
    return failed


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """--results-json: the results of the run, written where the summary is printed (by the
    controller under pytest-xdist, once the workers have handed over their ledgers); and the exit
    status of a run its request budget cut short."""
    _set_partial_exit_status(session)
    path = session.config.getoption("results_json", None)
    if not path or hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter is not None else {}
    stopped = [*STOP_REASONS, *(str(reason) for reason in (BUDGET.partial_reason, session.shouldstop, session.shouldfail) if reason)]
    stopped = list(dict.fromkeys(stopped))  # the budget's reason is also the session's shouldstop
    if exitstatus == pytest.ExitCode.INTERRUPTED and not stopped and not CONFIGURATION_ERRORS:
        stopped.append("the run was interrupted")
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        stopped.append("pytest stopped on an internal error: no verdict on what did not run")
    options = options_from_config(session.config)
    results.write(Path(path), results.build(
        target=options.url or "the mock in-process",
        profile=settings.get_current_profile_name(),
        seconds=time.monotonic() - _STARTED[0],
        requests=sum(REQUESTS.requests.values()),
        retries=sum(REQUESTS.retries.values()),
        stop_reasons=stopped,
        tests=_test_counts(stats),
        statements={name: rule.statement for name, rule in RULES.items()},
        checks=LEDGER.checks,
        broken=LEDGER.broken,
        failures=RULE_FAILURES,
        failed_tests=_failed_tests(stats),
        deselected_reasons=_deselection_reasons,
        configuration_errors=CONFIGURATION_ERRORS,
    ))
