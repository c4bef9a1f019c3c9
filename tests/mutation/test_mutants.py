"""The contract suite fails on every faulty variant of the mock, naming the rule, and passes on
every legitimate one (marked `mutation`: deselected unless --run-mutants).

The unmarked tests are quick checks of the catalogue itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.mutation import run_mutants
from tests.mutation.mutants import CATALOGUE, Variant

SUPPORT_DIR = Path(__file__).resolve().parents[1] / "contract" / "support"
REGISTERED_RULE = re.compile(r"^@(?:rules\.)?rule\(.*?^def (\w+)\(", re.DOTALL | re.MULTILINE)
TOKEN = "mock-token"
SEED_PROJECT_OFFICE = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"

VARIANTS = [pytest.param(variant, id=name) for name, variant in CATALOGUE.items()]


def suite_rules() -> set[str]:
    """The rule names the suite registers (read from its source, without importing it)."""
    found: set[str] = set()
    for source in SUPPORT_DIR.glob("*.py"):
        found |= set(REGISTERED_RULE.findall(source.read_text(encoding="utf-8")))
    return found


def test_catalogue_has_both_kinds() -> None:
    faulty = [v for v in CATALOGUE.values() if not v.legitimate]
    legitimate = [v for v in CATALOGUE.values() if v.legitimate]
    assert len(faulty) >= 15 and len(legitimate) >= 4


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_is_documented(variant: Variant) -> None:
    """Every variant says in its docstring what it breaks (or that it is legitimate)."""
    assert variant.summary, f"{variant.name} has no docstring"
    assert variant.legitimate == variant.summary.startswith("Legitimate:")


@pytest.mark.parametrize("variant", [p for p in VARIANTS if not p.values[0].legitimate])
def test_expected_rules_are_rules_of_the_suite(variant: Variant) -> None:
    unknown = set(variant.expects) - suite_rules()
    assert not unknown, f"{variant.name} expects rules the suite does not register: {sorted(unknown)}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_applies_and_undoes(variant: Variant) -> None:
    """The variant patches cleanly, the patched mock still serves a plain index, and undo restores."""
    from mock_server.app import create_app
    from mock_server.config import MockConfig

    monkeypatch = pytest.MonkeyPatch()
    try:
        variant.apply(monkeypatch)
        app = create_app(MockConfig(tokens=(TOKEN,)))
        with app.test_client() as client:
            answer = client.post("/v2/action/index", json={"per-page": 2}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
    finally:
        monkeypatch.undo()


@pytest.mark.mutation
@pytest.mark.parametrize("variant", VARIANTS)
def test_contract_suite_judges_variant(variant: Variant, request: pytest.FixtureRequest) -> None:
    timeout = request.config.getoption("--mutant-timeout", default=None) or run_mutants.DEFAULT_TIMEOUT_SECONDS
    outcome = run_mutants.run_variant(variant.name, timeout=timeout)
    assert outcome.ok, outcome.describe()
