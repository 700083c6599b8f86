#!/usr/bin/env bash
# `make run`: the whole dispatcher on this machine. Infrastructure is already up (make run
# depends on infra-up); this registers the schemas and runs router, sender, projector and
# admin in the foreground, each line prefixed with the service's name. Ctrl-C stops them all.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
set -a; source <(scripts/infra.sh env); set +a

# Development defaults: a local key for encrypting signing secrets at rest, and receivers on
# this machine over plain http. Production sets these explicitly (deploy/README.md).
key_file="$ROOT/.local/endpoint-secrets.key"
[ -f "$key_file" ] || { umask 077; head -c 32 /dev/urandom | base64 >"$key_file"; }
export ENDPOINT_SECRETS_KEY=${ENDPOINT_SECRETS_KEY:-$(cat "$key_file")}
export SENDER_ALLOW_LOOPBACK=${SENDER_ALLOW_LOOPBACK:-true}
export SENDER_ALLOW_HTTP=${SENDER_ALLOW_HTTP:-true}
echo "[run] to register a local receiver from another shell:" >&2
echo "[run]   set -a; source <(scripts/infra.sh env); set +a; export ENDPOINT_SECRETS_KEY=\$(cat .local/endpoint-secrets.key)" >&2
echo "[run]   ENDPOINT_ALLOW_HTTP=true ENDPOINT_ALLOW_LOOPBACK=true npm run -s endpoint -- add --org <uuid> --url http://127.0.0.1:8080/hook --types 'kyc.*'" >&2

node packages/event-codec/dist/register-cli.js

pids=()
stop() {
  trap - INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

for service in router sender projector admin; do
  node "services/$service/dist/main.js" > >(sed -u "s/^/[$service] /") 2>&1 &
  pids+=($!)
done
echo "[run] router, sender, projector and admin started; Ctrl-C stops them" >&2
wait -n || true
