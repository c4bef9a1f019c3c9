"""The pipeline files users copy are valid YAML and run only steps the project provides; they
publish as test results only JUnit files that are their steps' verdicts; every step prints its
seconds; every job's timeout leaves a margin over its steps' seconds (README, "CI")."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "ci" / "pipeline.sh"
PIPELINE_FILES = [ROOT / "ci" / "github" / "contract-suite.yml", ROOT / "ci" / "gitlab" / ".gitlab-ci.yml"]


def pipeline_steps() -> set[str]:
    """The subcommands ci/pipeline.sh dispatches on (its `case` labels)."""
    text = PIPELINE.read_text()
    block = text[text.index('case "${1:-all}" in') :]
    return set(re.findall(r"^\s*([a-z-]+)\)", block, flags=re.M))


def commands_in(node: object) -> list[str]:
    """Every shell command of a GitHub `run:` or a GitLab `script:` list, however nested."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key in ("script", "before_script") and isinstance(value, list):
                found.extend(str(v) for v in value)
            else:
                found.extend(commands_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(commands_in(item))
    return found


def readme_test_command() -> str:
    """The README's second set-up command (the one that runs the tests)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- setup:test -->\s*```(?:bash|sh)?\n(.*?)```", text, flags=re.S)
    assert block, "README.md has no block marked <!-- setup:test -->"
    return block.group(1).strip()


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: p.name)
def test_pipeline_file_is_valid_yaml_and_calls_only_pipeline_steps(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    commands = [c for c in commands_in(document) if "ci/pipeline.sh" in c]
    assert commands, f"{path.name} never calls ci/pipeline.sh"
    steps = pipeline_steps()
    for command in commands:
        words = shlex.split(command)
        step = words[words.index("ci/pipeline.sh") + 1]
        assert step in steps, f"{path.name} calls `ci/pipeline.sh {step}`, which pipeline.sh does not provide ({sorted(steps)})"


def test_ci_run_uses_the_same_pipeline_script() -> None:
    """.ci/run runs the steps of `ci/pipeline.sh all`, in that order, and nothing else."""
    lines = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    steps = [line.split()[2] for line in lines if line.startswith("bash ci/pipeline.sh")]
    assert steps == ["setup", "lint", "test", "contract-http", "package", "contract-random", "fuzz", "browser", "tools"]
    cases = dict(re.findall(r"^\s*([a-z-]+)\) (.*?) ;;$", PIPELINE.read_text(), flags=re.M))
    assert [call.strip() for call in cases["all"].split(";")] == [cases[step] for step in steps]


def test_pipeline_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(PIPELINE)], check=True)


def test_pipeline_installs_and_tests_as_the_readme_says() -> None:
    """The README's test command is what the pipeline's setup and test steps run."""
    readme = readme_test_command()
    script = PIPELINE.read_text()
    assert 'pip install ".[test]"' in readme and '"$VENV/bin/pip" install --quiet ".[test]"' in script
    assert "-m pytest -n 2" in readme and '"$PY" -m pytest -n 2 --junitxml' in script


def test_scripts_the_pipeline_calls_exist() -> None:
    text = PIPELINE.read_text()
    scripts = re.findall(r"bash (ci/[\w./-]+\.sh)", text) + re.findall(r'"\$PY" (ci/[\w./-]+\.py)', text)
    assert "ci/check_mock_serves.py" in scripts
    for script in scripts:
        assert (ROOT / script).is_file(), f"ci/pipeline.sh calls {script}, which does not exist"


def _function_body(name: str) -> str:
    text = PIPELINE.read_text()
    start = text.index(f"\n{name}() {{")
    return text[start : text.index("\n}\n", start)]


def test_fuzz_step_runs_stock_schemathesis_outside_the_checkout() -> None:
    """No project configuration reaches the fuzz run: no hooks, no schemathesis.toml (the run
    starts in a temporary directory), every phase, a random seed it prints, a time budget."""
    body = _function_body("fuzz")
    assert "env -u SCHEMATHESIS_HOOKS" in body and 'cd "$workdir"' in body and "mktemp -d" in body
    assert "--phases examples,coverage,fuzzing,stateful" in body
    assert "--checks not_a_server_error" in body
    assert '--seed "$seed"' in body and '--max-time "$seconds"' in body and "/dev/urandom" in body
    assert "ci/check_mock_serves.py" in body


def _fuzz_budgets(path: Path) -> list[int]:
    """FUZZ_SECONDS of every job (GitHub: env of the job or the step; GitLab: variables or the
    command) that calls `ci/pipeline.sh fuzz`."""
    document = yaml.safe_load(path.read_text())
    budgets = []
    for job in (document.get("jobs") or document).values():
        if not isinstance(job, dict) or not any("pipeline.sh fuzz" in c for c in commands_in(job)):
            continue
        settings = {**(job.get("env") or {}), **(job.get("variables") or {})}
        for item in job.get("steps") or []:
            if "pipeline.sh fuzz" in str(item.get("run", "")):
                settings.update(item.get("env") or {})
        for command in commands_in(job):
            settings.update(re.findall(r"(FUZZ_SECONDS)=(\d+) bash ci/pipeline.sh fuzz", command))
        assert "FUZZ_SECONDS" in settings, f"{path.name}: a job runs the fuzz step without FUZZ_SECONDS"
        budgets.append(int(settings["FUZZ_SECONDS"]))
    return budgets


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: p.name)
def test_pipelines_fuzz_briefly_on_changes_and_longer_nightly(path: Path) -> None:
    ci_run_budget = int(re.search(r'FUZZ_SECONDS="\$\{FUZZ_SECONDS:-(\d+)\}"', (ROOT / ".ci" / "run").read_text()).group(1))
    assert sorted(_fuzz_budgets(path)) == [ci_run_budget, 1200]


# --- Reports: what a pipeline publishes as test results is what its steps decided ---------------

JUNIT_WRITES = re.compile(r'(?:--junitxml=|--report-junit-path |--junit )"\$(?:REPORTS|reports)/([^"]+\.xml)"')
COMMAND_REPORTS = re.compile(r'contract-4hse" run .*--report "\$(?:REPORTS|reports)/([^"]+)"')  # DIR/junit.xml among others
IGNORED = re.compile(r"\|\|\s*(?:echo\b|true\b|:)")
JUDGED = re.compile(r"\|\|\s*status=")


def logical_lines(text: str) -> list[str]:
    return text.replace("\\\n", " ").splitlines()


def step_functions() -> dict[str, str]:
    """Each step of ci/pipeline.sh and the function it runs (`label) timed label function ;;`)."""
    text = PIPELINE.read_text()
    block = text[text.index('case "${1:-all}" in') :]
    return dict(re.findall(r"^\s*([a-z-]+)\) (?:timed [a-z-]+ )?([a-z_]+) ;;$", block, flags=re.M))


def junit_writes(function: str, report: str | None = None) -> list[tuple[str, bool]]:
    """(path under reports/, whether a failure in it fails the step) of every JUnit report the
    function writes, directly or through the helpers it calls with a report name."""
    body = _function_body(function)
    returns_status = 'return "$status"' in body
    found: list[tuple[str, bool]] = []
    for line in logical_lines(body):
        ignored = bool(IGNORED.search(line)) or (bool(JUDGED.search(line)) and not returns_status)
        for path in [*JUNIT_WRITES.findall(line), *(f"{directory}/junit.xml" for directory in COMMAND_REPORTS.findall(line))]:
            path = path.replace("$report", report or "$report").replace("$round", "*")
            found.append((f"reports/{path}", not ignored))
        helper = re.match(r"\s*(contract_suite_over_http) \S+ (\S+)", line)
        if helper:
            found += [(path, judged and not ignored) for path, judged in junit_writes(helper.group(1), helper.group(2))]
    return found


def jobs(path: Path) -> dict[str, dict]:
    document = yaml.safe_load(path.read_text())
    candidates = document.get("jobs") or document
    return {name: job for name, job in candidates.items()
            if isinstance(job, dict) and not name.startswith(".") and any("ci/pipeline.sh" in c for c in commands_in(job))}


def steps_of(job: dict) -> list[str]:
    return [shlex.split(c)[shlex.split(c).index("ci/pipeline.sh") + 1] for c in commands_in(job) if "ci/pipeline.sh" in c]


def published_junit(path: Path, job: dict) -> list[str]:
    """GitLab: `artifacts:reports:junit`; GitHub: the artifacts named junit-*."""
    if "jobs" not in yaml.safe_load(path.read_text()):
        junit = ((job.get("artifacts") or {}).get("reports") or {}).get("junit") or []
        return [junit] if isinstance(junit, str) else list(junit)
    published = []
    for item in job.get("steps") or []:
        if str(item.get("uses", "")).startswith("actions/upload-artifact") and str(item["with"]["name"]).startswith("junit"):
            published += str(item["with"]["path"]).split()
    return published


PIPELINE_JOBS = [(path, name) for path in PIPELINE_FILES for name in jobs(path)]


def test_steps_record_their_junit_reports_where_this_test_reads_them() -> None:
    """The parse below sees every JUnit report a step writes (a path the pipelines can name)."""
    writes = {step: junit_writes(function) for step, function in step_functions().items()}
    assert {path for path, _ in writes["contract-http"]} == {
        "reports/contract-http.xml", "reports/contract-http-whole-dataset.xml", "reports/schemathesis.xml"}
    assert writes["tools"] and writes["fuzz"] and writes["test"]
    assert writes["package"] == [("reports/conformance-installed/junit.xml", True)]
    assert writes["conformance"] == [("reports/conformance/junit.xml", True)]
    script = PIPELINE.read_text()
    assert script.count("--report junit") == script.count("--report-junit-path"), \
        "every Schemathesis JUnit report goes to a fixed path (--report-dir names it by the time)"
    assert "--report-dir" not in script


@pytest.mark.parametrize(("path", "name"), PIPELINE_JOBS, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_jobs_publish_exactly_the_verdicts_of_their_steps(path: Path, name: str) -> None:
    """A published JUnit report says what its step decided: every file a published pattern
    matches is one whose failures fail the step, and every such file of the job is published."""
    job = jobs(path)[name]
    functions = step_functions()
    written = [write for step in steps_of(job) for write in junit_writes(functions[step])]
    published = published_junit(path, job)
    for pattern in published:
        assert pattern.startswith("reports/") and pattern.endswith(".xml"), f"{name} publishes {pattern}, not JUnit files"
        matched = [(report, judged) for report, judged in written if fnmatch.fnmatch(report, pattern)]
        assert matched, f"{name} publishes {pattern}, which none of its steps ({steps_of(job)}) writes"
        ignored = [report for report, judged in matched if not judged]
        assert not ignored, f"{name} publishes {ignored}, whose failures its step ignores"
    unpublished = [report for report, judged in written if judged and not any(fnmatch.fnmatch(report, p) for p in published)]
    assert not unpublished, f"{name} does not publish the verdicts {unpublished}"


def test_the_prism_pass_publishes_prisms_verdict_not_the_suites() -> None:
    writes = dict(junit_writes("tools"))
    assert writes == {"reports/prism.xml": True, "reports/raw/contract-prism.xml": False,
                      "reports/raw/contract-prism-whole-dataset.xml": False}


# --- Step times: each step says how long it took; runs end with the table of them ---------------

def test_every_step_is_timed() -> None:
    text = PIPELINE.read_text()
    block = text[text.index('case "${1:-all}" in') :]
    cases = dict(re.findall(r"^\s*([a-z-]+)\) (.*?) ;;$", block, flags=re.M))
    for step in pipeline_steps() - {"all", "summary"}:
        assert re.fullmatch(rf"timed {step} [a-z_]+", cases[step]), f"`{step}` is not run by `timed`: {cases[step]}"
    assert all(call.strip().startswith("timed ") for call in cases["all"].split(";"))


def run_pipeline(*args: str, reports: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONTRACT_")}
    return subprocess.run(["bash", str(PIPELINE), *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**environment, "REPORTS": str(reports), **(env or {})})


def test_a_failing_step_still_prints_and_records_its_seconds(tmp_path: Path) -> None:
    """conformance without a target fails at once; the EXIT trap writes its line and its row."""
    done = run_pipeline("conformance", reports=tmp_path)
    assert done.returncode == 1
    assert re.search(r"^<== conformance: \d+ s \(failed, exit 1\)$", done.stdout, flags=re.M), done.stdout
    rows = [line.split("\t") for line in (tmp_path / "step-times.tsv").read_text().splitlines()]
    assert len(rows) == 1 and rows[0][0] == "conformance" and rows[0][1].isdigit() and rows[0][2] == "failed, exit 1"


def test_the_summary_is_the_table_of_the_steps_run(tmp_path: Path) -> None:
    rows = [("setup", 130, "passed"), ("test", 861, "passed"), ("tools", 7, "failed, exit 1")]
    (tmp_path / "step-times.tsv").write_text("".join(f"{s}\t{n}\t{r}\n" for s, n, r in rows))
    done = run_pipeline("summary", reports=tmp_path)
    assert done.returncode == 0, done.stderr
    table = [line.split() for line in done.stdout.splitlines()[2:]]
    assert table == [[s, str(n), "s", *r.split()] for s, n, r in rows] + [["total", str(130 + 861 + 7), "s"]]
    assert "no step has run" in run_pipeline("summary", reports=tmp_path / "empty").stdout


def test_ci_run_starts_a_new_table_and_prints_it_at_the_end() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    first_step = text.index("bash ci/pipeline.sh setup")
    assert text.index('rm -f "$REPORTS/step-times.tsv"') < first_step
    assert text.index("trap 'bash ci/pipeline.sh summary' EXIT") < first_step


# --- Timeouts: every job's is a margin over the seconds its steps take on 2 cores --------------

TIMEOUT_MARGIN = 1.5
BUDGETS = {"fuzz": "FUZZ_SECONDS", "contract-random": "CONTRACT_RANDOM_BUDGET"}


def readme_step_seconds() -> dict[str, tuple[int, str | None] | None]:
    """The README's table of the steps' seconds on 2 cores: (seconds, the budget variable added to
    them), or None for a step whose length is the target's."""
    text = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- ci:step-seconds -->\n(.*?)\n\n", text, flags=re.S)
    assert table, "README.md has no table marked <!-- ci:step-seconds -->"
    seconds: dict[str, tuple[int, str | None] | None] = {}
    for row in table.group(1).splitlines()[2:]:
        step, fixed, plus = (cell.strip().strip("`") for cell in row.strip("|").split("|")[:3])
        seconds[step] = None if fixed == "-" else (int(fixed.replace(",", "")), plus.strip("` + ") or None)
    return seconds


def job_settings(job: dict) -> dict[str, str]:
    settings = {**(job.get("env") or {}), **(job.get("variables") or {})}
    for item in job.get("steps") or []:
        settings.update(item.get("env") or {})
    for command in commands_in(job):
        settings.update(re.findall(r"([A-Z_]+)=(\d+) bash ci/pipeline.sh", command))
    return settings


def default_budget(variable: str) -> int:
    return int(re.search(rf'\$\{{{variable}:-(\d+)\}}', PIPELINE.read_text()).group(1))


def timeout_seconds(job: dict) -> int | None:
    if "timeout-minutes" in job:
        return int(job["timeout-minutes"]) * 60
    if "timeout" in job:
        hours = re.search(r"(\d+)\s*h", str(job["timeout"]))
        minutes = re.search(r"(\d+)\s*m", str(job["timeout"]))
        return (int(hours.group(1)) * 3600 if hours else 0) + (int(minutes.group(1)) * 60 if minutes else 0)
    return None


@pytest.mark.parametrize(("path", "name"), PIPELINE_JOBS, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_job_timeouts_leave_margin_over_their_steps_seconds(path: Path, name: str) -> None:
    job = jobs(path)[name]
    table, settings = readme_step_seconds(), job_settings(job)
    limit = timeout_seconds(job)
    assert limit, f"{name} has no timeout of its own"
    expected = 0
    for step in steps_of(job):
        if step == "summary":
            continue
        assert step in table, f"README's step table has no row for {step}"
        if table[step] is None:
            continue
        fixed, budget = table[step]
        assert budget == BUDGETS.get(step), f"README: {step} takes {BUDGETS.get(step)} on top, not {budget}"
        expected += fixed + (int(settings.get(budget, default_budget(budget))) if budget else 0)
    assert limit >= TIMEOUT_MARGIN * expected, f"{name}: timeout {limit} s, its steps take {expected} s on 2 cores"


# --- Node.js: Redocly CLI needs >= 20.19 -------------------------------------------------------

def node_at_least_20_19(version: str) -> bool:
    """A major alone is its newest release (20: 20.19 and later)."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:2]]
    return parts[0] > 20 or (parts[0] == 20 and (len(parts) == 1 or parts[1] >= 19))


@pytest.mark.parametrize(("path", "name"), PIPELINE_JOBS, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_jobs_that_run_node_tools_get_node_20_19_or_later(path: Path, name: str) -> None:
    job = jobs(path)[name]
    if not {"lint", "tools"} & set(steps_of(job)):
        return
    commands = " ".join(commands_in(yaml.safe_load(path.read_text())))
    assert not re.search(r"apt-get install[^;&|]*\bnodejs\b", commands), "Debian's nodejs (18 on bookworm) is too old"
    if "jobs" in yaml.safe_load(path.read_text()):
        versions = [str(s["with"]["node-version"]) for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-node")]
    else:
        document = yaml.safe_load(path.read_text())
        merged = {}
        for parent in job.get("extends") or []:
            merged.update(document[parent])
        image = str(job.get("image") or merged.get("image") or (document.get("default") or {}).get("image", ""))
        versions = [image.split(":", 1)[1]] if image.startswith("node:") else []
    assert versions and all(node_at_least_20_19(v) for v in versions), f"{name}: node {versions or 'not set up'}"


@pytest.mark.parametrize(("version", "enough"), [("20", True), ("20.19", True), ("20.18.1", False), ("18", False),
                                                 ("22-bookworm", True), ("18-bookworm", False)])
def test_node_versions_are_read_as_their_newest_release(version: str, enough: bool) -> None:
    assert node_at_least_20_19(version) is enough
