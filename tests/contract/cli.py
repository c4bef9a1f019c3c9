"""`contract-4hse run`: the contract suite against one server, as one command.

It runs the suite in a child pytest twice, as a run against a server over a network must be run:
first every test that may run beside writers, on pytest-xdist workers (`--dist worksteal`), then
the tests that compare reads of whole data sets (`-m whole_dataset`) on their own. Each phase
writes a results file (`support/results.py`); the command merges the two, prints one summary
and exits with one code (EXIT_CODES). The child pytest reads only the suite's own ini file
(`contract.ini`) and plugin (`-p <package>.support.plugin`), never a checkout's configuration, so
the same command works from a checkout and from an installed wheel.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis.errors import InvalidArgument

from .support import plugin, profiles, results
from .support.report_junit import merge_junit

SUITE_DIR = Path(__file__).resolve().parent
# pytest imports the suite's modules by the name of their folder (its parent has no __init__.py
# and goes on sys.path): `contract` in a checkout, `contract_4hse` installed. The plugin must be
# that same module, or its options would be registered twice.
PACKAGE = SUITE_DIR.name
INI_FILE = SUITE_DIR / "contract.ini"
PROG = "contract-4hse"

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_PARTIAL = 4
EXIT_CODES = {
    EXIT_PASSED: "every test that ran passed and no rule broke",
    EXIT_FAILED: "a rule was broken or a test failed",
    EXIT_USAGE: "usage or configuration error: bad options, a token or URL the target refuses, no test selected; nothing was judged",
    EXIT_INCOMPLETE: "pytest was interrupted or crashed: no verdict",
    EXIT_PARTIAL: "the run stopped early (--max-requests spent): what ran passed, the rest was not judged",
}
PYTEST_INTERRUPTED, PYTEST_INTERNAL_ERROR, PYTEST_USAGE_ERROR, PYTEST_NO_TESTS = 2, 3, 4, 5

# 10: the run waits on the network, not on the processor, so more workers than cores pay off;
# through a 100 ms proxy 10 workers were the fastest measured and 16 no faster (README).
DEFAULT_WORKERS = 10
# Options of the suite's plugin that the command sets itself (or that are its own business).
OWN_OPTIONS = ("--target-url", "--results-json", "--token")
EXCLUSIVE_MODES = ("--allow-writes", "--read-only")
# Settings of a parent pytest the child must not inherit (a test that runs the command under
# pytest-xdist would make the child count its parent's workers).
PARENT_ONLY_PREFIXES = ("PYTEST_XDIST_", "PYTEST_CURRENT_TEST")
# what the command's own options decide: the environment of the shell it runs in must not decide
# it again in the children (a CONTRACT_MAX_REQUESTS there would give each phase the whole budget)
DECIDED_BY_THE_COMMAND = ("CONTRACT_MAX_REQUESTS", "CONTRACT_RATE_LIMIT", "CONTRACT_READ_ONLY", "CONTRACT_ALLOW_WRITES", "CONTRACT_PROFILE", "CONTRACT_TARGET_URL")
WHOLE_DATASET = plugin.WHOLE_DATASET_MARKER


@dataclass(frozen=True)
class Phase:
    name: str
    marker: str  # the `-m` expression of the phase
    workers: int
    worksteal: bool


class _OptionRecorder:
    """Stands in for pytest's parser: records the plugin's options, so that the command offers
    them with the plugin's own help texts."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def getgroup(self, *_: Any, **__: Any) -> _OptionRecorder:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.options.append((names, kwargs))


def suite_options() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    recorder = _OptionRecorder()
    plugin.pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder.options


def _profile(name: str) -> str:
    try:
        settings.get_profile(name)
    except InvalidArgument:
        raise argparse.ArgumentTypeError(f"no Hypothesis profile {name!r} in the suite (support/plugin.py)") from None
    return name


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The 4HSE API v2 contract suite against one server.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="check a server against the contract",
        usage=f"{PROG} run --target URL --token T [options] [-- PYTEST-ARGS...]",
        description="Run the contract suite against URL: the tests that may share the server with writers on "
        "workers, then the whole-data-set tests on their own. Arguments after `--` go to both pytest runs "
        "(e.g. -k EXPR to choose tests, -x, -q; not -m, which the command sets per phase).",
        epilog="exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--target", default=os.environ.get("CONTRACT_TARGET_URL"), metavar="URL",
                     help="base URL of the server, its path prefix included, without /v2 [CONTRACT_TARGET_URL]")
    run.add_argument("--token", default=os.environ.get("CONTRACT_TOKEN"), metavar="T",
                     help="API token of that server; given to the suite in its environment, not on its command line [CONTRACT_TOKEN]")
    run.add_argument("--profile", type=_profile, default=plugin.DEFAULT_PROFILE,
                     help=f"the suite's Hypothesis profile (support/plugin.py): {plugin.DEFAULT_PROFILE} (default; derandomized, few "
                     "examples, as CI), smoke (every rule at least once in at most 1,500 requests), thorough (random, many examples, "
                     "nightly), debug, randomized")
    run.add_argument("--workers", type=_positive, default=DEFAULT_WORKERS, metavar="N",
                     help=f"pytest-xdist workers of each phase (default {DEFAULT_WORKERS}): against a remote server the run waits on "
                     "the network, not the processor, so more workers than cores pay off (10 measured fastest through a 100 ms "
                     "proxy, 16 no faster); against a server on this machine, about its cores")
    run.add_argument("--rate-limit", metavar="RATE", help="at most this many requests over all workers, e.g. 10/s (the suite's --rate-limit)")
    run.add_argument("--max-requests", type=_positive, metavar="N",
                     help="stop cleanly after N requests (the suite's --max-requests); the whole-data-set phase gets what the first left")
    run.add_argument("--report", type=Path, metavar="DIR", help="write DIR/results.json, DIR/junit.xml (both phases) and DIR/report.html")
    modes = run.add_mutually_exclusive_group()
    for names, kwargs in suite_options():
        if names[0] in OWN_OPTIONS or names[0] in ("--rate-limit", "--max-requests"):
            continue
        passed = {key: kwargs[key] for key in ("action", "type", "choices", "metavar") if key in kwargs}
        target = modes if names[0] in EXCLUSIVE_MODES else run
        target.add_argument(*names, **passed, default=argparse.SUPPRESS, help=kwargs.get("help"))
    run.set_defaults(run_parser=run)
    return parser


def split_extra(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The command's arguments, and the pytest arguments after `--`."""
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def passthrough(args: argparse.Namespace) -> list[str]:
    """The suite's options given to the command, as pytest arguments (only those given: the
    suite reads its defaults and environment variables itself)."""
    given = vars(args)
    arguments: list[str] = []
    for names, kwargs in suite_options():
        dest = names[0].lstrip("-").replace("-", "_")
        if names[0] in OWN_OPTIONS or dest not in given or dest in ("rate_limit", "max_requests"):
            continue
        value = given[dest]
        if kwargs.get("action") == "store_true":
            arguments += [names[0]] if value else []
        elif kwargs.get("action") == "append":
            for each in value:
                arguments += [names[0], str(each)]
        else:
            arguments += [names[0], str(value)]
    return arguments


def child_environment(token: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(PARENT_ONLY_PREFIXES) and key not in DECIDED_BY_THE_COMMAND}
    path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = os.pathsep.join([str(SUITE_DIR.parent), *([path] if path else [])])
    environment["CONTRACT_TOKEN"] = token
    return environment


def phase_command(args: argparse.Namespace, extra: list[str], phase: Phase, results_file: Path, junit_file: Path | None,
                  max_requests: int | None) -> list[str]:
    command = [
        sys.executable, "-m", "pytest", str(SUITE_DIR), "--rootdir", str(SUITE_DIR), "-c", str(INI_FILE),
        "-p", f"{PACKAGE}.support.plugin", "-p", "no:cacheprovider",
        "--target-url", args.target, *passthrough(args), "--hypothesis-profile", args.profile,
        "--results-json", str(results_file), "-m", phase.marker,
    ]
    if phase.workers > 1:
        command += ["-n", str(phase.workers)] + (["--dist", profiles.economy(args.profile).dist] if phase.worksteal else [])
    if junit_file is not None:
        command.append(f"--junitxml={junit_file}")
    if args.rate_limit:
        command += ["--rate-limit", args.rate_limit]
    if max_requests is not None:
        command += ["--max-requests", str(max_requests)]
    return [*command, *extra]


def usage_problem(args: argparse.Namespace, extra: list[str]) -> str | None:
    if not args.target:
        return "--target URL is required (or CONTRACT_TARGET_URL)"
    if not args.token:
        return "--token T is required (or CONTRACT_TOKEN)"
    if any(word == "-m" or word.startswith("-m") and not word.startswith("--") for word in extra):
        return "-m after `--`: the command sets -m per phase; choose tests with -k"
    if getattr(args, "allow_writes", False) and not (getattr(args, "tenant_id", None) or os.environ.get("CONTRACT_TENANT_ID")):
        return "--allow-writes needs --tenant-id: the project the run may create (and delete its own) entities in"
    return None


def _say(line: str) -> None:
    print(f"{PROG}: {line}", flush=True)


def run_phase(args: argparse.Namespace, extra: list[str], phase: Phase, workdir: Path, max_requests: int | None,
              with_junit: bool) -> tuple[int, dict[str, Any] | None, Path | None]:
    results_file = workdir / f"results-{phase.name}.json"
    junit_file = workdir / f"junit-{phase.name}.xml" if with_junit else None
    _say(f"phase {phase.name}: -m '{phase.marker}'" + (f", {phase.workers} workers" if phase.workers > 1 else ""))
    done = subprocess.run(phase_command(args, extra, phase, results_file, junit_file, max_requests), check=False,
                          env=child_environment(args.token))
    try:
        return done.returncode, results.read(results_file), junit_file
    except results.ResultsError:
        return done.returncode, None, None


def write_report(directory: Path, merged: dict[str, Any], junit_files: list[Path]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    results.write(directory / "results.json", merged)
    if junit_files:
        merge_junit(junit_files, directory / "junit.xml")
    written = [directory / "results.json", *([directory / "junit.xml"] if junit_files else [])]
    # The HTML page comes with support/report_html.py; a suite without it writes the rest.
    if importlib.util.find_spec(f"{__package__}.support.report_html") is None:
        _say("no report.html: this version of the suite has no support/report_html.py")
    else:
        from .support import report_html  # type: ignore[attr-defined]

        report_html.write_report(merged, directory / "report.html")
        written.append(directory / "report.html")
    _say("report: " + ", ".join(str(path) for path in written))


def verdict(merged: dict[str, Any] | None, returncodes: list[int]) -> int:
    if merged is None:
        return EXIT_USAGE if PYTEST_USAGE_ERROR in returncodes else EXIT_INCOMPLETE
    if merged["configuration_errors"] or PYTEST_USAGE_ERROR in returncodes:
        return EXIT_USAGE
    if all(code == PYTEST_NO_TESTS for code in returncodes):
        return EXIT_USAGE
    if not results.is_green(merged):
        return EXIT_FAILED
    if PYTEST_INTERRUPTED in returncodes or PYTEST_INTERNAL_ERROR in returncodes:
        return EXIT_INCOMPLETE
    if merged["partial"]:
        return EXIT_PARTIAL
    return EXIT_PASSED


def second_phase(first: dict[str, Any], max_requests: int | None) -> tuple[str | None, int | None]:
    """Why the whole-data-set phase does not run after this first phase (None: it runs), and the
    requests it may send: what the first left of --max-requests."""
    left = None if max_requests is None else max_requests - first["requests"]
    if first["configuration_errors"]:
        return "the first phase met a configuration error", left
    if first["partial"]:
        return f"the first phase stopped early ({first['partial_reason']})", left
    if left is not None and left <= 0:
        return f"the first phase spent the request budget (--max-requests {max_requests})", left
    return None, left


def run(args: argparse.Namespace, extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="contract-4hse-") as temporary:
        workdir = Path(temporary)
        with_junit = args.report is not None
        beside = Phase("beside-writers", f"not {WHOLE_DATASET}", args.workers, worksteal=True)
        alone = Phase(WHOLE_DATASET, WHOLE_DATASET, args.workers, worksteal=False)
        code_1, first, junit_1 = run_phase(args, extra, beside, workdir, args.max_requests, with_junit)
        returncodes = [code_1]
        junit_files = [junit_1] if junit_1 else []
        if first is None:
            merged = None
        else:
            skipped, left = second_phase(first, args.max_requests)
            if skipped is None:
                code_2, second, junit_2 = run_phase(args, extra, alone, workdir, left, with_junit)
                returncodes.append(code_2)
                junit_files += [junit_2] if junit_2 else []
                if second is None:
                    second = results.not_run(first, f"the whole-data-set phase wrote no results (pytest exit {code_2})")
            else:
                second = results.not_run(first, f"the whole-data-set tests did not run: {skipped}")
            merged = results.merge(first, second)
        if merged is not None and args.report is not None:
            write_report(args.report, merged, junit_files)
    code = verdict(merged, returncodes)
    print(f"\n{'=' * 30} {PROG} summary {'=' * 30}")
    for line in results.summary_lines(merged) if merged is not None else [f"pytest wrote no results (exit {returncodes})"]:
        print(line)
    print(f"exit {code}: {EXIT_CODES[code]}", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    own, extra = split_extra(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(own)  # exits 2 on a usage error, as argparse does
    problem = usage_problem(args, extra)
    if problem is not None:
        args.run_parser.error(problem)
    return run(args, extra)
