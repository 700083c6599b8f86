#!/usr/bin/env bash
# `make bench-projector`: the projector's throughput (outcomes/s) and history query p50/p99 on
# this machine; results in bench/results/projector.json. BENCH_PROJECTOR_ROWS=1000000,10000000
# adds the 10-million-row run (loading it takes several minutes). Infrastructure started here
# is stopped again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
started_infra=false
# Not `status | grep -q`: under pipefail, grep closing the pipe early can fail the pipeline.
status=$(scripts/infra.sh status)
if ! grep -q "kafka: running" <<<"$status"; then started_infra=true; fi
trap '$started_infra && scripts/infra.sh down' EXIT
scripts/infra.sh up
(set -a; source <(scripts/infra.sh env); set +a; npx vitest run --project bench bench/projector.bench.ts)
