#!/usr/bin/env bash
# The whole test run, from a fresh clone: set-up, static checks, build, unit tests, then integration and browser
# tests against a private broker and a throw-away keychain that are started here and stopped afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf test-results && mkdir -p test-results

failed=()
step() {
  local name=$1 started=$SECONDS
  shift
  echo "=== $name"
  if "$@"; then echo "=== $name: ok ($((SECONDS - started))s)"; else failed+=("$name"); echo "=== $name: FAILED ($((SECONDS - started))s)"; fi
}

# Type check and lint side by side (81 s here against 99 one after the other), each's output shown whole at its end.
started=$SECONDS
npm run --silent typecheck > test-results/typecheck.log 2>&1 &
typecheck=$!
npm run --silent lint > test-results/lint.log 2>&1 &
lint=$!
for name in typecheck lint; do
  echo "=== $name"
  if wait "${!name}"; then status=ok; else
    status=FAILED
    failed+=("$name")
  fi
  cat "test-results/$name.log"
  echo "=== $name: $status ($((SECONDS - started))s)"
done
step security npm run --silent security:scan
# Every catalogue (en, zh-Hans, bn, nb) has every message and no other; prints i18n: locales=4 missing=0 unused=0.
step i18n npm run --silent i18n:check
step build npm run --silent build
step unit vitest run --project unit --reporter=default --reporter=json --outputFile.json=test-results/unit.json
step "integration + browser" bash scripts/with-test-env.sh bash -c '
  set -o pipefail
  status=0
  vitest run --project int --reporter=default --reporter=json --outputFile.json=test-results/int.json 2>&1 | tee test-results/int.log || status=1
  PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/e2e.json playwright test --reporter=list,json 2>&1 | tee test-results/e2e.log || status=1
  exit $status'

# The RTS topology, settlement and provisioning on a private ActiveMQ Artemis (the source system's broker family), and
# the integration suites of hub, workstation and connector again on it (vitest.config.ts, BROKER_NEUTRAL_INTEGRATION).
step artemis env RTS_BROKER=artemis bash scripts/with-test-env.sh vitest run --project artemis --reporter=default --reporter=json \
  --outputFile.json=test-results/artemis.json
# Two live Artemis groups serving at once in a cluster, as the source system ran its brokers.
step "artemis (two live groups)" bash scripts/with-artemis.sh --groups 2 vitest run --project artemis-groups \
  --reporter=default --reporter=json --outputFile.json=test-results/artemis-groups.json

# Broker kill -9, consumer kill -9, poison messages, and failover on a 3-node cluster: 0 lost, 0 duplicates required.
step faults npm run --silent test:faults
# The same suites on ActiveMQ Artemis (failover: a primary and its replicating backup).
step "faults (artemis)" env RTS_BROKER=artemis npm run --silent test:faults
# Every bad-input class at the hub and a workstation core, and fuzzing of the parsers: all handled, 0 crashes, 0 hangs.
step badinput npm run --silent test:badinput
step "badinput (artemis)" env RTS_BROKER=artemis npm run --silent test:badinput
# A new clinic joins the demo region through the connector, driven by the Python client: prints connector-check: ok.
step connector-check npm run --silent connector:check

if ((${#failed[@]})); then
  # The first lines of each error, so that the tail of a CI log says why (a failed hook is not in the JSON reports).
  echo "=== errors (first lines; whole logs in test-results/)"
  sed 's/\x1b\[[0-9;]*m//g' test-results/int.log test-results/e2e.log 2>/dev/null | grep -E -A2 '^ *(FAIL |Error:|[A-Za-z]*Error:)' | head -24
fi
node scripts/test-summary.ts test-results/unit.json test-results/int.json test-results/artemis.json \
  test-results/artemis-groups.json test-results/e2e.json
if ((${#failed[@]})); then
  echo "FAILED steps: ${failed[*]}"
  exit 1
fi
echo "all steps ok in ${SECONDS}s"
