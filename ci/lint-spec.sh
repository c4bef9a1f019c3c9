#!/usr/bin/env bash
# Lint the OpenAPI spec with Redocly CLI (rules in redocly.yaml).
# Installs the pinned Redocly CLI into .ci/tools (git-ignored) when it is not there yet.
# Exits non-zero when the spec has lint errors; warnings are printed but do not fail.
set -euo pipefail

REDOCLY_VERSION="2.77.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.ci/tools"
BIN="$TOOLS/node_modules/.bin/redocly"

export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

installed_version() {
    [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | head -n 1 || true
}

if [[ "$(installed_version)" != "$REDOCLY_VERSION" ]]; then
    echo "installing @redocly/cli@$REDOCLY_VERSION into $TOOLS" >&2
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact "@redocly/cli@$REDOCLY_VERSION" >&2
fi

cd "$ROOT"
exec "$BIN" lint --config redocly.yaml openapi/openapi.yaml "$@"
