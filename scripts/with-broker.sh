#!/usr/bin/env bash
# Runs a command with the private broker RTS_BROKER names: rabbitmq (the default; scripts/with-test-env.sh, which also
# starts PostgreSQL and a keychain) or artemis (scripts/with-artemis.sh).
# Usage: [RTS_BROKER=artemis] scripts/with-broker.sh COMMAND [ARGS…]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${RTS_BROKER:-rabbitmq}" in
  rabbitmq) exec bash scripts/with-test-env.sh "$@" ;;
  artemis) exec bash scripts/with-artemis.sh "$@" ;;
  *) echo "RTS_BROKER=${RTS_BROKER}: use rabbitmq or artemis" >&2; exit 2 ;;
esac
