"""Pytest plugin: run the contract suite against a variant of the mock.

    python -m pytest tests/contract -x -q -p tests.mutation.apply --mutant NAME

`--mutant NAME` applies the named variant of `tests/mutation/mutants.py` at session start, before
the suite builds its in-process app, and undoes it when the session ends. The suite itself knows
nothing of variants: it builds the mock with `create_app` as always and gets the patched one.
"""

from __future__ import annotations

import pytest

from .mutants import CATALOGUE, Variant

MONKEYPATCH_KEY = pytest.StashKey[pytest.MonkeyPatch]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("mutation").addoption(
        "--mutant",
        default=None,
        metavar="NAME",
        help=f"apply this variant of the mock before the session starts; one of: {', '.join(CATALOGUE)}",
    )


def chosen_variant(config: pytest.Config) -> Variant | None:
    name = config.getoption("--mutant")
    if name is None:
        return None
    if name not in CATALOGUE:
        raise pytest.UsageError(f"--mutant {name!r} is not in the catalogue: {', '.join(CATALOGUE)}")
    return CATALOGUE[name]


def pytest_configure(config: pytest.Config) -> None:
    chosen_variant(config)  # an unknown name is a usage error before anything runs


def pytest_report_header(config: pytest.Config) -> str | None:
    variant = chosen_variant(config)
    if variant is None:
        return None
    kind = "legitimate" if variant.legitimate else f"faulty, breaks {variant.rule}"
    return f"mock variant: {variant.name} ({kind}): {variant.summary}"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    variant = chosen_variant(session.config)
    if variant is None:
        return
    monkeypatch = pytest.MonkeyPatch()
    variant.apply(monkeypatch)
    session.config.stash[MONKEYPATCH_KEY] = monkeypatch


def pytest_unconfigure(config: pytest.Config) -> None:
    monkeypatch = config.stash.get(MONKEYPATCH_KEY, None)
    if monkeypatch is not None:
        monkeypatch.undo()
        del config.stash[MONKEYPATCH_KEY]
