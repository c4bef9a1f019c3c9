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
#   ci/pipeline.sh browser        Debian's chromium (apt-get, when missing) and the browser extra
#                                 (Playwright's Python package); tests/browser --run-browser,
#                                 screenshots into $REPORTS/screenshots
#   ci/pipeline.sh all            setup, lint, test, contract-http, browser (what .ci/run does)
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
  browser) browser ;;
  all) setup; lint; run_tests; contract_http; browser ;;
  *) echo "usage: ci/pipeline.sh [setup|lint|test|contract-http|conformance|mutation|browser|all]" >&2; exit 2 ;;
esac
