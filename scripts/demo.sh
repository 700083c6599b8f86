#!/usr/bin/env bash
# `make demo`, against a running `make run` (same machine, same checkout): reads the connection
# settings and the admin's bootstrap operator key that make run uses, so nothing has to be
# exported by hand, then runs the demo program (packages/demo): a receiver verifying both
# signature schemes, an endpoint for it registered through the admin API (ADMIN_HTTP_PORT,
# default 8080), one event of each of the ten types, each delivery printed as it arrives.
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
exec node packages/demo/dist/demo-cli.js
