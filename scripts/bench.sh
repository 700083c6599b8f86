#!/usr/bin/env bash
# `make bench`: throughput of the whole dispatcher on this machine (router and sender as real
# processes, real broker and registry, loopback receivers). Prints the figures and writes
# bench/results/pipeline-throughput.json. Infrastructure started here is stopped again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
started_infra=false
if ! scripts/infra.sh status | grep -q "kafka: running"; then started_infra=true; fi
trap '$started_infra && scripts/infra.sh down' EXIT
scripts/infra.sh up
# In a subshell: infra.sh down must still see the caller's environment.
(set -a; source <(scripts/infra.sh env); set +a; npx vitest run --project bench)
