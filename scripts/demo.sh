#!/usr/bin/env bash
# `make demo`, against a running `make run` (same machine, same checkout): reads the connection
# settings and the admin's bootstrap operator key that make run uses, so nothing has to be
# exported by hand, then runs the demo program (packages/demo): a receiver verifying both
# signature schemes, an endpoint for it registered through the admin API (ADMIN_HTTP_PORT,
# default 8080), one event of each of the ten types, each delivery printed as it arrives, then
# a portal link that opens on the demo organization with those deliveries.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
set -a; source <(scripts/infra.sh env); set +a
key_file="$ROOT/.local/admin-operator.key"
if [ -z "${ADMIN_BOOTSTRAP_OPERATOR_KEY:-}" ]; then
  [ -f "$key_file" ] || { echo "[demo] $key_file is missing: start \`make run\` first" >&2; exit 1; }
  ADMIN_BOOTSTRAP_OPERATOR_KEY=$(cat "$key_file")
  export ADMIN_BOOTSTRAP_OPERATOR_KEY
fi
# One demo organization per checkout, so a rerun replaces the previous run's endpoint (it is
# kept, paused, for the portal) instead of leaving one behind in a new organization each time.
org_file="$ROOT/.local/demo-organization"
if [ -z "${DEMO_ORGANIZATION_UUID:-}" ]; then
  [ -f "$org_file" ] || node -e 'console.log(require("node:crypto").randomUUID())' >"$org_file"
  DEMO_ORGANIZATION_UUID=$(cat "$org_file")
  export DEMO_ORGANIZATION_UUID
fi
exec node packages/demo/dist/demo-cli.js
