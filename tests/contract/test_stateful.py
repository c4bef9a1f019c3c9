"""Schemathesis' state machine over the spec's links: create -> view / update / delete, and
parent -> child creates (an action's session, a session's date...), with the checks of
`schemathesis.toml` and the project's rules (support/st_checks.py) on every step.

Scenarios start at a create and follow the links of its 201 answer, so updates and deletes name
entities the scenario created. On a server others use meanwhile (not loopback, or shared by
pytest-xdist workers) a step that would update or delete any other id is dropped before it is
sent, a reference to a parent the run did not create becomes a uuid that names nothing
(`CreatedEntities.drop_foreign_parents`), and every entity the run created is deleted at the end;
when writes are refused the test is deselected (it cannot start without a create).

Every scenario has a seed (`hypothesis.seed` on the state machine): under a derandomized profile
(quick, debug) the same seeds every run, else drawn from `--hypothesis-seed` when given, or at
random. A failure's report names its seeds and how to run them again.
"""

from __future__ import annotations

from typing import Any

import hashlib
import math
import random

import hypothesis
import pytest
import schemathesis
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.generation.stateful.state_machine import APIStateMachine

from .support.st_checks import CreatedEntities
from .support.target import Target
from .support.st_reconcile import call_reconciled

# Scenarios per run under the quick profile (a profile asking for more gets its own number),
# shared among SCENARIO_GROUPS tests, so that pytest-xdist workers run them side by side: over a
# slow network, in one test, they were the longest test of the suite.
QUICK_SCENARIOS = 15
SCENARIO_GROUPS = 5




def scenario_settings(schema: schemathesis.BaseSchema) -> hypothesis.settings:
    """The loaded Hypothesis profile (derandomized under quick), at least QUICK_SCENARIOS
    scenarios, and the step bound of `schemathesis.toml` (`phases.stateful.max-steps`)."""
    profile = hypothesis.settings()
    return hypothesis.settings(
        profile,
        max_examples=max(profile.max_examples, QUICK_SCENARIOS),
        stateful_step_count=schema.config.phases.stateful.max_steps,
        phases=[hypothesis.Phase.generate],
        deadline=None,
        suppress_health_check=[
            # Schemathesis picks each step through a filter over its rules (the preconditions of
            # its links and roots, `_rule_is_enabled`): the rejections are its own step choice,
            # not a strategy of this suite (the thorough profile reaches the limit)
            hypothesis.HealthCheck.filter_too_much,
        ],
        database=None,
    )


def mock_state(target: Target) -> dict | None:
    """The whole state of a mock target (its /__mock/state control), None for other servers."""
    if not target.exclusive:
        return None
    response = target.client.get("/__mock/state")
    return response.json() if response.status_code == 200 else None


def restore(target: Target, state: dict) -> None:
    response = target.client.put("/__mock/state", json=state)
    assert response.status_code == 200, f"the mock refused its own state back: {response.text[:500]}"


def suite_workflow(
    schema: schemathesis.BaseSchema, target: Target, created: CreatedEntities, start: dict | None
) -> type[APIStateMachine]:
    base = schema.as_state_machine()

    class SuiteWorkflow(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            # Each scenario starts from the same state, so the answers (and with them the links
            # Hypothesis can follow) do not depend on earlier scenarios: replaying a scenario
            # replays the same steps.
            super().setup()
            if start is not None:
                restore(target, start)
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return target.schemathesis_kwargs()  # also what the checks' own requests are sent with

        def call(self, case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
            # creates carry the run marker; a lost create answer is reconciled (support/st_reconcile.py)
            return call_reconciled(case, target, created, **kwargs)  # type: ignore[no-any-return]

        def before_call(self, case: schemathesis.Case) -> None:
            super().before_call(case)
            if not target.exclusive:
                # only ids this run created are updated or deleted, and nothing hangs under
                # someone else's entity: other references become uuids that name nothing
                created.drop_foreign_target(case)
                created.drop_foreign_parents(case)

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            created.record(response, case)

    return SuiteWorkflow


def seed_number(given: str) -> int:
    """`--hypothesis-seed` as a number: an integer as written, any other text by its digest (Hypothesis
    takes any text as a seed; here seeds are counted from it)."""
    try:
        return int(given)
    except ValueError:
        return int.from_bytes(hashlib.sha256(given.encode()).digest()[:4], "big")


def scenario_base(chosen: hypothesis.settings, given_seed: str | None) -> int:
    """Where the seeds of a run's scenarios start: fixed under a derandomized profile (the same run
    everywhere), else `--hypothesis-seed` when given (a round is replayed with it), else random."""
    if chosen.derandomize:
        return 0
    if given_seed is not None:
        return seed_number(given_seed)
    return random.getrandbits(32)


def scenario_seeds(chosen: hypothesis.settings, group: int, base: int) -> range:
    """The seeds of one group's scenarios, each group its own, so that no two groups run the same
    scenarios."""
    per_group = math.ceil(chosen.max_examples / SCENARIO_GROUPS)
    first = base + group * per_group
    return range(first, first + per_group)


def replay_note(seeds: range, chosen: hypothesis.settings, base: int, given_seed: str | None) -> str:
    """How to run a failed group's scenarios again: they follow from the profile and the seed."""
    if chosen.derandomize:
        how = "a run with the same profile runs them again"
    else:
        how = f"--hypothesis-seed {given_seed if given_seed is not None else base} with the same profile runs them again"
    return f"state machine scenarios of seeds {seeds.start}..{seeds.stop - 1}: {how}"


def run_scenarios(workflow: type[APIStateMachine], chosen: hypothesis.settings, seeds: range, *, replayable: bool) -> None:
    """The scenarios of these seeds, in one Hypothesis run when each starts from the same state
    (`replayable`).

    On a server that others write to meanwhile (or whose state cannot be put back) the answers,
    and with them the links a scenario can follow, differ from one scenario to the next; in one
    run Hypothesis would take that for a strategy that depends on outside state
    (FlakyStrategyDefinition). There each scenario is a run of its own, with its own seed.
    `hypothesis.seed` on the state machine class seeds `run_state_machine_as_test`, and wins over
    `--hypothesis-seed` and `derandomize`."""
    if replayable:
        seeded = hypothesis.seed(seeds.start)(type(f"{workflow.__name__}From{seeds.start}", (workflow,), {}))
        run_state_machine_as_test(seeded, settings=hypothesis.settings(chosen, max_examples=len(seeds), derandomize=False))
        return
    for one_seed in seeds:
        one = hypothesis.seed(one_seed)(type(f"{workflow.__name__}Scenario{one_seed}", (workflow,), {}))
        run_state_machine_as_test(one, settings=hypothesis.settings(chosen, max_examples=1, derandomize=False))


@pytest.mark.writes
@pytest.mark.parametrize("group", range(SCENARIO_GROUPS), ids=lambda group: f"scenarios-{group + 1}-of-{SCENARIO_GROUPS}")
def test_linked_operations_keep_the_contract(
    st_schema: schemathesis.BaseSchema, target: Target, created: CreatedEntities, group: int, pytestconfig: pytest.Config
) -> None:
    start = mock_state(target)
    workflow = suite_workflow(st_schema, target, created, start)
    chosen = scenario_settings(st_schema)
    created_before = len(created.ids)
    given_seed = pytestconfig.getoption("--hypothesis-seed")  # Hypothesis' own pytest option
    base = scenario_base(chosen, given_seed)
    seeds = scenario_seeds(chosen, group, base)
    try:
        run_scenarios(workflow, chosen, seeds, replayable=start is not None)
    except Exception as failure:
        failure.add_note(replay_note(seeds, chosen, base, given_seed))
        raise
    finally:
        if start is not None:
            restore(target, start)
    # the scenarios reached past their first step: links were followed from created entities
    assert len(created.ids) > created_before, "no create answered 201, so no link was followed"
