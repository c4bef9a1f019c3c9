#!/usr/bin/env bash
# Lint the OpenAPI spec with Redocly CLI (rules in redocly.yaml) over the split source files and
# the one-file bundle, and with Spectral (rules in .spectral.yaml) over the bundle; check that the
# bundle (openapi/openapi.bundled.json, `python -m mock_server.spec`) is up to date.
# Installs the pinned CLIs into .ci/tools (git-ignored) when they are not there yet.
# Exits non-zero on any error or warning: every rule turned off is justified in its config file.
set -euo pipefail

REDOCLY_VERSION="2.77.0"
SPECTRAL_VERSION="6.16.3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
REDOCLY="$TOOLS/node_modules/.bin/redocly"
SPECTRAL="$TOOLS/node_modules/.bin/spectral"
PY="${PY:-${VENV:-.venv}/bin/python}"

export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

installed_version() {
    [[ -x "$1" ]] && "$1" --version 2>/dev/null | tail -n 1 || true
}

install_pinned() {  # package version
    echo "installing $1@$2 into $TOOLS" >&2
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact "$1@$2" >&2
}

[[ "$(installed_version "$REDOCLY")" == "$REDOCLY_VERSION" ]] || install_pinned "@redocly/cli" "$REDOCLY_VERSION"
[[ "$(installed_version "$SPECTRAL")" == "$SPECTRAL_VERSION" ]] || install_pinned "@stoplight/spectral-cli" "$SPECTRAL_VERSION"

cd "$ROOT"
if [[ -x "$PY" ]]; then
    "$PY" -m mock_server.spec --check
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
"$REDOCLY" lint --config redocly.yaml --format stylish openapi/openapi.yaml openapi/openapi.bundled.json "$@" 2>&1 | tee "$report"
# Redocly exits 0 on warnings; the project allows none
if grep -Eq '^[[:space:]]+[0-9]+:[0-9]+[[:space:]]+(warning|error)' "$report"; then
    echo "Redocly reports problems (see above)" >&2
    exit 1
fi
"$SPECTRAL" lint --ruleset .spectral.yaml --fail-severity warn openapi/openapi.bundled.json
