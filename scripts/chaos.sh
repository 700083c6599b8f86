#!/usr/bin/env bash
# `make chaos`: the dispatcher under faults on a local 3-node Kafka cluster (chaos/chaos.run.ts).
# CHAOS_PROFILE=full (default: 50,000 events, 10,000 malformed, every fault) or short;
# CHAOS_EVENTS, CHAOS_MALFORMED, CHAOS_SEED override. Results in chaos/results/<profile>.json.
# Infrastructure started here is stopped again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
status=$(scripts/infra.sh status)
if grep -q "^kafka: running on" <<<"$status"; then
  echo "[chaos] a single-node Kafka of this checkout is running: 'make infra-down' first (chaos runs on a 3-node cluster)" >&2
  exit 2
fi
started_infra=false
if ! grep -q "^kafka: cluster" <<<"$status"; then started_infra=true; fi
trap '$started_infra && scripts/infra.sh down' EXIT
INFRA_KAFKA_CLUSTER=3 scripts/infra.sh up
# Extra arguments go to vitest (make test adds its JSON reporter).
(set -a; source <(scripts/infra.sh env); set +a; CHAOS_PROFILE=${CHAOS_PROFILE:-full} npx vitest run --project chaos "$@")
