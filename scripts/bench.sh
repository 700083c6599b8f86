#!/usr/bin/env bash
# `make bench`: throughput of the whole dispatcher on this machine (router and sender as real
# processes, real broker and registry, loopback receivers). Prints the figures and writes
# bench/results/pipeline-throughput.json, and the endpoint-scale figures (N endpoints, one delivery
# topic each; BENCH_ENDPOINT_SCALE=10,1000 for a quick run) to bench/results/endpoint-scale.json,
# and the scale-out figures (two senders and two routers, one of each killed mid-run;
# BENCH_SCALE_OUT_ENDPOINTS=1000 for a quick run) to bench/results/scale-out.json.
# Infrastructure started here is stopped again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
started_infra=false
# Status captured first: `grep -q` stops reading early, and with pipefail the writer's SIGPIPE
# would read as "not running", so infrastructure a developer started would be stopped here.
if ! grep -q "^kafka: running" <<<"$(scripts/infra.sh status)"; then started_infra=true; fi
trap '$started_infra && scripts/infra.sh down' EXIT
scripts/infra.sh up
# In a subshell: infra.sh down must still see the caller's environment.
(set -a; source <(scripts/infra.sh env); set +a; npx vitest run --project bench)
