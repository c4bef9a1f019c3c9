#!/usr/bin/env bash
# One script for every pipeline (.ci/run, GitHub Actions, GitLab CI): each step is a subcommand,
# so the logic lives here and the pipeline files only choose steps and pass settings.
#
#   ci/pipeline.sh setup          fresh virtual environment, project installed as the README says
#   ci/pipeline.sh lint           the import contracts (import-linter: the suite imports nothing of the mock but
#                                 its in-process target); the tests use Hypothesis through its public API only
#                                 (ruff); lint and validate the spec (Redocly CLI + openapi-spec-validator)
#   ci/pipeline.sh test           the README's test command: the whole suite, contract suite in-process,
#                                 openapi-core judging the mock's HTTP tests, two pytest-xdist workers
#   ci/pipeline.sh contract-http  start the mock on a free loopback port; run the contract suite (two
#                                 workers, then the whole-data-set tests) and the Schemathesis
#                                 command line against it over HTTP; stop it
#   ci/pipeline.sh package        the suite's own wheel (tests/contract/pyproject.toml) installed in a
#                                 fresh virtual environment outside the checkout, without the mock;
#                                 its `contract-4hse run` must pass against the mock and fail,
#                                 naming the rule, against the mock with a fault injected
#   ci/pipeline.sh conformance    `contract-4hse run` against $CONTRACT_TARGET_URL (read-only unless
#                                 CONTRACT_ALLOW_WRITES=1), report in $REPORTS/conformance/
#   ci/pipeline.sh fuzz           start the mock; the stock Schemathesis command line (no project
#                                 config or hooks) against it, randomized, every phase, for
#                                 FUZZ_SECONDS; then every resource's index and the export must
#                                 still answer 200
#   ci/pipeline.sh mutation       the contract suite against every faulty variant of the mock
#                                 (tests/mutation; ~15 min on 2 cores, so nightly, not in `all`)
#   ci/pipeline.sh mutation-sampled  mutmut's mutants of mock_server/domain, a sample of
#                                 MUTATION_SAMPLE (default 200) drawn with MUTATION_SEED, each
#                                 against the contract suite in-process; the kill rate and the
#                                 survivors in $REPORTS/mutation-sampled.txt (nightly, not in `all`)
#   ci/pipeline.sh long-runs      the suite's own long runs (tests/suite, marker long_run): the whole quick
#                                 profile of `contract-4hse run` behind a gateway that refuses 3% of the
#                                 requests with 429/503 (nightly, not in `all`)
#   ci/pipeline.sh contract-random  the suite's randomized pass (Schemathesis, all phases and the
#                                 stateful one, plus the edge values) in rounds with a new seed each,
#                                 until CONTRACT_RANDOM_BUDGET seconds are spent (default 300; nightly 3600)
#   ci/pipeline.sh browser        Debian's chromium (apt-get, when missing) and the browser extra
#                                 (Playwright's Python package); tests/browser --run-browser,
#                                 screenshots into $REPORTS/screenshots
#   ci/pipeline.sh tools          Prism (pinned); the contract suite through Prism's validating
#                                 proxy, judged by Prism's violations about the mock's answers
#                                 ($REPORTS/prism.xml; tests/tools and openapi-core's judgement of
#                                 the mock's HTTP tests run in the test step)
#   ci/pipeline.sh all            setup, lint, test, contract-http, package, contract-random, fuzz, browser,
#                                 tools
#                                 (what .ci/run does)
#   ci/pipeline.sh summary        the table of the steps run so far ($REPORTS/step-times.tsv) and
#                                 their seconds (printed at the end of `all` and of .ci/run)
#
# Every step ends with a line `<== step: N s (passed|failed, exit N)` and appends its seconds to
# $REPORTS/step-times.tsv. Reports: every JUnit file in $REPORTS itself is a verdict of its step
# (a failure there fails the step; pipelines publish them as test results); runs whose failures the
# step does not judge on keep their JUnit in $REPORTS/raw/ (artifacts, not test results).
#
# Settings (environment): VENV (default .venv), PYTHON (default python3), REPORTS (default
# reports/), CONTRACT_TARGET_URL, CONTRACT_TOKEN, CONTRACT_TENANT_ID, CONTRACT_SUBTENANT_ID,
# CONTRACT_RESOURCE_IDS, CONTRACT_ALLOW_WRITES, CONTRACT_PROFILE (quick | thorough),
# FUZZ_SECONDS (the fuzz step's time budget, default 180), FUZZ_SEED (replay a fuzz run's seed),
# MUTATION_SAMPLE and MUTATION_SEED (the mutation-sampled step's sample).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
REPORTS="${REPORTS:-reports}"
PY="$VENV/bin/python"
mkdir -p "$REPORTS"

step() { printf '\n==> %s\n' "$*"; }

TIMES="$REPORTS/step-times.tsv"
STEP_NAME=""
STEP_STARTED=0
CLEANUP_PIDS=()

# Steps run under `set -e` (never in an `||` list, which would turn it off inside them), so a
# failing step ends the script: its timing line is then written by the EXIT trap.
timed() {  # name function: run one step, then print and record its seconds
  STEP_NAME="$1"
  STEP_STARTED=$SECONDS
  "$2"
  end_step 0
}

end_step() {  # exit status of the step
  [ -n "$STEP_NAME" ] || return 0
  local took=$((SECONDS - STEP_STARTED)) result="passed"
  [ "$1" -eq 0 ] || result="failed, exit $1"
  printf '<== %s: %s s (%s)\n' "$STEP_NAME" "$took" "$result"
  printf '%s\t%s\t%s\n' "$STEP_NAME" "$took" "$result" >>"$TIMES"
  STEP_NAME=""
}

summary() {
  step "summary: seconds per step ($TIMES)"
  if [ ! -s "$TIMES" ]; then
    echo "no step has run"
    return 0
  fi
  awk -F '\t' '{ printf "%-16s %6d s  %s\n", $1, $2, $3; total += $2 } END { printf "%-16s %6d s\n", "total", total }' "$TIMES"
}

# Background servers of the running step; the EXIT trap stops them whichever way the step ends.
stop_background() {
  if [ "${#CLEANUP_PIDS[@]}" -gt 0 ]; then
    kill "${CLEANUP_PIDS[@]}" 2>/dev/null || true
    wait "${CLEANUP_PIDS[@]}" 2>/dev/null || true
  fi
  CLEANUP_PIDS=()
}

on_exit() {
  local status=$?
  stop_background
  end_step "$status"
  if [ "$SUMMARY_AT_EXIT" = 1 ]; then summary; fi
}
SUMMARY_AT_EXIT=0
trap on_exit EXIT

setup() {
  step "setup: fresh virtual environment in $VENV, project installed with its test extras"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  # The README's install command.
  "$VENV/bin/pip" install --quiet ".[test]"
}

lint() {
  step "lint: import contracts (import-linter, .importlinter)"
  PYTHONPATH=tests "$VENV/bin/lint-imports"
  step "lint: Redocly CLI over the spec files"
  bash ci/lint-spec.sh
  step "lint: openapi-spec-validator over the entry file and the bundled spec"
  "$PY" - <<'PY'
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from mock_server.spec import load_spec
document, base_uri = read_from_filename("openapi/openapi.yaml")
validate(document, base_uri=base_uri)
validate(load_spec())
print("spec valid")
PY
  step "lint: the tests use Hypothesis through its public API only (ruff, pyproject.toml's banned-api)"
  "$VENV/bin/ruff" check --no-cache tests
  # what no import shows: the private attributes Hypothesis' decorators set (hypothesis.seed,
  # settings, reproduce_failure set them for you)
  if grep -rn --include='*.py' '_hypothesis_internal' tests; then
    echo "the tests set or read Hypothesis' private attributes (above): use hypothesis.seed, settings, reproduce_failure" >&2
    return 1
  fi
}

run_tests() {
  step "test: the whole suite (unit, spec, mock over HTTP judged by openapi-core, contract suite in-process, stock tools)"
  # The README's test command (two pytest-xdist workers), with a JUnit report.
  "$PY" -m pytest -n 2 --junitxml="$REPORTS/junit.xml"
}

# The contract suite against a server over HTTP, as the README runs it there: pytest-xdist
# workers, then the tests that compare reads of whole data sets on their own (they are
# deselected while other workers write). Extra pytest arguments after the URL and the report's
# name (a path under $REPORTS, without .xml).
contract_suite_over_http() {
  local url="$1" report="$2" status=0
  shift 2
  "$PY" -m pytest tests/contract --target-url "$url" --token mock-token -n 2 --dist worksteal \
    --junitxml="$REPORTS/$report.xml" "$@" || status=$?
  "$PY" -m pytest tests/contract --target-url "$url" --token mock-token -n 2 -m whole_dataset \
    --junitxml="$REPORTS/$report-whole-dataset.xml" "$@" || status=$?
  return "$status"
}

start_mock() {
  local log="$REPORTS/${1:-mock-server}.log"  # the mock's own log, kept with the reports
  "$PY" -m mock_server --port 0 --log-level warning >"$log" 2>&1 &
  MOCK_PID=$!
  CLEANUP_PIDS+=("$MOCK_PID")
  MOCK_URL=""
  for _ in $(seq 1 100); do
    MOCK_URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)"
    if [ -n "$MOCK_URL" ] && "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/__mock/health', timeout=2)" "$MOCK_URL" 2>/dev/null; then
      echo "mock listening on $MOCK_URL (pid $MOCK_PID)"
      return 0
    fi
    sleep 0.2
  done
  echo "the mock did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

contract_http() {
  step "contract-http: start the mock as a real server on loopback"
  start_mock
  local status=0
  step "contract-http: the contract suite over HTTP against $MOCK_URL"
  contract_suite_over_http "$MOCK_URL" contract-http || status=$?
  step "contract-http: Schemathesis command line against $MOCK_URL (schemathesis.toml; the contract is our bundle)"
  CONTRACT_TOKEN=mock-token SCHEMATHESIS_HOOKS=tests.contract.support.st_checks \
    "$VENV/bin/st" run openapi/openapi.bundled.json --url "$MOCK_URL" --report junit --report-junit-path "$REPORTS/schemathesis.xml" || status=$?
  stop_background
  return "$status"
}

# The fuzz step's budget is Schemathesis' own `--max-time`: fuzzing and stateful testing repeat
# until it is spent, and a run that spends it ends normally (exit 0 unless a check failed). The
# `timeout` around it only catches a run that hangs (e.g. on a mock that stopped answering); that
# is reported as such, never as a pass.
FUZZ_HANG_GRACE_S=120

fuzz() {
  local seconds="${FUZZ_SECONDS:-180}"
  # A fresh seed each run, printed, so that a failure can be replayed with FUZZ_SEED.
  local seed="${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
  local st_bin reports workdir
  st_bin="$(cd "$VENV" && pwd)/bin/st"
  reports="$(cd "$REPORTS" && pwd)"
  # Outside the checkout, so that Schemathesis finds no schemathesis.toml (it looks in the working
  # directory and its parents up to a git root) and imports no project hooks.
  workdir="$(mktemp -d)"
  local dir="$workdir"
  while [ "$dir" != "/" ]; do
    if [ -e "$dir/schemathesis.toml" ]; then
      echo "fuzz: $dir/schemathesis.toml would configure the stock run; refusing" >&2
      return 1
    fi
    dir="$(dirname "$dir")"
  done
  step "fuzz: start the mock as a real server on loopback"
  start_mock mock-server-fuzz
  step "fuzz: stock st run against $MOCK_URL: seed $seed, budget ${seconds}s, every phase, check not_a_server_error"
  echo "replay: FUZZ_SEED=$seed FUZZ_SECONDS=$seconds bash ci/pipeline.sh fuzz"
  local status=0
  (
    cd "$workdir"
    env -u SCHEMATHESIS_HOOKS timeout --kill-after=30 "$((seconds + FUZZ_HANG_GRACE_S))" \
      "$st_bin" run "$MOCK_URL/openapi.json" \
      --header "Authorization: Bearer mock-token" \
      --seed "$seed" --max-time "$seconds" \
      --phases examples,coverage,fuzzing,stateful \
      --checks not_a_server_error \
      --generation-database none --request-timeout 60 \
      --report junit --report-junit-path "$reports/fuzz.xml"
  ) || status=$?
  case "$status" in
    0) echo "fuzz: no server error in ${seconds}s (seed $seed)" ;;
    1) echo "fuzz: Schemathesis reported failures (server errors, or a phase that errored; see above and $REPORTS/fuzz.xml); seed $seed" >&2 ;;
    124|137) echo "fuzz: st did not finish within ${seconds}s + ${FUZZ_HANG_GRACE_S}s: it hung (exit $status), not a pass; seed $seed" >&2 ;;
    *) echo "fuzz: st could not run (exit $status); seed $seed" >&2 ;;
  esac
  if [ "$status" -eq 0 ] && ! "$PY" - "$reports/fuzz.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
tested = failed = 0
for case in cases:
    tested += 1
    failed += any(child.tag in ("failure", "error") for child in case)
print(f"fuzz: JUnit report: {tested} operations, {failed} with a failure")
sys.exit(0 if tested and not failed else 1)
PY
  then
    echo "fuzz: the JUnit report does not show a clean run" >&2
    status=1
  fi
  step "fuzz: every resource's index and the export still answer 200"
  "$PY" ci/check_mock_serves.py "$MOCK_URL" mock-token || status=1
  stop_background
  rm -rf "$workdir"
  return "$status"
}

browser() {
  step "browser: headless Chromium (Debian's package) and Playwright's Python package (no browser download)"
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "the browser tests need /usr/bin/chromium: apt-get install chromium (as root)" >&2
      return 1
    fi
  fi
  "$VENV/bin/pip" install --quiet ".[browser]"
  step "browser: tests/browser (a page of another origin, Swagger UI, the dashboard)"
  REPORTS="$REPORTS" "$PY" -m pytest tests/browser --run-browser --junitxml="$REPORTS/browser.xml"
  echo "screenshots: $REPORTS/screenshots"
}

PRISM_VERSION="5.14.2"
PRISM="$ROOT/.ci/tools/node_modules/.bin/prism"

wait_for_line() {  # file pattern: the first match of pattern in file, within 60 s
  for _ in $(seq 1 300); do
    if grep -qo "$2" "$1" 2>/dev/null; then grep -o "$2" "$1" | head -n 1; return 0; fi
    sleep 0.2
  done
  echo "no '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

tools() {
  # The pip extra 'tools' came with the test extra (setup); this step uses only Prism of them.
  step "tools: Prism, pinned (npm @stoplight/prism-cli into .ci/tools)"
  if [ "$("$PRISM" --version 2>/dev/null || true)" != "$PRISM_VERSION" ]; then
    npm install --prefix "$ROOT/.ci/tools" --no-audit --no-fund --save-exact "@stoplight/prism-cli@$PRISM_VERSION"
  fi
  local status=0
  # tests/tools (stock st, openapi-core, a generated client) run in the `test` step already, and
  # there openapi-core judges every exchange of the mock's HTTP tests (tests/mock).
  step "tools: the contract suite through Prism's validating proxy in front of the mock"
  start_mock
  local prism_pid recorder_pid port prism_url recorder_url violations="$REPORTS/prism-violations.jsonl"
  "$PY" -c "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1] + '/openapi.json').read())" \
    "$MOCK_URL" >"$REPORTS/openapi.json"
  port="$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
  "$PRISM" proxy "$REPORTS/openapi.json" "$MOCK_URL" --host 127.0.0.1 --port "$port" >"$REPORTS/prism.log" 2>&1 &
  prism_pid=$!
  rm -f "$violations"
  "$PY" tests/tools/violations_recorder.py --upstream "http://127.0.0.1:$port" --record "$violations" --bypass "$MOCK_URL" \
    >"$REPORTS/recorder.log" 2>&1 &
  recorder_pid=$!
  CLEANUP_PIDS+=("$prism_pid" "$recorder_pid")
  prism_url="$(wait_for_line "$REPORTS/prism.log" 'Prism is listening on http://127\.0\.0\.1:[0-9]*')"
  recorder_url="$(wait_for_line "$REPORTS/recorder.log" 'http://127\.0\.0\.1:[0-9]*')"
  echo "$prism_url; the contract suite talks to the recorder at $recorder_url"
  # The suite's verdict on the mock is the contract-http step's; through Prism some of its probes
  # are answered by Prism itself (a body that is not JSON, bodies it cannot forward), so here
  # only Prism's verdict on the mock's answers counts: any `sl-violations` about an answer. The
  # suite's own JUnit of this pass is kept in raw/ (not a verdict); prism.xml is the step's.
  mkdir -p "$REPORTS/raw"
  contract_suite_over_http "$recorder_url" raw/contract-prism || echo "(contract suite through Prism, not judged here: $REPORTS/raw/contract-prism*.xml)"
  local prism_stopped=()
  if ! kill -0 "$prism_pid" 2>/dev/null; then
    # a Prism that stopped judged only part of the run: not a pass
    echo "tools: Prism exited during the contract suite; its log: $REPORTS/prism.log" >&2
    prism_stopped=(--prism-stopped)
  fi
  "$PY" tests/tools/violations_recorder.py --check "$violations" --junit "$REPORTS/prism.xml" "${prism_stopped[@]}" || status=$?
  stop_background
  return "$status"
}

# The suite as whoever checks a server installs it: its wheel alone, its dependencies from the
# package index, run from a directory outside the checkout. The fault run judges the command, not
# the mock: it must exit 1 and name the broken rule (its output is a log, not a JUnit verdict).
package() {
  local workdir reports wheel profile="quick" fault=0
  workdir="$(mktemp -d)"
  reports="$(cd "$REPORTS" && pwd)"
  step "package: the suite's wheel (tests/contract/pyproject.toml), built in the checkout"
  "$VENV/bin/pip" wheel --quiet --no-deps --wheel-dir "$workdir/dist" tests/contract
  rm -rf tests/contract/build tests/contract/contract_4hse.egg-info  # what setuptools leaves in the tree
  wheel="$(ls "$workdir"/dist/contract_4hse-*.whl)"
  "$PY" - "$wheel" <<'PY'
import sys
import zipfile
from pathlib import Path
# the checkout links these into tests/contract: the wheel must carry their content
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name, source in [("openapi.bundled.json", "openapi/openapi.bundled.json"), ("schemathesis.toml", "schemathesis.toml")]:
        assert wheel.read(f"contract_4hse/{name}") == Path(source).read_bytes(), f"the wheel's {name} is not {source}"
print(f"package: {Path(sys.argv[1]).name} carries the contract and the Schemathesis configuration")
PY
  step "package: a fresh virtual environment in $workdir, the wheel and its dependencies from the package index"
  "$PYTHON" -m venv "$workdir/venv"
  "$workdir/venv/bin/pip" install --quiet "$wheel"
  if (cd "$workdir" && "$workdir/venv/bin/python" -c "import mock_server" 2>/dev/null); then
    echo "package: mock_server is importable where only the suite was installed" >&2
    return 1
  fi
  # the shortest profile the installed suite has
  if (cd "$workdir" && "$workdir/venv/bin/python" -c "from contract_4hse.support import plugin; from hypothesis import settings; settings.get_profile('smoke')" 2>/dev/null); then
    profile="smoke"
  fi
  start_mock mock-server-package
  step "package: contract-4hse run against $MOCK_URL (profile $profile), from $workdir"
  (cd "$workdir" && "$workdir/venv/bin/contract-4hse" run --target "$MOCK_URL" --token mock-token --profile "$profile" \
    --workers 2 --report "$reports/conformance-installed")
  ls "$reports/conformance-installed/results.json" "$reports/conformance-installed/junit.xml"
  step "package: the same against the mock with every action index answered 500: exit 1, naming no_server_error"
  "$PY" -c "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/__mock/faults', method='PUT', headers={'Content-Type': 'application/json'}, data=sys.argv[2].encode()))" \
    "$MOCK_URL" '[{"operationId": "action_index", "status": 500, "probability": 1.0}]'
  (cd "$workdir" && "$workdir/venv/bin/contract-4hse" run --target "$MOCK_URL" --token mock-token --profile "$profile" \
    --workers 2 -- -k test_headers_match_body_on_any_index) >"$reports/package-fault.log" 2>&1 || fault=$?
  stop_background
  rm -rf "$workdir"
  if [ "$fault" -ne 1 ] || ! grep -q "^  BROKE no_server_error" "$reports/package-fault.log"; then
    echo "package: against the faulty mock the command exited $fault without naming no_server_error; its output: $REPORTS/package-fault.log" >&2
    tail -n 40 "$reports/package-fault.log" >&2
    return 1
  fi
  echo "package: the faulty mock failed the run (exit 1), naming no_server_error"
}

contract_random() {
  local budget="${CONTRACT_RANDOM_BUDGET:-300}" started round=0 seed
  started="$(date +%s)"
  step "contract-random: randomized Schemathesis pass in-process, rounds until ${budget}s are spent"
  # A round starts only while time is left, so the step lasts the budget plus at most one round.
  while [ $(( $(date +%s) - started )) -lt "$budget" ]; do
    round=$((round + 1))
    seed="$("$PY" -c 'import secrets; print(secrets.randbelow(2**31))')"
    echo "round $round: --hypothesis-seed $seed (repeat a failure with the same seed)"
    "$PY" -m pytest tests/contract/test_schemathesis.py tests/contract/test_stateful.py tests/contract/test_edge_values.py \
      -n 2 -x -q -p no:cacheprovider --hypothesis-profile randomized --hypothesis-seed "$seed" \
      --junitxml="$REPORTS/contract-random-$round.xml"
  done
  echo "contract-random: $round rounds in $(( $(date +%s) - started ))s"
}

mutation() {
  step "mutation: the contract suite must catch every faulty variant of the mock"
  "$PY" tests/mutation/run_mutants.py --jobs 2
}

mutation_sampled() {
  # The mutation extra (mutmut, pinned) on top of the test extras of setup; a fresh mutants/ so
  # that the sample, the test stats and the results are this run's.
  "$VENV/bin/pip" install --quiet ".[mutation]"
  step "mutation-sampled: mutmut over mock_server/domain, ${MUTATION_SAMPLE:-200} mutants (seed ${MUTATION_SEED:-20261207}), the contract suite in-process as the killer"
  "$PY" tests/mutation/sampled.py --fresh --jobs 2 --size "${MUTATION_SAMPLE:-200}" --seed "${MUTATION_SEED:-20261207}" \
    --reports "$REPORTS"
}

long_runs() {
  step "long-runs: the whole quick profile against mocks of its own (tests/suite --run-long -m long_run)"
  "$PY" -m pytest tests/suite --run-long -m long_run -q -p no:cacheprovider --junitxml="$REPORTS/long-runs.xml"
}

conformance() {
  : "${CONTRACT_TARGET_URL:?set CONTRACT_TARGET_URL to the server to check}"
  : "${CONTRACT_TOKEN:?set CONTRACT_TOKEN to a token of that server}"
  local mode=(--read-only)
  if [ "${CONTRACT_ALLOW_WRITES:-0}" = "1" ]; then mode=(--allow-writes); fi
  step "conformance: contract-4hse run against $CONTRACT_TARGET_URL (${mode[*]}); the token from CONTRACT_TOKEN"
  # both phases (beside writers on workers, then the whole-data-set tests); report in $REPORTS/conformance/
  "$VENV/bin/contract-4hse" run --target "$CONTRACT_TARGET_URL" "${mode[@]}" \
    --profile "${CONTRACT_PROFILE:-thorough}" --report "$REPORTS/conformance"
}

if [ "${1:-all}" = all ]; then  # a new table, printed at the end however the run ends
  rm -f "$TIMES"
  SUMMARY_AT_EXIT=1
fi
case "${1:-all}" in
  setup) timed setup setup ;;
  lint) timed lint lint ;;
  test) timed test run_tests ;;
  contract-http) timed contract-http contract_http ;;
  package) timed package package ;;
  conformance) timed conformance conformance ;;
  fuzz) timed fuzz fuzz ;;
  mutation) timed mutation mutation ;;
  mutation-sampled) timed mutation-sampled mutation_sampled ;;
  long-runs) timed long-runs long_runs ;;
  contract-random) timed contract-random contract_random ;;
  browser) timed browser browser ;;
  tools) timed tools tools ;;
  summary) summary ;;
  all) timed setup setup; timed lint lint; timed test run_tests; timed contract-http contract_http; timed package package; timed contract-random contract_random; timed fuzz fuzz; timed browser browser; timed tools tools ;;
  *) echo "usage: ci/pipeline.sh [setup|lint|test|contract-http|package|contract-random|fuzz|conformance|mutation|mutation-sampled|long-runs|browser|tools|summary|all]" >&2; exit 2 ;;
esac
