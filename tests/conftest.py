"""Shared by every test folder: the contract suite's options and hooks (see contract/support/plugin.py)."""

import importlib.util
import os
import sys
from pathlib import Path

# The mock's tests (and the suite's in-process target) import `mock_server`; from a checkout it may not be installed.
if importlib.util.find_spec("mock_server") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402
from contract.support.plugin import pytest_addoption as contract_options  # noqa: E402
from contract.support.plugin import (  # noqa: E402  (hooks must be names of this module)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    contract_options(parser)
    # The mutation tests' options live here so that they exist whichever folder pytest is given.
    group = parser.getgroup("mutation")
    group.addoption(
        "--run-mutants",
        action="store_true",
        default=False,
        help="run the mutation tests (the contract suite against every variant of the mock; takes minutes)",
    )
    parser.getgroup("browser").addoption(
        "--run-browser",
        action="store_true",
        default=False,
        help="run the browser tests (tests/browser: headless Chromium at /usr/bin/chromium, driven by Playwright)",
    )
    parser.getgroup("long runs").addoption(
        "--run-long",
        action="store_true",
        default=False,
        help="run the long runs of the suite's own tests (marker long_run: whole profiles against a mock behind a gateway)",
    )
    group.addoption(
        "--mutant-timeout",
        type=float,
        default=None,
        help="seconds allowed to one contract-suite run in the mutation tests",
    )


CONTRACT_TESTS = Path(__file__).resolve().parent / "contract"


@pytest.fixture(autouse=True)
def charge_the_mock_build_to_every_contract_test(request: pytest.FixtureRequest) -> None:
    """In mutmut's stats run only (tests/mutation/sampled.py): build a mock app in every contract
    test's setup. mutmut gives a mutant only the tests during which its function was called, and the
    in-process target builds the app (Rules.__init__, Derivations.__init__, the seed's load) once per
    module, in the first test's setup: without this, a mutant there would be tried by that test alone,
    though every test of the module runs on what it built."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats" or CONTRACT_TESTS not in request.path.parents:
        return
    from mock_server.app import create_app

    create_app()


__all__ = [
    "charge_the_mock_build_to_every_contract_test",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_deselected",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]
