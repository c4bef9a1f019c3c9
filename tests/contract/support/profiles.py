"""What a Hypothesis profile of the suite changes beyond Hypothesis' own settings: how much
Schemathesis sends per operation, how long the state machine's scenarios are, and which
parameter sets of the parametrized tests run.

Hypothesis' `max_examples` bounds every `@given` test of the suite, new ones included, with no
edit to them; Schemathesis' coverage phase, the state machine's step bound and pytest's
parameter sets are not Hypothesis settings, so a profile that must stay cheap (`smoke`: every
rule touched at least once in at most 1,500 requests against the mock) says here what it cuts
there. `st_checks.suite_config` applies it to every Schemathesis schema of the suite, the
plugin's collection hook to every test (`one_parameter_set`), each deselection printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings

SMOKE = "smoke"


@dataclass(frozen=True)
class Economy:
    """A profile's cuts outside Hypothesis' settings."""

    # merged into schemathesis.toml's data, table by table ({"phases": {"coverage": {...}}})
    schemathesis: Mapping[str, Any] = field(default_factory=dict)
    # of each parametrized test, only its first parameter set (for each value of the fixtures'
    # own `params`, such as Schemathesis' operation: those are kept whole)
    one_parameter_set: bool = False
    # after each change of the derived-inputs test, also search by the derived values it did not
    # change, once per resource and field (`verify.derived_searches`); the changed ones always are
    sweep_unchanged_derived_values: bool = True
    # the page sizes the edge sorts are walked with (2: ties fall across pages)
    edge_sort_page_sizes: tuple[int, ...] = (2, 100)
    # how the command hands tests to its workers: "worksteal" (long tests) or "loadfile" (each
    # module on one worker, so that its module fixtures are built once)
    dist: str = "worksteal"


ECONOMIES: dict[str, Economy] = {
    # One example per @given test (the profile), and per Schemathesis operation the spec's
    # examples and one generated case of each mode: no coverage phase (its negative cases are
    # tens per operation; the rule they judge, `malformed_input_is_400`, is also judged by the
    # fuzzing phase's negative case and by the suite's own malformed-input tests); scenarios of
    # the state machine of 3 steps; one parameter set of each test (every test function runs,
    # its other parameter sets are deselected with the reason printed); the derived-inputs searches
    # of changed values only and the edge sorts in pages of 100 (their rules are still judged:
    # ties across pages by test_pagination.py); the command's workers take whole modules.
    SMOKE: Economy(
        schemathesis={"phases": {"coverage": {"enabled": False}, "stateful": {"max-steps": 3}}},
        one_parameter_set=True,
        sweep_unchanged_derived_values=False,
        edge_sort_page_sizes=(100,),
        dist="loadfile",
    ),
}


def current_profile() -> str:
    return settings.get_current_profile_name()


def economy(profile: str | None = None) -> Economy:
    """The cuts of PROFILE (default: the loaded one); none for a profile not listed."""
    return ECONOMIES.get(profile or current_profile(), Economy())


def merged(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """DATA with OVERRIDES merged in, tables recursively (DATA is changed and returned)."""
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            merged(data[key], value)
        else:
            data[key] = dict(value) if isinstance(value, Mapping) else value
    return data


def _parametrized_names(item: Any) -> set[str]:
    """The argument names of the item's `@pytest.mark.parametrize` marks."""
    names: set[str] = set()
    for mark in item.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        names |= {name.strip() for name in argnames.split(",")} if isinstance(argnames, str) else set(argnames)
    return names


def first_parameter_sets(items: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(kept, dropped): of each test function, the first item of each combination of its
    fixtures' own params; every item that is not parametrized is kept."""
    seen: set[tuple[Any, ...]] = set()
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            kept.append(item)
            continue
        marked = _parametrized_names(item)
        fixture_params = tuple(sorted((name, repr(value)) for name, value in callspec.params.items() if name not in marked))
        key = (str(item.path), getattr(item, "originalname", item.name), fixture_params)
        if key in seen:
            dropped.append(item)
        else:
            seen.add(key)
            kept.append(item)
    return kept, dropped
