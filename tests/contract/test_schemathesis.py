"""Schemathesis over every operation of the spec: positive and negative data, the built-in checks
that fit the contract, and the project's rules as custom checks (support/st_checks.py).

Checks, phases, generation modes and reference data are those of `schemathesis.toml` (the `st`
command line's configuration), with the target's token and ids in place of the file's, and the
Hypothesis profile (quick by default, derandomized; thorough nightly) deciding how many examples
run. Which operations a target may receive: `st_checks.suite_config`.
"""

from __future__ import annotations


import pytest
import schemathesis

from .support.st_checks import (
    CUSTOM_CHECK_NAMES,
    CreatedEntities,
    load_schema,
    operation_params,
    suite_config,
)
from .support.st_reconcile import call_reconciled
from .support.target import (
    Target,
)




@pytest.fixture(autouse=True)
def _lazy_schema_node_id(request: pytest.FixtureRequest) -> None:
    """Schemathesis' fixture-loaded schemas read and rename `node._nodeid`, an attribute pytest 9
    no longer has (node ids live in `_id`): give the node one to read."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module", params=operation_params())
def st_schema_of_operation(target: Target, request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    """One operation of the contract: one test each, so that pytest-xdist workers share the
    Schemathesis pass (over a slow network, in one test, it was the longest of the suite)."""
    return load_schema(target, suite_config(target), operation=request.param)


schema = schemathesis.pytest.from_fixture("st_schema_of_operation")


@schema.parametrize()
def test_operation_keeps_the_contract(case: schemathesis.Case, created: CreatedEntities, target: Target) -> None:
    if not target.exclusive:
        created.drop_foreign_parents(case)  # never a child of someone else's entity
    over_one_connection = target.schemathesis_kwargs()
    response = call_reconciled(case, target, created, **over_one_connection)
    created.record(response, case)
    case.validate_response(response, transport_kwargs=over_one_connection or None)


@pytest.mark.parametrize("phase", ["examples", "coverage", "fuzzing", "stateful"])
def test_custom_checks_are_enabled(st_schema: schemathesis.BaseSchema, phase: str) -> None:
    """The project's rules run on every response of every phase: a configuration that turned them
    off would let the tests pass without judging them."""
    checks = st_schema.config.checks_config_for(phase=phase)
    disabled = [name for name in CUSTOM_CHECK_NAMES if not checks.get_by_name(name=name).enabled]
    assert not disabled, f"custom checks disabled by schemathesis.toml in the {phase} phase: {disabled}"
