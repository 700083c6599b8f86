#!/usr/bin/env bash
# `make run`: the whole dispatcher on this machine, in the foreground. Infrastructure is already
# up (make run depends on infra-up). This registers the schemas, starts router, sender,
# projector, admin and Prometheus, waits until every service answers /readyz, and prints where
# everything is.
#
# Stopping: Ctrl-C, or SIGTERM to `make run` (make passes it on to this script) or to this
# script. Every child is sent SIGTERM and waited for: services exit cleanly within 30 s (their
# own deadline), and nothing is left running. Exit status 0 on a stop signal, 1 when a service
# died on its own.
#
# Logs: every service's JSON lines are appended to .local/logs/run.log. On a terminal they are
# shown human-readable (pino-pretty); otherwise (a pipe, a file, a supervisor) as the same JSON
# lines. RUN_LOG_FORMAT=pretty|json overrides the choice.
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
export ENDPOINT_ALLOW_LOOPBACK=${ENDPOINT_ALLOW_LOOPBACK:-true}
export ENDPOINT_ALLOW_HTTP=${ENDPOINT_ALLOW_HTTP:-true}
# The admin's bootstrap operator key: without one nobody could create the first API keys.
operator_key_file="$ROOT/.local/admin-operator.key"
[ -f "$operator_key_file" ] || { umask 077; printf 'nt_op_%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" >"$operator_key_file"; }
export ADMIN_BOOTSTRAP_OPERATOR_KEY=${ADMIN_BOOTSTRAP_OPERATOR_KEY:-$(cat "$operator_key_file")}
# The key that signs portal sessions and links: kept, so a restart does not sign everyone out.
portal_key_file="$ROOT/.local/admin-portal.key"
[ -f "$portal_key_file" ] || { umask 077; head -c 32 /dev/urandom | base64 >"$portal_key_file"; }
export ADMIN_PORTAL_SECRET=${ADMIN_PORTAL_SECRET:-$(cat "$portal_key_file")}
export ADMIN_HTTP_PORT=${ADMIN_HTTP_PORT:-8080}
export ROUTER_OPS_PORT=${ROUTER_OPS_PORT:-9401} SENDER_OPS_PORT=${SENDER_OPS_PORT:-9402}
export PROJECTOR_OPS_PORT=${PROJECTOR_OPS_PORT:-9403} ADMIN_OPS_PORT=${ADMIN_OPS_PORT:-9404}
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}

mkdir -p "$ROOT/.local/logs"
run_log="$ROOT/.local/logs/run.log"
format=${RUN_LOG_FORMAT:-auto}
if [ "$format" = auto ]; then if [ -t 1 ]; then format=pretty; else format=json; fi; fi

# Everything below writes through one formatter. It runs in a session of its own so that a
# Ctrl-C on the terminal does not kill it before the services have logged their clean stop.
formatter_command=(cat)
if [ "$format" = pretty ]; then
  formatter_command=("$ROOT/node_modules/.bin/pino-pretty" --colorize --translateTime SYS:HH:MM:ss.l
    --ignore pid,hostname,service --messageFormat '{service} {msg}')
fi
exec > >(exec setsid bash -c 'log=$1; shift; tee -a "$log" | "$@"' _ "$run_log" "${formatter_command[@]}") 2>&1
formatter=$!

say() { printf '[run] %s\n' "$*"; }

children=()
stopping=false
stop() { # exit status
  $stopping && return
  stopping=true
  trap - INT TERM HUP
  say "stopping router, sender, projector, admin and Prometheus"
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Polled, not `wait`ed: stop runs in a trap that interrupted `wait -n`, and a `wait` there
  # could hang on the formatter (which lives until our output closes) instead of returning
  # for children already gone: a Ctrl-C then never got past this line.
  wait_gone 60 "${children[@]}"
  say "stopped"
  # Closing our output lets the formatter finish; wait so that it does not outlive us.
  exec >&- 2>&-
  wait_gone 10 "$formatter"
  exit "$1"
}
wait_gone() { # seconds pid...: until none of the processes is left, or the time is up
  local deadline=$((SECONDS + $1)) pid alive; shift
  while ((SECONDS < deadline)); do
    alive=false
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=true; done
    $alive || return 0
    sleep 0.1
  done
}
# HUP: the terminal was closed.
trap 'stop 0' INT TERM HUP

node packages/event-codec/dist/register-cli.js

# The history schema (knex migrations) before any service starts: a failure is clearer here
# than in the projector's log. Re-runnable; the projector checks it again at start.
node packages/database/dist/migrate-cli.js

start() { # name command...
  local name=$1; shift
  "$@" &
  children+=($!)
}
for service in router sender projector admin; do
  start "$service" node "services/$service/dist/main.js"
done
service_pids=("${children[@]}")
prometheus_url="not started (scripts/prometheus.sh install needs root)"
prometheus_pid=
if scripts/prometheus.sh install; then
  start prometheus bash -c 'exec scripts/prometheus.sh run >>"$1" 2>&1' _ "$ROOT/.local/logs/prometheus.log"
  prometheus_pid=$!
  prometheus_url="http://127.0.0.1:$PROMETHEUS_PORT  (targets: /targets, alerts: /alerts)"
fi

healthy() { # port: ready, i.e. can do its work now
  node -e 'fetch(`http://127.0.0.1:${process.argv[1]}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
}
for port in "$ROUTER_OPS_PORT" "$SENDER_OPS_PORT" "$PROJECTOR_OPS_PORT" "$ADMIN_OPS_PORT"; do
  until healthy "$port"; do
    # A service that died before it became healthy: stop the rest and say so.
    for pid in "${service_pids[@]}"; do kill -0 "$pid" 2>/dev/null || { say "a service exited during start-up (see above)"; stop 1; }; done
    sleep 0.5
  done
done

say "Novatrade Webhooks is running"
say "  admin API   http://127.0.0.1:$ADMIN_HTTP_PORT/v1  (OpenAPI: /openapi.json; operator key in .local/admin-operator.key)"
say "  portal      http://127.0.0.1:$ADMIN_HTTP_PORT/portal  (sign in with an organization key; operators: npm run ops -- portal-link --org <uuid>)"
say "  metrics     router http://127.0.0.1:$ROUTER_OPS_PORT/metrics   sender http://127.0.0.1:$SENDER_OPS_PORT/metrics"
say "              projector http://127.0.0.1:$PROJECTOR_OPS_PORT/metrics   admin http://127.0.0.1:$ADMIN_OPS_PORT/metrics"
say "  Prometheus  $prometheus_url"
say "  logs        $run_log (JSON lines, every service); Prometheus: .local/logs/prometheus.log"
say "  try it      make demo   (in another terminal: a receiver, an endpoint, ten signed events)"
say "Ctrl-C (or SIGTERM to make run) stops everything"

# A service ending on its own is a failure: stop the others rather than run half a dispatcher.
# Prometheus ending (its port taken, say) is reported, and the dispatcher keeps running.
while true; do
  exited=
  wait -n -p exited || true
  $stopping && break
  if [ -n "$prometheus_pid" ] && [ "$exited" = "$prometheus_pid" ]; then
    say "Prometheus exited (see .local/logs/prometheus.log; is port $PROMETHEUS_PORT taken?); the services keep running"
    remaining=()
    for pid in "${children[@]}"; do [ "$pid" = "$prometheus_pid" ] || remaining+=("$pid"); done
    children=("${remaining[@]}")
    prometheus_pid=
    continue
  fi
  say "a service exited on its own (see above)"
  stop 1
done
