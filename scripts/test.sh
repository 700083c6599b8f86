#!/usr/bin/env bash
# Runs the test tiers and prints one plain summary line, `N passed, N failed`.
#   scripts/test.sh unit         pure logic, no infrastructure
#   scripts/test.sh integration  real Kafka, registry, PostgreSQL (started here if needed)
#   scripts/test.sh all          both, then the short chaos run on a 3-node cluster (chaos/)
# Infrastructure that this script started is stopped again at the end; infrastructure that
# was already running (a developer's `make infra-up`) is left running.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
tier=${1:-all}
results="$ROOT/.local/test-results"
rm -rf "$results"; mkdir -p "$results"

started_infra=false
stop_infra() {
  if $started_infra; then scripts/infra.sh down || true; fi
  started_infra=false
}
# Also on Ctrl-C or an error; normally infra is stopped before the summary is printed.
trap stop_infra EXIT

run_tier() { # name
  npx vitest run --project "$1" --reporter=default --reporter=json --outputFile="$results/$1.json"
}

status=0
if [ "$tier" = unit ] || [ "$tier" = all ]; then
  run_tier unit || status=1
fi
if [ "$tier" = integration ] || [ "$tier" = all ]; then
  # Status captured first: `grep -q` stops reading early, and with pipefail the writer's SIGPIPE
  # would read as "not running", so infrastructure a developer started would be stopped here.
  if ! grep -q "^kafka: running" <<<"$(scripts/infra.sh status)"; then started_infra=true; fi
  if scripts/infra.sh up; then
    # In a subshell, so the caller's environment is left as it was. (infra.sh down stops what
    # it started either way: it goes by its own pid and marker files, not these variables.)
    (set -a; source <(scripts/infra.sh env); set +a; run_tier integration) || status=1
  else
    echo "infrastructure did not start" >&2
    status=1
  fi
fi

if [ "$tier" = all ]; then
  # The short chaos run brings up a 3-node cluster of its own (scripts/chaos.sh), which cannot
  # share this checkout's .local with a single-node Kafka: stop the one started above first.
  stop_infra
  if grep -q "^kafka: running on" <<<"$(scripts/infra.sh status)"; then
    echo "[test] the short chaos run is skipped: this checkout's single-node Kafka is running (make infra-down first, or run make chaos)" >&2
  else
    CHAOS_PROFILE=short CHAOS_RESULTS_DIR="$results/chaos" scripts/chaos.sh --reporter=default --reporter=json --outputFile="$results/chaos.json" || status=1
  fi
fi

summary=$(node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0, files = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    // Only the reports of the tiers: tests also leave files of their own here (portal screenshots).
    if (!f.endsWith(".json")) continue;
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests; files++;
    // A suite that failed to load has no tests to count: count it as a failure.
    for (const s of r.testResults) if (s.status === "failed" && s.assertionResults.length === 0) failed++;
    // CI keeps only the tail of a run: name every failure here, just above the summary line.
    for (const s of r.testResults) {
      const file = s.name.replace(process.cwd() + "/", "");
      if (s.status === "failed" && s.assertionResults.length === 0) {
        console.log(`FAILED ${file}: ${String(s.message).split("\n")[0].slice(0, 300)}`);
      }
      for (const a of s.assertionResults) {
        if (a.status !== "failed") continue;
        const why = String((a.failureMessages || [])[0] || "").split("\n")[0].slice(0, 300);
        console.log(`FAILED ${file} > ${a.fullName}: ${why}`);
      }
    }
  }
  if (files === 0) failed++;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results")
if [ -n "$summary" ]; then
  # Lines above the last are the named failures.
  failures=$(sed '$d' <<<"$summary")
  summary=$(tail -n 1 <<<"$summary")
fi
if [ -z "$summary" ]; then
  # The runner died before writing its report: that is a failure, and says so.
  summary="0 passed, 1 failed"
  status=1
fi
stop_infra
if [ -n "${failures:-}" ]; then echo "$failures"; fi
# The last line of a test run: what CI reads.
echo "$summary"
exit $status
