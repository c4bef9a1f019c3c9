"""A sampled mutmut run over the mock's domain rules, killed by the contract suite in-process.

    python tests/mutation/sampled.py                        # 200 mutants of seed 20261207, 2 jobs
    python tests/mutation/sampled.py --size 50 --seed 7     # another sample
    python tests/mutation/sampled.py --names NAME [NAME..]  # these mutants only (e.g. survivors)
    python tests/mutation/sampled.py --resume               # run only those of the sample not run yet
    python tests/mutation/sampled.py --report-only          # the report of what mutants/ holds

mutmut (configured in pyproject.toml, `[tool.mutmut]`) writes every mutant of
`mock_server/domain/` into `mutants/`; this script picks the sample (a fixed seed, so the same
source gives the same sample), lets `mutmut run` test only those, then reads mutmut's results and
writes the kill rate and the survivors (file, line, the mutation) to REPORTS/mutation-sampled.txt
and .json. Survivors are judged in `sampled_verdicts.toml` (equivalent, or the class of blind spot
it shows); a survivor not judged there counts as a blind spot. The exit status is non-zero when
less than TARGET of the non-equivalent mutants are killed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERDICTS_FILE = Path(__file__).with_name("sampled_verdicts.toml")
DEFAULT_SEED = 20261207
DEFAULT_SIZE = 200
TARGET = 0.90  # share of the non-equivalent mutants the contract suite must kill
KILLED_STATUSES = ("killed", "timeout")  # mutmut's statuses; a mutant that hangs the suite is caught
EQUIVALENT = "equivalent"
NOT_CHECKED = "not checked"  # mutmut's status of a mutant not run yet
# mutmut gives a mutant only the tests that called its function in the stats run, and it charges a
# call made in a module-scoped fixture (building the app: Rules.__init__, Derivations.__init__) to
# the module's first test alone; a survivor that a test it was not given kills, run by hand with
# MUTANT_UNDER_TEST (see the README), is judged this and counted as killed.
KILLED_UNSELECTED = "killed by a test mutmut did not select"
# A survivor of the run that a property added after it kills (run by hand with MUTANT_UNDER_TEST
# against the new test, named in `why`; the next run of the sample kills it itself).
KILLED_BY_NEW_PROPERTY = "killed by a new property"
# A mutant only the mock's own features can show (its controls, seed format, webhooks, log lines):
# outside the API the contract suite checks, killed by the mock's tests named in `why`.
OUTSIDE_CONTRACT = "outside the contract, killed by the mock's tests"
KILLED_KINDS = (KILLED_UNSELECTED, KILLED_BY_NEW_PROPERTY, OUTSIDE_CONTRACT)


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's name, e.g. mock_server.domain.computed.x_status__mutmut_3
    status: str  # mutmut's: killed, survived, no tests, timeout, suspicious, not checked...
    seconds: float  # wall time of the mutant's run (0 when no test was run)
    file: str
    line: int
    mutation: str  # "old line => new line", stripped

    @property
    def killed(self) -> bool:
        return self.status in KILLED_STATUSES


@dataclass(frozen=True)
class Verdict:
    kind: str  # "equivalent", or the kind of blind spot
    why: str


@dataclass(frozen=True)
class Summary:
    mutants: int
    killed: int
    equivalent: int
    kill_rate: float  # over all mutants of the sample
    kill_rate_non_equivalent: float
    survivors: list[dict[str, object]]
    seconds_per_mutant_mean: float
    seconds_per_mutant_max: float
    passed: bool
    not_run: int = 0  # mutants of the sample without a result yet
    outside_contract: int = 0  # survivors only the mock's own features show, killed by its tests
    killed_by_new_property: int = 0  # survivors a property added since kills (checked by hand)
    kill_rate_contract: float = 1.0  # the contract suite alone, over the mutants the API can show
    killed_after_run: list[dict[str, object]] = field(default_factory=list)  # survivors of the run killed by hand since


def choose(names: list[str], size: int, seed: int) -> list[str]:
    """The sample: `size` names drawn with `seed` from all of them (sorted first, so the order
    mutmut lists them in does not matter); all of them when there are no more than `size`."""
    pool = sorted(set(names))
    if len(pool) <= size:
        return pool
    return sorted(random.Random(seed).sample(pool, size))


def module_path(name: str) -> str:
    """The source file of a mutant name: mock_server.domain.rules.x_f__mutmut_1 -> mock_server/domain/rules.py."""
    module = name.partition("__mutmut_")[0].rpartition(".")[0]
    return module.replace(".", "/") + ".py"


def function_and_class(name: str) -> tuple[str, str | None]:
    """mutmut mangles `C.f` into `xǁCǁf` and a module-level `f` into `x_f`."""
    mangled = name.partition("__mutmut_")[0].rpartition(".")[2]
    if "ǁ" in mangled:
        _, cls, func = mangled.split("ǁ")
        return func, cls
    return mangled.removeprefix("x_"), None


def def_line(source: str, func: str, cls: str | None) -> int:
    """The line of `def func` (in class `cls`) in the original source."""
    tree = ast.parse(source)
    scopes: list[ast.AST] = [tree]
    if cls is not None:
        scopes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls]
    for scope in scopes:
        for node in ast.iter_child_nodes(scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
                return node.lineno
    raise LookupError(f"no def {func} (class {cls}) in the source")


def first_change(original: str, mutated: str) -> tuple[int, str]:
    """The first changed line of a function (0-based, counted from the `def` line) and the change."""
    old, new = original.splitlines(), mutated.splitlines()
    start = next(i for i, line in enumerate(old) if line.lstrip().startswith(("def ", "async def ")))
    # the def lines differ only in the mangled name: compare from the line after it
    matcher = difflib.SequenceMatcher(a=old[start + 1 :], b=new[start + 1 :], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = " ".join(line.strip() for line in old[start + 1 + a0 : start + 1 + a1]) or "(nothing)"
        after = " ".join(line.strip() for line in new[start + 1 + b0 : start + 1 + b1]) or "(nothing)"
        return a0 + 1, f"{before} => {after}"
    return 0, "(no change found)"


def locate(name: str, original_source: str, function_sources: tuple[str, str]) -> tuple[int, str]:
    """The line in the original file and the mutation, from the original and the mutated function."""
    func, cls = function_and_class(name)
    offset, change = first_change(*function_sources)
    return def_line(original_source, func, cls) + offset, change


def load_verdicts(path: Path = VERDICTS_FILE) -> dict[str, Verdict]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    return {name: Verdict(kind=entry["kind"], why=entry["why"]) for name, entry in data.items()}


def summarize(mutants: list[Mutant], verdicts: dict[str, Verdict], target: float = TARGET) -> Summary:
    """The rates over the mutants that were run (a sample not finished yet counts what it has)."""
    not_run = len([m for m in mutants if m.status == NOT_CHECKED])
    mutants = [m for m in mutants if m.status != NOT_CHECKED]
    def kind(m: Mutant) -> str:
        return verdicts.get(m.name, Verdict("", "")).kind

    survivors = [m for m in mutants if not m.killed and kind(m) not in KILLED_KINDS]
    equivalent = [m for m in survivors if kind(m) == EQUIVALENT]
    killed = len(mutants) - len(survivors)
    non_equivalent = len(mutants) - len(equivalent)
    rate_non_eq = killed / non_equivalent if non_equivalent else 1.0
    outside = [m for m in mutants if not m.killed and kind(m) == OUTSIDE_CONTRACT]
    by_new_property = [m for m in mutants if not m.killed and kind(m) == KILLED_BY_NEW_PROPERTY]
    # the contract suite alone, over the mutants the API can show
    api_visible = non_equivalent - len(outside)
    rate_contract = (killed - len(outside)) / api_visible if api_visible else 1.0
    times = [m.seconds for m in mutants if m.seconds > 0]
    rows = []
    for m in survivors:
        verdict = verdicts.get(m.name, Verdict("unjudged (counts as a blind spot)", ""))
        rows.append({**asdict(m), "kind": verdict.kind, "why": verdict.why})
    killed_after = [{**asdict(m), "kind": kind(m), "why": verdicts[m.name].why} for m in mutants if not m.killed and kind(m) in KILLED_KINDS]
    return Summary(
        mutants=len(mutants),
        killed=killed,
        equivalent=len(equivalent),
        kill_rate=killed / len(mutants) if mutants else 1.0,
        kill_rate_non_equivalent=rate_non_eq,
        survivors=rows,
        seconds_per_mutant_mean=sum(times) / len(times) if times else 0.0,
        seconds_per_mutant_max=max(times, default=0.0),
        passed=rate_non_eq >= target and not_run == 0,
        not_run=not_run,
        outside_contract=len(outside),
        killed_by_new_property=len(by_new_property),
        kill_rate_contract=rate_contract,
        killed_after_run=killed_after,
    )


def render(summary: Summary, seed: int | None, wall_seconds: float | None) -> str:
    lines = [
        f"mutation-sampled: {summary.mutants} mutants of mock_server/domain"
        + (f" (seed {seed})" if seed is not None else "")
        + ", killed by the contract suite in-process",
        f"  killed {summary.killed}/{summary.mutants} = {summary.kill_rate:.1%} of all;"
        f" {summary.equivalent} survivors equivalent;"
        f" killed {summary.kill_rate_non_equivalent:.1%} of the non-equivalent (target {TARGET:.0%})",
        # mutmut's fork server records no seconds for most mutants: the run's wall time per mutant says more
        f"  seconds mutmut recorded per mutant: mean {summary.seconds_per_mutant_mean:.1f} s, max {summary.seconds_per_mutant_max:.1f} s"
        + (f"; the whole run {wall_seconds:.0f} s, {wall_seconds / max(1, summary.mutants):.0f} s per mutant" if wall_seconds is not None else ""),
        f"  of the killed: {summary.killed_by_new_property} survivors of the run killed by a property added since (checked by hand),"
        f" {summary.outside_contract} outside the contract killed by the mock's tests; the contract suite alone kills"
        f" {summary.kill_rate_contract:.1%} of the non-equivalent mutants the API can show",
        f"  survivors ({len(summary.survivors)}):",
    ]
    if summary.not_run:
        lines.insert(1, f"  PARTIAL: {summary.not_run} mutants of the sample not run yet (tests/mutation/sampled.py --resume runs them)")
    for row in sorted(summary.survivors, key=lambda r: (str(r["file"]), int(str(r["line"])))):
        lines.append(f"    {row['file']}:{row['line']}  [{row['status']}; {row['kind']}]  {row['mutation']}")
        lines.append(f"        {row['name']}" + (f": {row['why']}" if row["why"] else ""))
    lines.append(f"  survivors of the run killed since, by hand ({len(summary.killed_after_run)}):")
    for row in sorted(summary.killed_after_run, key=lambda r: (str(r["file"]), int(str(r["line"])))):
        lines.append(f"    {row['file']}:{row['line']}  [{row['kind']}]  {row['mutation']}")
        lines.append(f"        {row['name']}: {row['why']}")
    verdict = "PASS" if summary.passed else ("INCOMPLETE" if summary.not_run else "FAIL")
    lines.append(f"  {verdict}: target {TARGET:.0%} of the non-equivalent mutants killed")
    return "\n".join(lines)


# --- mutmut (needs the working directory to be the project root) ---------------------------------


def generate(log: Path) -> list[str]:
    """Every mutant of the configured files, written into mutants/ by mutmut's own generator
    (which prints every file it reads: into the log)."""
    from mutmut import __main__ as mutmut_main
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, walk_mutatable_files

    mutmut_main.set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    with log.open("w") as out, contextlib.redirect_stdout(out):
        copy_src_dir()
        copy_also_copy_files()
        mutmut_main.create_mutants(max_children=os.cpu_count() or 2)
    names: list[str] = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        names += data.exit_code_by_key
    return names


# mutmut's exit codes of a mutant's run (mutmut.stats.status_by_exit_code of the pinned version):
# 1 a test failed, 3 pytest's internal error (both kills), 0 every test passed, 5 and 33 no test
# reaches the mutated function, the SIGXCPU and timeout codes; None: not run yet.
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", None: "not checked",
    2: "interrupted", 34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
    255: "timeout", 37: "caught by type check", -11: "segfault", -9: "segfault",
}


def read_results(names: list[str], root: Path = Path(".")) -> list[Mutant]:
    """The named mutants' results from mutmut's files under root/mutants (`<file>.meta`: the exit
    code and seconds of each mutant; `<file>.spans`: the lines of each generated function in the
    mutated file), located in the original file under root."""
    found: list[Mutant] = []
    by_file: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        by_file.setdefault(module_path(name), []).append(name)
    for path, file_names in by_file.items():
        mutated = root / "mutants" / path
        meta = json.loads(Path(f"{mutated}.meta").read_text())
        spans = json.loads(Path(f"{mutated}.spans").read_text())["spans"]
        mutated_lines = mutated.read_text().splitlines()
        original = (root / path).read_text()

        def function_source(mangled: str) -> str:
            start, end = spans[mangled]  # 1-based, inclusive
            return "\n".join(mutated_lines[start - 1 : end])

        for name in file_names:
            mangled = name.rpartition(".")[2]
            orig = mangled.partition("__mutmut_")[0] + "__mutmut_orig"
            line, change = locate(name, original, (function_source(orig), function_source(mangled)))
            code = meta["exit_code_by_key"].get(name)
            found.append(
                Mutant(
                    name=name,
                    status=STATUS_BY_EXIT_CODE.get(code, "suspicious"),
                    seconds=round(float(meta.get("durations_by_key", {}).get(name, 0.0)), 2),
                    file=path,
                    line=line,
                    mutation=change,
                )
            )
    return found


def run_mutmut(names: list[str], jobs: int, log: Path) -> int:
    """`mutmut run` on these mutants: the contract tests that reach each mutated function (mutmut's
    stats run records which), the cheapest first, stopping at the first failure (`-x`)."""
    mutmut = Path(sys.executable).with_name("mutmut")
    with log.open("w") as out:
        return subprocess.run([str(mutmut), "run", "--max-children", str(jobs), *names], stdout=out, stderr=subprocess.STDOUT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--names", nargs="+", help="these mutants instead of a sample")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first (mutmut's results and test stats)")
    parser.add_argument("--resume", action="store_true", help="run only the mutants of the sample that have no result yet")
    parser.add_argument("--report-only", action="store_true", help="no run: the report of the results in mutants/")
    parser.add_argument("--reports", type=Path, default=Path(os.environ.get("REPORTS", "reports")))
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    args.reports.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        shutil.rmtree("mutants", ignore_errors=True)
    names = generate(args.reports / "mutmut-generate.log")
    print(f"mutmut: {len(names)} mutants of mock_server/domain")
    sample = sorted(args.names) if args.names else choose(names, args.size, args.seed)
    seed = None if args.names else args.seed
    wall = None
    to_run = sample
    if args.resume:
        to_run = [m.name for m in read_results(sample) if m.status == NOT_CHECKED]
    if not args.report_only and to_run:
        log = args.reports / "mutmut.log"
        print(f"running {len(to_run)} of {len(sample)} mutants, {args.jobs} at a time (mutmut's output: {log})", flush=True)
        started = time.monotonic()
        status = run_mutmut(to_run, args.jobs, log)
        wall = time.monotonic() - started
        if status != 0:
            print(f"mutmut run failed (exit {status}); its output: {log}", file=sys.stderr)
            return status
    mutants = read_results(sample)
    summary = summarize(mutants, load_verdicts())
    text = render(summary, seed, wall)
    print(text)
    (args.reports / "mutation-sampled.txt").write_text(text + "\n")
    document = {"seed": seed, "wall_seconds": wall, "mutants": [asdict(m) for m in mutants], **asdict(summary)}
    (args.reports / "mutation-sampled.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
