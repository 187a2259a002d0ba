#!/usr/bin/env bash
# npm run test:badinput: the bad-input classes and the parser fuzzing in the test environment (broker, database,
# keychain), with the two summary lines printed last, after the environment's own shutdown lines.
set -uo pipefail
cd "$(dirname "$0")/.."
summary=$(mktemp /tmp/rts-badinput-XXXXXX)
bash scripts/with-test-env.sh node badinput/run-badinput.ts --summary "$summary"
status=$?
cat "$summary"
rm -f "$summary"
exit "$status"
