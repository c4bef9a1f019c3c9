"""Shared by every test folder: the contract suite's options and hooks (see contract/support/plugin.py)."""

import importlib.util
import sys
from pathlib import Path

# The suite imports the spec loader of `mock_server`; from a checkout it is not installed.
if importlib.util.find_spec("mock_server") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract.support.plugin import (  # noqa: E402  (hooks must be names of this module)
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)

__all__ = [
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
]
