#!/usr/bin/env bash
# Prometheus for this machine, from Debian's `prometheus` package (the server and promtool).
#   scripts/prometheus.sh install   apt-get install prometheus when missing (idempotent)
#   scripts/prometheus.sh config    write .local/prometheus/prometheus.yml: scrape the four services
#                                   on loopback (ROUTER_OPS_PORT… as make run uses them), load
#                                   deploy/prometheus/rules/*.yml
#   scripts/prometheus.sh run       the server in the foreground (make run starts it this way)
#   scripts/prometheus.sh check     promtool check config, check rules, test rules
# PROMETHEUS_PORT (9090) is where its UI and HTTP API listen, on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local/prometheus"
RULES="$ROOT/deploy/prometheus/rules"
PORT=${PROMETHEUS_PORT:-9090}

log() { printf '[prometheus] %s\n' "$*" >&2; }

install() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    log "prometheus is not installed; as root: apt-get install prometheus (Debian's package: server + promtool)"
    return 1
  fi
  log "installing Debian's prometheus package"
  # The package's service is not started: there is no init system to start it here, and make run
  # runs the server itself with its own configuration.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; }
  command -v prometheus >/dev/null && command -v promtool >/dev/null
}

config() {
  mkdir -p "$LOCAL"
  cat >"$LOCAL/prometheus.yml" <<YAML
# Written by scripts/prometheus.sh config for make run; deploy/prometheus/prometheus.yml is the
# same for the compose file and Kubernetes.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $RULES/*.yml
scrape_configs:
  - job_name: router
    static_configs: [{ targets: ["127.0.0.1:${ROUTER_OPS_PORT:-9401}"] }]
  - job_name: sender
    static_configs: [{ targets: ["127.0.0.1:${SENDER_OPS_PORT:-9402}"] }]
  - job_name: projector
    static_configs: [{ targets: ["127.0.0.1:${PROJECTOR_OPS_PORT:-9403}"] }]
  - job_name: admin
    static_configs: [{ targets: ["127.0.0.1:${ADMIN_OPS_PORT:-9404}"] }]
YAML
  echo "$LOCAL/prometheus.yml"
}

run() {
  config >/dev/null
  mkdir -p "$LOCAL/data"
  exec prometheus --config.file="$LOCAL/prometheus.yml" --storage.tsdb.path="$LOCAL/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PORT" --log.level=warn
}

check() {
  promtool check config "$ROOT/deploy/prometheus/prometheus.yml"
  promtool check rules "$RULES"/*.yml
  promtool test rules "$ROOT"/deploy/prometheus/tests/*.yml
}

case "${1:-}" in
  install) install ;;
  config) config ;;
  run) run ;;
  check) check ;;
  *) echo "usage: $0 install|config|run|check" >&2; exit 2 ;;
esac
