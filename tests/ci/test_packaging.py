"""Two distributions of one contract suite: the project's (mock-4hse, with the mock) and the
suite's own (tests/contract/pyproject.toml, contract-4hse). They must install the same package
with the same dependencies and command, and the nested pyproject must not become pytest's
configuration for the checkout's runs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SUITE = tomllib.loads((ROOT / "tests" / "contract" / "pyproject.toml").read_text())
PACKAGE = "contract_4hse"


def test_the_suite_needs_the_same_dependencies_in_both_distributions() -> None:
    assert sorted(SUITE["project"]["dependencies"]) == sorted(PROJECT["project"]["optional-dependencies"]["contract"])
    assert "mock-4hse[contract]" in PROJECT["project"]["optional-dependencies"]["test"]
    names = " ".join(SUITE["project"]["dependencies"]).lower()
    assert "connexion" not in names and "mock-4hse" not in names


def test_both_distributions_install_the_same_package_command_and_files() -> None:
    for project in (PROJECT, SUITE):
        assert project["project"]["scripts"]["contract-4hse"] == f"{PACKAGE}.cli:main"
        assert {PACKAGE, f"{PACKAGE}.support"} <= set(project["tool"]["setuptools"]["packages"])
    assert SUITE["project"]["version"] == PROJECT["project"]["version"]
    assert SUITE["project"]["requires-python"] == PROJECT["project"]["requires-python"]
    data = PROJECT["tool"]["setuptools"]["package-data"][PACKAGE]
    assert data == SUITE["tool"]["setuptools"]["package-data"][PACKAGE]
    assert PROJECT["tool"]["setuptools"]["package-dir"][PACKAGE] == "tests/contract"
    for name in data:
        assert (ROOT / "tests" / "contract" / name).is_file(), f"package data {name} is not in tests/contract"


def test_the_nested_pyproject_leaves_pytest_the_projects_configuration() -> None:
    """From the root and from inside tests/contract, pytest keeps the project's rootdir and config."""
    assert "pytest" not in SUITE.get("tool", {})
    for cwd, path in [(ROOT, "tests/contract"), (ROOT / "tests" / "contract", "test_pagination.py")]:
        done = subprocess.run([sys.executable, "-m", "pytest", path, "--collect-only", "-p", "no:randomly", "-k", "no_such_test"],
                              cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
        assert f"rootdir: {ROOT}\nconfigfile: pyproject.toml" in done.stdout, done.stdout[:2000] + done.stderr[-2000:]
