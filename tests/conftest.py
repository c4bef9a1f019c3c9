"""Shared by every test folder: the contract suite's options and hooks (see contract/support/plugin.py)."""

import importlib.util
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
    group.addoption(
        "--mutant-timeout",
        type=float,
        default=None,
        help="seconds allowed to one contract-suite run in the mutation tests",
    )


__all__ = [
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
