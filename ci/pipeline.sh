#!/usr/bin/env bash
# One script for every pipeline (.ci/run, GitHub Actions, GitLab CI): each step is a subcommand,
# so the logic lives here and the pipeline files only choose steps and pass settings.
#
#   ci/pipeline.sh setup          fresh virtual environment, project installed as the README says
#   ci/pipeline.sh lint           lint and validate the spec (Redocly CLI + openapi-spec-validator)
#   ci/pipeline.sh test           the README's test command: the whole suite, contract suite in-process
#   ci/pipeline.sh contract-http  start the mock on a free loopback port; run the contract suite and
#                                 the Schemathesis command line against it over HTTP; stop it
#   ci/pipeline.sh conformance    the contract suite against $CONTRACT_TARGET_URL (read-only unless
#                                 CONTRACT_ALLOW_WRITES=1)
#   ci/pipeline.sh mutation       the contract suite against every faulty variant of the mock
#                                 (tests/mutation; ~15 min on 2 cores, so nightly, not in `all`)
#   ci/pipeline.sh tools          the stock tools as their users run them: tests/tools (stock `st`,
#                                 openapi-core, a generated client), the mock's HTTP tests judged
#                                 by openapi-core, the contract suite through Prism's proxy
#   ci/pipeline.sh all            setup, lint, test, contract-http, tools (what .ci/run does)
#
# Settings (environment): VENV (default .venv), PYTHON (default python3), REPORTS (default
# reports/), CONTRACT_TARGET_URL, CONTRACT_TOKEN, CONTRACT_TENANT_ID, CONTRACT_SUBTENANT_ID,
# CONTRACT_RESOURCE_IDS, CONTRACT_ALLOW_WRITES, CONTRACT_PROFILE (quick | thorough).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
REPORTS="${REPORTS:-reports}"
PY="$VENV/bin/python"
mkdir -p "$REPORTS"

step() { printf '\n==> %s\n' "$*"; }

setup() {
  step "setup: fresh virtual environment in $VENV, project installed with its test extras"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  # The README's install command.
  "$VENV/bin/pip" install --quiet ".[test]"
}

lint() {
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
}

run_tests() {
  step "test: the whole suite (unit, spec, mock over HTTP, contract suite in-process)"
  # The README's test command, with a JUnit report.
  "$PY" -m pytest --junitxml="$REPORTS/junit.xml"
}

start_mock() {
  local log="$REPORTS/mock-server.log"
  "$PY" -m mock_server --port 0 --log-level warning >"$log" 2>&1 &
  MOCK_PID=$!
  trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
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
  "$PY" -m pytest tests/contract --target-url "$MOCK_URL" --token mock-token \
    --junitxml="$REPORTS/contract-http.xml" || status=$?
  step "contract-http: Schemathesis command line against $MOCK_URL (schemathesis.toml)"
  CONTRACT_TOKEN=mock-token SCHEMATHESIS_HOOKS=tests.contract.support.st_checks \
    "$VENV/bin/st" run "$MOCK_URL/openapi.json" --report junit --report-dir "$REPORTS/schemathesis" || status=$?
  kill "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  trap - EXIT
  return "$status"
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
  step "tools: the stock tools' pinned versions (pip extra 'tools', npm @stoplight/prism-cli into .ci/tools)"
  "$VENV/bin/pip" install --quiet ".[test,tools]"
  if [ "$("$PRISM" --version 2>/dev/null || true)" != "$PRISM_VERSION" ]; then
    npm install --prefix "$ROOT/.ci/tools" --no-audit --no-fund --save-exact "@stoplight/prism-cli@$PRISM_VERSION"
  fi
  local status=0
  step "tools: stock st run, openapi-core and a generated client against the mock (tests/tools)"
  "$PY" -m pytest tests/tools --junitxml="$REPORTS/tools.xml" || status=$?
  step "tools: the mock's HTTP tests, every exchange judged by openapi-core"
  "$PY" -m pytest tests/mock --openapi-core --junitxml="$REPORTS/tools-openapi-core.xml" || status=$?
  step "tools: the contract suite through Prism's validating proxy in front of the mock"
  start_mock
  local prism_pid recorder_pid port prism_url recorder_url violations="$REPORTS/prism-violations.jsonl"
  "$PY" -c "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1] + '/openapi.json').read())" \
    "$MOCK_URL" >"$REPORTS/openapi.json"
  port="$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
  "$PRISM" proxy "$REPORTS/openapi.json" "$MOCK_URL" --host 127.0.0.1 --port "$port" >"$REPORTS/prism.log" 2>&1 &
  prism_pid=$!
  rm -f "$violations"
  "$PY" tests/tools/violations_recorder.py --upstream "http://127.0.0.1:$port" --record "$violations" \
    >"$REPORTS/recorder.log" 2>&1 &
  recorder_pid=$!
  trap 'kill "$MOCK_PID" "$prism_pid" "$recorder_pid" 2>/dev/null || true' EXIT
  prism_url="$(wait_for_line "$REPORTS/prism.log" 'Prism is listening on http://127\.0\.0\.1:[0-9]*')"
  recorder_url="$(wait_for_line "$REPORTS/recorder.log" 'http://127\.0\.0\.1:[0-9]*')"
  echo "$prism_url; the contract suite talks to the recorder at $recorder_url"
  # The suite's verdict on the mock is the contract-http step's; through Prism some of its probes
  # are answered by Prism itself (a body that is not JSON, bodies it cannot forward), so here
  # only Prism's verdict on the mock's answers counts: any `sl-violations` about an answer.
  "$PY" -m pytest tests/contract --target-url "$recorder_url" --token mock-token \
    --junitxml="$REPORTS/contract-prism.xml" || echo "(contract suite through Prism: see $REPORTS/contract-prism.xml)"
  "$PY" tests/tools/violations_recorder.py --check "$violations" || status=$?
  kill "$MOCK_PID" "$prism_pid" "$recorder_pid" 2>/dev/null || true
  wait "$MOCK_PID" "$prism_pid" "$recorder_pid" 2>/dev/null || true
  trap - EXIT
  return "$status"
}

mutation() {
  step "mutation: the contract suite must catch every faulty variant of the mock"
  "$PY" tests/mutation/run_mutants.py --jobs 2
}

conformance() {
  : "${CONTRACT_TARGET_URL:?set CONTRACT_TARGET_URL to the server to check}"
  : "${CONTRACT_TOKEN:?set CONTRACT_TOKEN to a token of that server}"
  local mode=(--read-only)
  if [ "${CONTRACT_ALLOW_WRITES:-0}" = "1" ]; then mode=(--allow-writes); fi
  step "conformance: the contract suite against $CONTRACT_TARGET_URL (${mode[*]})"
  "$PY" -m pytest tests/contract --target-url "$CONTRACT_TARGET_URL" --token "$CONTRACT_TOKEN" \
    "${mode[@]}" --hypothesis-profile "${CONTRACT_PROFILE:-thorough}" \
    --junitxml="$REPORTS/conformance.xml"
}

case "${1:-all}" in
  setup) setup ;;
  lint) lint ;;
  test) run_tests ;;
  contract-http) contract_http ;;
  conformance) conformance ;;
  mutation) mutation ;;
  tools) tools ;;
  all) setup; lint; run_tests; contract_http; tools ;;
  *) echo "usage: ci/pipeline.sh [setup|lint|test|contract-http|conformance|mutation|tools|all]" >&2; exit 2 ;;
esac
