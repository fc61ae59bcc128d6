#!/usr/bin/env bash
# Lints the services' OpenAPI documents with Redocly CLI (recommended rules, redocly.yaml)
# and Spectral (spectral:oas, .spectral.yaml), both pinned in package-lock.json; fails on
# any error. Run by make lint.
set -euo pipefail
cd "$(dirname "$0")"
docs=(../../services/intake/internal/api/openapi.json
  ../../services/notifications/internal/api/openapi.json
  ../../services/referential/internal/api/openapi.json)

# npm ci only when the lockfile changed since the last install (.npmrc: no install scripts).
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  command -v npm >/dev/null || { echo "apilint: npm is needed (Debian: apt-get install -y npm)" >&2; exit 1; }
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# Nothing leaves the machine: no usage data, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
node_modules/.bin/redocly lint --config redocly.yaml --format=summary "${docs[@]}"
node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity error "${docs[@]}"
