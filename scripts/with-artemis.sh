#!/usr/bin/env bash
# Runs a command with a private ActiveMQ Artemis (the RTS topology, on a free loopback port; RTS_TEST_ARTEMIS_STATE
# names its state file) and stops it afterwards by pid.
# Usage: scripts/with-artemis.sh [--pair | --groups N] COMMAND [ARGS…]
#   --pair      a primary and a backup replicating it
#   --groups N  N live brokers serving at once, in a cluster
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
shape=()
if [[ "${1:-}" == "--pair" ]]; then shape=(--pair); shift
elif [[ "${1:-}" == "--groups" ]]; then shape=(--groups "$2"); shift 2; fi
[[ $# -gt 0 ]] || { echo "usage: $0 [--pair | --groups N] COMMAND [ARGS…]" >&2; exit 2; }

mkdir -p .test-env
state="$PWD/.test-env/artemis-$$.json"
trap 'node scripts/test-env/artemis.ts stop --state "$state" || true' EXIT
trap 'exit 130' INT TERM
node scripts/test-env/artemis.ts start --state "$state" "${shape[@]}"
export RTS_TEST_ARTEMIS_STATE="$state"
"$@"
