"""Run the contract suite once per variant of the mock and tell which faulty variants it catches.

    python tests/mutation/run_mutants.py                    # the whole catalogue
    python tests/mutation/run_mutants.py page_count_floor ids_uuid1 --jobs 2 --timeout 600

Each run is `python -m pytest tests/contract -x -q -m "not suite_self_test" -p tests.mutation.apply --mutant NAME` in a
fresh process (with its own Hypothesis example database, so runs do not feed each other). A
faulty variant is caught when the run fails and its output names the rule the variant breaks
("Rule broken [<rule>]"); a legitimate variant must pass. The exit status is non-zero when a
faulty variant is not caught or a legitimate one fails.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# importing the mock imports Connexion, which warns about Starlette's test client: not ours to fix
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

from tests.mutation.mutants import CATALOGUE, Variant  # noqa: E402

DEFAULT_TIMEOUT_SECONDS = 900
SUITE_PATH = "tests/contract"
NAMED_RULE = re.compile(r"Rule broken \[([A-Za-z0-9_]+)\]")

CAUGHT, WRONG_RULE, MISSED = "caught", "wrong rule", "missed"
PASSED, WRONGLY_FAILED = "passed", "wrongly failed"
TIMEOUT, ERROR = "timeout", "error"


@dataclass(frozen=True)
class Outcome:
    variant: Variant
    actual: str
    exit_code: int | None
    named_rules: tuple[str, ...]  # rules named in the failure output, first named first
    seconds: float
    log: Path | None

    @property
    def expected(self) -> str:
        return PASSED if self.variant.legitimate else CAUGHT

    @property
    def ok(self) -> bool:
        return self.actual == self.expected

    @property
    def shown_rule(self) -> str:
        matching = [r for r in self.named_rules if r in self.variant.expects]
        shown = matching[:1] or list(self.named_rules[:1])
        return shown[0] if shown else "-"

    def describe(self) -> str:
        """One paragraph for an assertion message."""
        expects = ", ".join(self.variant.expects) or "no rule (legitimate)"
        named = ", ".join(self.named_rules) or "none"
        where = f"; output in {self.log}" if self.log else ""
        return (
            f"{self.variant.name}: {self.actual} (expected {self.expected}); exit {self.exit_code}; "
            f"rules named: {named}; expected rule: {expects}{where}\n  {self.variant.summary}"
        )


def suite_command(name: str, extra: list[str] | None = None) -> list[str]:
    variant_args = list(CATALOGUE[name].suite_args) if name in CATALOGUE else []
    # the suite's tests of its own machinery (on mocks of their own) judge no server: left out
    return [sys.executable, "-m", "pytest", SUITE_PATH, "-x", "-q", "-m", "not suite_self_test", "-p", "tests.mutation.apply",
            "--mutant", name, *variant_args, *(extra or [])]


def named_rules(output: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(NAMED_RULE.findall(output)))


def classify(variant: Variant, exit_code: int | None, rules: tuple[str, ...]) -> str:
    if exit_code is None:
        return TIMEOUT
    if exit_code not in (0, 1):  # interrupted, internal error, usage error, nothing collected
        return ERROR
    if variant.legitimate:
        return PASSED if exit_code == 0 else WRONGLY_FAILED
    if exit_code == 0:
        return MISSED
    return CAUGHT if set(rules) & set(variant.expects) else WRONG_RULE


def _run(command: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run in its own process group; on timeout stop that group (only what this call started)."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output


def run_variant(name: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, logs: Path | None = None, extra: list[str] | None = None) -> Outcome:
    variant = CATALOGUE[name]
    with tempfile.TemporaryDirectory(prefix=f"hypothesis-{name}-") as storage:
        env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": storage, "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.monotonic()
        exit_code, output = _run(suite_command(name, extra), env, timeout)
        seconds = time.monotonic() - started
    log = None
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        log.write_text(output, encoding="utf-8")
    rules = named_rules(output)
    return Outcome(variant, classify(variant, exit_code, rules), exit_code, rules, seconds, log)


def run_all(names: list[str], jobs: int, timeout: float, logs: Path | None, extra: list[str] | None = None, progress: bool = True) -> list[Outcome]:
    def one(name: str) -> Outcome:
        outcome = run_variant(name, timeout, logs, extra)
        if progress:
            print(f"  {name}: {outcome.actual} ({outcome.shown_rule}, {outcome.seconds:.0f}s)", file=sys.stderr, flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, names))


def table(outcomes: list[Outcome]) -> str:
    header = ("variant", "expected", "actual", "rule named", "rule expected", "time")
    rows = [
        (o.variant.name, o.expected, o.actual, o.shown_rule, o.variant.rule, f"{o.seconds:.0f}s")
        for o in outcomes
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def summary(outcomes: list[Outcome]) -> tuple[str, bool]:
    faulty = [o for o in outcomes if not o.variant.legitimate]
    legit = [o for o in outcomes if o.variant.legitimate]
    caught = [o for o in faulty if o.actual == CAUGHT]
    legit_ok = all(o.ok for o in legit)
    lines = []
    if faulty:
        rate = 100.0 * len(caught) / len(faulty)
        lines.append(f"catch rate: {len(caught)}/{len(faulty)} faulty variants caught ({rate:.0f}%)")
    if legit:
        passed = sum(o.ok for o in legit)
        lines.append(f"legitimate variants: {passed}/{len(legit)} passed" + (" (all passed)" if legit_ok else ""))
    problems = [o for o in outcomes if not o.ok]
    if problems:
        lines.append("not as expected:")
        lines += [f"- {o.describe()}" for o in problems]
    return "\n".join(lines), len(caught) == len(faulty) and legit_ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", help="only these variants (default: the whole catalogue)")
    parser.add_argument("--jobs", "-j", type=int, choices=(1, 2), default=1, help="runs at the same time (1 or 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds per run (default %(default)s)")
    parser.add_argument("--logs", type=Path, default=None, help="keep each run's output in DIR/<variant>.log")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--pytest-arg", action="append", default=[], dest="pytest_args", help="extra argument for each suite run")
    return parser.parse_args(argv)


def list_catalogue() -> str:
    rows = [(v.name, "legitimate" if v.legitimate else v.rule, v.summary) for v in CATALOGUE.values()]
    width = max(len(r[0]) for r in rows)
    kind_width = max(len(r[1]) for r in rows)
    return "\n".join(f"{n.ljust(width)}  {k.ljust(kind_width)}  {s}" for n, k, s in rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print(list_catalogue())
        return 0
    unknown = [name for name in args.variants if name not in CATALOGUE]
    if unknown:
        print(f"unknown variants: {', '.join(unknown)}; --list shows the catalogue", file=sys.stderr)
        return 2
    names = args.variants or list(CATALOGUE)
    print(f"running the contract suite against {len(names)} variants (jobs {args.jobs}, timeout {args.timeout:.0f}s)", file=sys.stderr)
    outcomes = run_all(names, args.jobs, args.timeout, args.logs, args.pytest_args)
    print(table(outcomes))
    text, all_ok = summary(outcomes)
    print()
    print(text)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
