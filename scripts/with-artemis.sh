#!/usr/bin/env bash
# Runs a command with a private ActiveMQ Artemis (the RTS topology, on a free loopback port; RTS_TEST_ARTEMIS_STATE
# names its state file) and stops it afterwards by pid.
# Usage: scripts/with-artemis.sh [--pair] [--postgres] COMMAND [ARGS…]
#   --pair      a primary and a backup replicating it
#   --postgres  a private PostgreSQL too (RTS_TEST_POSTGRES_STATE), for the hub suites that run a hub on it
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
pair=()
postgres=
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --pair) pair=(--pair) ;;
    --postgres) postgres=1 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--pair] [--postgres] COMMAND [ARGS…]" >&2; exit 2; }

mkdir -p .test-env
state="$PWD/.test-env/artemis-$$.json"
pg_state="$PWD/.test-env/postgres-artemis-$$.json"
pg_dir=
cleanup() {
  node scripts/test-env/artemis.ts stop --state "$state" || true
  if [[ -n $pg_dir ]]; then
    node scripts/test-env/postgres.ts stop --state "$pg_state" || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -n $postgres ]]; then
  # Under /tmp: when run as root the server runs as the postgres user, who may not reach the checkout.
  pg_dir=$(mktemp -d /tmp/rts-postgres-XXXXXX)
  node scripts/test-env/postgres.ts start --state "$pg_state" --dir "$pg_dir"
  export RTS_TEST_POSTGRES_STATE="$pg_state"
fi
node scripts/test-env/artemis.ts start --state "$state" "${pair[@]}"
export RTS_TEST_ARTEMIS_STATE="$state"
"$@"
