#!/usr/bin/env bash
# `make bench`: every bench/*.bench.ts scenario on this machine (router and sender as real
# processes, real broker and registry, receivers and load generators in processes of their own).
# Each prints its figures and writes bench/results/<name>.json: pipeline-throughput,
# endpoint-scale, scale-out, throughput, latency, isolation, retry-backlog, admin-replay, projector.
# BENCH_ONLY=<name,name> runs only those (e.g. BENCH_ONLY=latency,isolation); each scenario's
# sizes and durations can be cut by its env knobs (BENCH_DURATION_S, BENCH_RETRY_BACKLOG, …,
# listed at the top of each file). Infrastructure started here is stopped again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
files=()
if [[ -n "${BENCH_ONLY:-}" ]]; then
  IFS=, read -ra names <<<"$BENCH_ONLY"
  for name in "${names[@]}"; do
    name=${name// /}
    [[ -z "$name" ]] && continue
    if [[ ! -f "bench/$name.bench.ts" ]]; then
      echo "BENCH_ONLY: no scenario \"$name\" (bench/$name.bench.ts); there are: $(cd bench && ls ./*.bench.ts | sed 's#^./##; s#\.bench\.ts$##' | tr '\n' ' ')" >&2
      exit 2
    fi
    files+=("bench/$name.bench.ts")
  done
fi
started_infra=false
# Status captured first: `grep -q` stops reading early, and with pipefail the writer's SIGPIPE
# would read as "not running", so infrastructure a developer started would be stopped here.
if ! grep -q "^kafka: running" <<<"$(scripts/infra.sh status)"; then started_infra=true; fi
trap '$started_infra && scripts/infra.sh down' EXIT
scripts/infra.sh up
# In a subshell: infra.sh down must still see the caller's environment.
(set -a; source <(scripts/infra.sh env); set +a; npx vitest run --project bench "${files[@]}")
