"""The glue of the sampled mutation test (tests/mutation/sampled.py): the sample is fixed by its
seed, mutmut's result files are read into file, line and mutation, the kill rates count what
they say, and every judged survivor carries a known kind and a reason."""

from __future__ import annotations

import json
from pathlib import Path

from mutation.sampled import (
    EQUIVALENT,
    KILLED_BY_NEW_PROPERTY,
    KILLED_UNSELECTED,
    OUTSIDE_CONTRACT,
    VERDICTS_FILE,
    Mutant,
    Verdict,
    choose,
    function_and_class,
    load_verdicts,
    module_path,
    read_results,
    render,
    summarize,
)

# The kinds a survivor may be judged as: equivalent, or the blind spot it shows.
KINDS = {EQUIVALENT, KILLED_UNSELECTED, KILLED_BY_NEW_PROPERTY, OUTSIDE_CONTRACT, "blind spot", "derived value after its inputs change", "filter or sort at an edge"}

ORIGINAL = '''"""A module."""


def helper(x):
    return x + 1


class Box:
    size = 3

    @classmethod
    def grow(cls, n):
        """Grow."""
        total = n * 2
        return total
'''

# What mutmut writes for it: each function kept as __mutmut_orig plus its mutants (with their
# decorators), a trampoline under the original name, and line spans of each generated function.
MUTATED = '''"""A module."""


def x_helper__mutmut_orig(x):
    return x + 1


def x_helper__mutmut_1(x):
    return x - 1


class Box:
    size = 3

    @classmethod
    def xǁBoxǁgrow__mutmut_orig(cls, n):
        """Grow."""
        total = n * 2
        return total

    @classmethod
    def xǁBoxǁgrow__mutmut_1(cls, n):
        """Grow."""
        total = n / 2
        return total
'''


def mutmut_files(root: Path, exit_codes: dict[str, int | None], seconds: dict[str, float]) -> None:
    source = root / "pkg" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text(ORIGINAL)
    mutated = root / "mutants" / "pkg" / "mod.py"
    mutated.parent.mkdir(parents=True)
    mutated.write_text(MUTATED)
    spans = {"x_helper__mutmut_orig": [4, 5], "x_helper__mutmut_1": [8, 9],
             "xǁBoxǁgrow__mutmut_orig": [15, 19], "xǁBoxǁgrow__mutmut_1": [21, 25]}
    (root / "mutants" / "pkg" / "mod.py.spans").write_text(json.dumps({"version": 1, "spans": spans}))
    meta = {"exit_code_by_key": exit_codes, "hash_by_function_name": {}, "type_check_error_by_key": {},
            "durations_by_key": seconds, "estimated_durations_by_key": {}}
    (root / "mutants" / "pkg" / "mod.py.meta").write_text(json.dumps(meta))


def test_the_sample_is_fixed_by_its_seed_and_independent_of_listing_order() -> None:
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(1, 1001)]
    sample = choose(names, 200, seed=5)
    assert len(sample) == 200 == len(set(sample)) and set(sample) <= set(names)
    assert sample == sorted(sample)
    assert choose(list(reversed(names)), 200, seed=5) == sample
    assert choose(names, 200, seed=6) != sample
    assert choose(names[:150], 200, seed=5) == sorted(names[:150])  # fewer than the size: all


def test_mutant_names_map_to_their_file_function_and_class() -> None:
    assert module_path("mock_server.domain.rules.x_check__mutmut_3") == "mock_server/domain/rules.py"
    assert function_and_class("mock_server.domain.rules.x_check__mutmut_3") == ("check", None)
    assert function_and_class("mock_server.domain.computed.xǁDerivationsǁstatus__mutmut_12") == ("status", "Derivations")


def test_results_give_each_mutant_its_status_seconds_line_and_change(tmp_path: Path) -> None:
    mutmut_files(tmp_path, {"pkg.mod.x_helper__mutmut_1": 0, "pkg.mod.xǁBoxǁgrow__mutmut_1": 1},
                 {"pkg.mod.x_helper__mutmut_1": 12.5, "pkg.mod.xǁBoxǁgrow__mutmut_1": 3.25})
    found = {m.name: m for m in read_results(["pkg.mod.xǁBoxǁgrow__mutmut_1", "pkg.mod.x_helper__mutmut_1"], tmp_path)}
    helper, grow = found["pkg.mod.x_helper__mutmut_1"], found["pkg.mod.xǁBoxǁgrow__mutmut_1"]
    assert (helper.file, helper.line, helper.mutation, helper.status, helper.seconds) == (
        "pkg/mod.py", 5, "return x + 1 => return x - 1", "survived", 12.5)
    assert (grow.line, grow.mutation, grow.status, grow.killed) == (14, "total = n * 2 => total = n / 2", "killed", True)
    assert ORIGINAL.splitlines()[grow.line - 1].strip() == "total = n * 2"


def test_unrun_and_unreached_mutants_are_not_counted_killed(tmp_path: Path) -> None:
    mutmut_files(tmp_path, {"pkg.mod.x_helper__mutmut_1": 33, "pkg.mod.xǁBoxǁgrow__mutmut_1": None}, {})
    statuses = {m.status for m in read_results(["pkg.mod.x_helper__mutmut_1", "pkg.mod.xǁBoxǁgrow__mutmut_1"], tmp_path)}
    assert statuses == {"no tests", "not checked"}


def mutant(i: int, status: str, seconds: float = 1.0) -> Mutant:
    return Mutant(name=f"pkg.mod.x_f__mutmut_{i}", status=status, seconds=seconds, file="pkg/mod.py", line=i, mutation="a => b")


def test_kill_rates_over_all_and_over_the_non_equivalent() -> None:
    mutants = [mutant(i, "killed") for i in range(1, 18)] + [mutant(18, "timeout")]
    mutants += [mutant(19, "survived"), mutant(20, "no tests", 0.0)]
    verdicts = {"pkg.mod.x_f__mutmut_19": Verdict(EQUIVALENT, "cannot be observed")}
    summary = summarize(mutants, verdicts)
    assert (summary.mutants, summary.killed, summary.equivalent) == (20, 18, 1)
    assert summary.kill_rate == 18 / 20 and summary.kill_rate_non_equivalent == 18 / 19
    assert summary.passed  # 94.7% >= 90%
    unjudged = [row for row in summary.survivors if row["name"] == "pkg.mod.x_f__mutmut_20"]
    assert unjudged[0]["kind"].startswith("unjudged")
    assert summary.seconds_per_mutant_mean == 1.0  # mutants that ran no test are not timed
    text = render(summary, seed=3, wall_seconds=100.0)
    assert "pkg/mod.py:19" in text and "pkg/mod.py:20" in text and "94.7% of the non-equivalent" in text
    assert text.endswith("PASS: target 90% of the non-equivalent mutants killed")


def test_a_sample_not_finished_counts_what_was_run_and_does_not_pass() -> None:
    mutants = [mutant(1, "killed"), mutant(2, "survived"), mutant(3, "not checked", 0.0)]
    summary = summarize(mutants, {"pkg.mod.x_f__mutmut_2": Verdict(EQUIVALENT, "same answer")})
    assert (summary.mutants, summary.not_run, summary.kill_rate, summary.kill_rate_non_equivalent) == (2, 1, 0.5, 1.0)
    assert not summary.passed
    text = render(summary, seed=1, wall_seconds=None)
    assert "PARTIAL: 1 mutants of the sample not run yet" in text and "pkg/mod.py:3" not in text
    assert text.endswith("INCOMPLETE: target 90% of the non-equivalent mutants killed")


def test_a_survivor_killed_by_a_test_mutmut_did_not_select_counts_as_killed() -> None:
    mutants = [mutant(1, "killed"), mutant(2, "survived")]
    summary = summarize(mutants, {"pkg.mod.x_f__mutmut_2": Verdict(KILLED_UNSELECTED, "test_x kills it")})
    assert (summary.killed, summary.survivors, summary.kill_rate) == (2, [], 1.0)


def test_survivors_killed_since_count_as_killed_and_are_listed_and_the_contract_alone_is_rated_apart() -> None:
    mutants = [mutant(1, "killed"), mutant(2, "survived"), mutant(3, "survived"), mutant(4, "survived")]
    summary = summarize(mutants, {
        "pkg.mod.x_f__mutmut_2": Verdict(KILLED_BY_NEW_PROPERTY, "test_new fails"),
        "pkg.mod.x_f__mutmut_3": Verdict(OUTSIDE_CONTRACT, "test_mock fails"),
        "pkg.mod.x_f__mutmut_4": Verdict(EQUIVALENT, "same answer"),
    })
    assert (summary.killed, summary.equivalent, summary.kill_rate_non_equivalent) == (3, 1, 1.0)
    assert (summary.killed_by_new_property, summary.outside_contract) == (1, 1)
    assert summary.kill_rate_contract == 1.0  # 2 of the 2 the API can show (the outside one is not among them)
    assert [row["name"] for row in summary.killed_after_run] == ["pkg.mod.x_f__mutmut_2", "pkg.mod.x_f__mutmut_3"]
    text = render(summary, seed=None, wall_seconds=None)
    assert "test_new fails" in text and "test_mock fails" in text


def test_below_the_target_fails() -> None:
    mutants = [mutant(i, "killed") for i in range(1, 9)] + [mutant(9, "survived"), mutant(10, "survived")]
    summary = summarize(mutants, {"pkg.mod.x_f__mutmut_9": Verdict("blind spot", "no property")})
    assert summary.kill_rate_non_equivalent == 0.8 and not summary.passed
    assert "FAIL" in render(summary, seed=None, wall_seconds=None)


def test_every_judged_survivor_has_a_known_kind_and_a_reason() -> None:
    verdicts = load_verdicts(VERDICTS_FILE)
    for name, verdict in verdicts.items():
        assert verdict.kind in KINDS, f"{VERDICTS_FILE.name}: {name} is judged {verdict.kind!r}, not one of {sorted(KINDS)}"
        assert verdict.why.strip(), f"{VERDICTS_FILE.name}: {name} has no reason"
        assert "__mutmut_" in name and module_path(name).startswith("mock_server/domain/"), name


def test_verdicts_are_read_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.toml"
    path.write_text('["pkg.mod.x_f__mutmut_1"]\nkind = "equivalent"\nwhy = "same answer"\n')
    assert load_verdicts(path) == {"pkg.mod.x_f__mutmut_1": Verdict("equivalent", "same answer")}
    assert load_verdicts(tmp_path / "none.toml") == {}
