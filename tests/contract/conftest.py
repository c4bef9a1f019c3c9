"""Fixtures of the contract suite: the target, and a client that cleans up after itself.

In-process, each test module gets a fresh mock app (so modules cannot see each other's data);
against a URL, one connection and one cleanup serve the whole session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import schemathesis

from .support import client as client_module
from .support import transport
from .support.client import ApiClient, CleanupError, new_run_id
from .support.contract import contract
from .support.drift import fetch_report
from .support.kept import note_kept
from .support.preflight import ConfigurationError, check_target
from .support.plugin import DRIFT_REPORTS, options_from_config
from .support.plugin import costs_per_module as pytest_runtest_protocol  # noqa: F401  (a hook of this folder's tests)
from .support.st_checks import CreatedEntities, load_schema, suite_config
from .support.target import Target, TargetOptions, open_target


def target_scope(fixture_name: str, config: pytest.Config) -> str:
    return "module" if options_from_config(config).in_process else "session"


@pytest.fixture(scope="session")
def target_options(pytestconfig: pytest.Config) -> TargetOptions:
    return options_from_config(pytestconfig)


@pytest.fixture(scope="session")
def run_id() -> str:
    return new_run_id()


@pytest.fixture(scope=target_scope)
def target(target_options: TargetOptions) -> Iterator[Target]:
    opened = open_target(target_options)
    if not opened.in_process:
        try:
            check_target(opened)  # a wrong URL or token stops the run before any rule is judged
        except ConfigurationError:
            opened.close()
            raise
    if not DRIFT_REPORTS:
        source = f"{target_options.url or 'the mock in-process'}/openapi.json"
        DRIFT_REPORTS.append(fetch_report(opened.client, contract(), source))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def keep_data(pytestconfig: pytest.Config) -> bool:
    """--keep-data: nothing the run creates is deleted (in-process it goes with the app anyway)."""
    return bool(pytestconfig.getoption("keep_data"))


@pytest.fixture(scope=target_scope)
def api(target: Target, run_id: str, keep_data: bool) -> Iterator[ApiClient]:
    client = ApiClient(target, run_id, keep_data=keep_data)
    yield client
    if keep_data:
        if not target.in_process:
            note_kept(target, run_id, client.created_keys())
        return
    # runs after failures too: whatever the run created and still exists is deleted
    leftovers = client.cleanup() if target.writes_allowed else []
    if leftovers:
        raise CleanupError(f"could not delete {len(leftovers)} entities of run {run_id}: {leftovers[:10]} {client.cleanup_problems[:5]}")


@pytest.fixture(scope="module")
def st_schema(target: Target) -> schemathesis.BaseSchema:
    """The spec as Schemathesis loads it for this target, with `schemathesis.toml`'s settings."""
    return load_schema(target, suite_config(target))


@pytest.fixture(scope="module")
def created(target: Target, keep_data: bool) -> Iterator[CreatedEntities]:
    """What Schemathesis' cases created; deleted at the end except in-process (the app goes) and
    with --keep-data."""
    entities = CreatedEntities()
    yield entities
    if target.in_process:
        return
    if keep_data:
        note_kept(target, entities.marker, list(entities.keys))
        return
    stayed = entities.cleanup(target)
    assert not stayed, f"entities created by this run that could not be deleted: {stayed}"


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> transport.RequestLedger:
    """A request ledger of the test's own: the run's totals and warnings stay the target's."""
    own = transport.RequestLedger()
    monkeypatch.setattr(transport, "LEDGER", own)
    monkeypatch.setattr(client_module, "REQUEST_LEDGER", own)
    return own
