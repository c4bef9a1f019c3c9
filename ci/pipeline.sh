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
#   ci/pipeline.sh contract-random  the suite's randomized pass (Schemathesis, all phases and the
#                                 stateful one, plus the edge values) in rounds with a new seed each,
#                                 until CONTRACT_RANDOM_BUDGET seconds are spent (default 300; nightly 3600)
#   ci/pipeline.sh all            setup, lint, test, contract-http (what .ci/run does)
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
      -x -q -p no:cacheprovider --hypothesis-profile randomized --hypothesis-seed "$seed" \
      --junitxml="$REPORTS/contract-random-$round.xml"
  done
  echo "contract-random: $round rounds in $(( $(date +%s) - started ))s"
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
  contract-random) contract_random ;;
  all) setup; lint; run_tests; contract_http ;;
  *) echo "usage: ci/pipeline.sh [setup|lint|test|contract-http|conformance|mutation|contract-random|all]" >&2; exit 2 ;;
esac
