"""The results file of a run (`--results-json PATH`), two phases' files merged into one, and the
summary the command prints from it.

One JSON object, these keys and no others (the command's summary, `--report DIR`'s
`results.json` and its HTML page all read it):

    target, profile, seconds, requests, retries, partial, partial_reason,
    tests {passed, failed, errors, deselected},
    rules [{name, statement, checks, broken, failures [{test, message, exchange, curl}]}],
    failed_tests [{test, rules, reason}], deselected_reasons, configuration_errors

`rules` lists every rule of the suite, also those the run did not exercise (checks 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULT_KEYS = (
    "target", "profile", "seconds", "requests", "retries", "partial", "partial_reason",
    "tests", "rules", "failed_tests", "deselected_reasons", "configuration_errors",
)
TEST_COUNTS = ("passed", "failed", "errors", "deselected")
SHOWN_FAILURES_PER_RULE = 3


@dataclass(frozen=True)
class RuleFailure:
    """One broken check of a rule, as a failed test reported it."""

    test: str
    message: str
    exchange: str
    curl: str


class ResultsError(ValueError):
    """A results file that is missing, not JSON, or not of this shape."""


def build(
    *,
    target: str,
    profile: str,
    seconds: float,
    requests: int,
    retries: int,
    stop_reasons: Sequence[str],
    tests: Mapping[str, int],
    statements: Mapping[str, str],
    checks: Mapping[str, int],
    broken: Iterable[str],
    failures: Mapping[str, Sequence[RuleFailure]],
    failed_tests: Mapping[str, Sequence[tuple[str | None, str]]],
    deselected_reasons: Sequence[str],
    configuration_errors: Sequence[str],
) -> dict[str, Any]:
    """The results of one pytest session; `failed_tests`: node id -> (rule or None, reason) of each cause."""
    broken = set(broken)
    names = sorted(set(statements) | set(checks) | broken)
    # a configuration error is said once, in its own key
    reasons = list(dict.fromkeys(
        [*(["stopped by a configuration error"] if configuration_errors else []),
         *(reason for reason in stop_reasons if reason not in configuration_errors)]))
    return {
        "target": target,
        "profile": profile,
        "seconds": round(seconds, 1),
        "requests": requests,
        "retries": retries,
        "partial": bool(reasons),
        "partial_reason": "; ".join(reasons) or None,
        "tests": {key: int(tests.get(key, 0)) for key in TEST_COUNTS},
        "rules": [
            {
                "name": name,
                "statement": statements.get(name, ""),
                "checks": int(checks.get(name, 0)),
                "broken": name in broken,
                "failures": [asdict(failure) for failure in failures.get(name, ())],
            }
            for name in names
        ],
        "failed_tests": [
            {
                "test": nodeid,
                "rules": sorted({rule for rule, _ in causes if rule}),
                "reason": "; ".join(dict.fromkeys(reason for _, reason in causes)) or "see the test's failure in the run's output",
            }
            for nodeid, causes in failed_tests.items()
        ],
        "deselected_reasons": list(deselected_reasons),
        "configuration_errors": list(configuration_errors),
    }


def write(path: Path, results: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: results[key] for key in RESULT_KEYS}, indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, Any]:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsError(f"no results in {path}: {error}") from None
    if not isinstance(results, dict) or set(results) != set(RESULT_KEYS):
        raise ResultsError(f"{path} is not a results file of the suite (keys {sorted(results) if isinstance(results, dict) else type(results).__name__})")
    return results


def merge(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Two phases of one run (the tests beside writers, then the whole-data-set tests) as one.

    Every test ran in at most one phase, each phase deselecting the other's: a test was left out
    of the run when the first phase deselected it and the second did not run it."""
    tests_1, tests_2 = first["tests"], second["tests"]
    ran_2 = tests_2["passed"] + tests_2["failed"] + tests_2["errors"]
    rules: dict[str, dict[str, Any]] = {}
    for rule in [*first["rules"], *second["rules"]]:
        merged = rules.setdefault(rule["name"], {**rule, "checks": 0, "broken": False, "failures": []})
        merged["statement"] = merged["statement"] or rule["statement"]
        merged["checks"] += rule["checks"]
        merged["broken"] = merged["broken"] or rule["broken"]
        merged["failures"] = [*merged["failures"], *rule["failures"]]
    reasons = [reason for reason in (first["partial_reason"], second["partial_reason"]) if reason]
    return {
        "target": first["target"] or second["target"],
        "profile": first["profile"] or second["profile"],
        "seconds": round(first["seconds"] + second["seconds"], 1),
        "requests": first["requests"] + second["requests"],
        "retries": first["retries"] + second["retries"],
        "partial": bool(first["partial"] or second["partial"]),
        "partial_reason": "; ".join(reasons) or None,
        "tests": {
            "passed": tests_1["passed"] + tests_2["passed"],
            "failed": tests_1["failed"] + tests_2["failed"],
            "errors": tests_1["errors"] + tests_2["errors"],
            "deselected": max(0, tests_1["deselected"] - ran_2),
        },
        "rules": [rules[name] for name in sorted(rules)],
        "failed_tests": [*first["failed_tests"], *second["failed_tests"]],
        "deselected_reasons": list(dict.fromkeys([*first["deselected_reasons"], *second["deselected_reasons"]])),
        "configuration_errors": list(dict.fromkeys([*first["configuration_errors"], *second["configuration_errors"]])),
    }


def not_run(first: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """Empty results of a phase that did not start (its merge with the first marks the run partial)."""
    return build(target=first["target"], profile=first["profile"], seconds=0.0, requests=0, retries=0, stop_reasons=[reason],
                 tests={}, statements={}, checks={}, broken=(), failures={}, failed_tests={}, deselected_reasons=[],
                 configuration_errors=[])


def is_green(results: Mapping[str, Any]) -> bool:
    """Every test that ran passed and no rule broke (a partial run may still be green)."""
    tests = results["tests"]
    return not (tests["failed"] or tests["errors"] or results["failed_tests"] or any(rule["broken"] for rule in results["rules"]))


def _indented(text: str, prefix: str = "          ") -> list[str]:
    return [f"{prefix}{line}" for line in text.splitlines()]


def summary_lines(results: Mapping[str, Any]) -> list[str]:
    """The end of a run, for a person: what was checked, what broke and how to repeat it, what it cost."""
    lines = [f"target {results['target']}, hypothesis profile {results['profile']}"]
    if results["configuration_errors"]:
        lines += results["configuration_errors"][:1]
    checked = [rule for rule in results["rules"] if rule["checks"] or rule["broken"]]
    held = [rule for rule in checked if not rule["broken"]]
    broken = [rule for rule in checked if rule["broken"]]
    if checked:
        lines.append(f"rules checked ({len(checked)}): {len(held)} held, {len(broken)} broken")
        lines += [f"  ok    {rule['name']} ({rule['checks']} checks)" for rule in held]
    for rule in broken:
        lines.append(f"  BROKE {rule['name']} ({rule['checks']} checks): {rule['statement']}")
        for failure in rule["failures"][:SHOWN_FAILURES_PER_RULE]:
            lines.append(f"        in {failure['test']}: {failure['message'].splitlines()[0] if failure['message'] else ''}")
            lines += _indented(failure["exchange"])
            if failure["curl"] and failure["curl"] not in failure["exchange"]:  # rendered exchanges end with it
                lines.append(f"          Reproduce: {failure['curl']}")
        if len(rule["failures"]) > SHOWN_FAILURES_PER_RULE:
            lines.append(f"        ... and {len(rule['failures']) - SHOWN_FAILURES_PER_RULE} more failures of this rule")
    failed_without_rule = [test for test in results["failed_tests"] if not test["rules"]]
    if failed_without_rule:
        lines.append(f"failed tests that broke no rule ({len(failed_without_rule)}):")
        lines += [f"  FAIL  {test['test']}: {test['reason']}" for test in failed_without_rule[:20]]
    tests = results["tests"]
    lines.append(f"tests: {tests['passed']} passed, {tests['failed']} failed, {tests['errors']} errors, {tests['deselected']} deselected")
    lines += [f"  {reason}" for reason in results["deselected_reasons"]]
    lines.append(f"requests sent: {results['requests']}, retries: {results['retries']}, time: {results['seconds']:.1f} s")
    lines.append(f"partial: yes, {results['partial_reason']}" if results["partial"] else "partial: no, the run went to its end")
    return lines
