"""The pipeline files users copy are valid YAML and run only steps the project provides."""

from __future__ import annotations

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
    assert steps == ["setup", "lint", "test", "contract-http", "contract-random", "fuzz", "browser", "tools"]
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
