#!/usr/bin/env bash
# Runs a command with the real parts integration and browser tests need, and stops them afterwards by pid:
#   - a private RabbitMQ on loopback ports with the RTS topology (RTS_TEST_BROKER_STATE names its state file), or with
#     RTS_BROKER=artemis a private ActiveMQ Artemis (RTS_TEST_ARTEMIS_STATE; testkit/broker-under-test.ts picks it);
#   - a private PostgreSQL on a loopback port with an empty database rts_hub (RTS_TEST_POSTGRES_STATE names its state file);
#   - a D-Bus session with a throw-away, unlocked gnome-keyring (the OS keychain the vault talks to).
# Usage: scripts/with-test-env.sh [--nodes N] COMMAND [ARGS…]
set -euo pipefail
cd "$(dirname "$0")/.."
# The project runs on the Node it installs (node_modules/.bin/node, see package.json), not the machine's.
export PATH="$PWD/node_modules/.bin:$PATH"

nodes=1
if [[ "${1:-}" == "--nodes" ]]; then nodes=$2; shift 2; fi
[[ $# -gt 0 ]] || { echo "usage: [RTS_BROKER=artemis] $0 [--nodes N] COMMAND [ARGS…]" >&2; exit 2; }
broker=${RTS_BROKER:-rabbitmq}
case "$broker" in
  rabbitmq) ;;
  artemis) [[ $nodes == 1 ]] || { echo "$0: --nodes is RabbitMQ's (an Artemis pair: scripts/with-artemis.sh --pair)" >&2; exit 2; } ;;
  *) echo "RTS_BROKER=$broker: use rabbitmq or artemis" >&2; exit 2 ;;
esac

mkdir -p .test-env
state=".test-env/broker-$$.json"
pg_state=".test-env/postgres-$$.json"
# Under /tmp like RabbitMQ's: when run as root the server runs as the postgres user, who may not reach the checkout.
pg_dir=$(mktemp -d /tmp/rts-postgres-XXXXXX)
pg_start=
keyring=$(mktemp -d /tmp/rts-keyring-XXXXXX)
cleanup() {
  # A PostgreSQL still starting finishes (or gives up) first, so that its state file names what to stop.
  [[ -z $pg_start ]] || wait "$pg_start" 2>/dev/null || true
  node scripts/test-env/postgres.ts stop --state "$pg_state" || true
  rm -rf "$pg_dir"
  if [[ $broker == artemis ]]; then node scripts/test-env/artemis.ts stop --state "$PWD/$state" || true
  else node scripts/test-env/rabbitmq.ts stop --state "$state" || true; fi
  # gnome-keyring-daemon detaches from the session and can outlive it (holding the caller's pipes open): stop ours,
  # found by the runtime directory in its environment, and no other run's.
  for pid in $(pgrep -x gnome-keyring-d || true); do
    if { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$keyring"; then kill "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$keyring"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL (about 1 s) starts while the broker boots.
node scripts/test-env/postgres.ts start --state "$pg_state" --dir "$pg_dir" &
pg_start=$!
if [[ $broker == artemis ]]; then
  node scripts/test-env/artemis.ts start --state "$PWD/$state"
  export RTS_TEST_ARTEMIS_STATE="$PWD/$state"
else
  node scripts/test-env/rabbitmq.ts start --state "$state" --nodes "$nodes"
  export RTS_TEST_BROKER_STATE="$PWD/$state"
fi
wait "$pg_start"
pg_start=
export RTS_TEST_POSTGRES_STATE="$PWD/$pg_state"

# Without DISPLAY a locked keyring fails fast instead of waiting for a prompt window; it is unlocked here anyway.
# The bus daemon exits when dbus-run-session ends; the keyring daemon is stopped by cleanup.
unset DISPLAY
# Chromium would otherwise start the accessibility bus in every session, filling the log.
export NO_AT_BRIDGE=1
# --unlock returns before the daemon owns org.freedesktop.secrets: a client asking first has D-Bus start a second
# daemon, which finds the keyring locked (a CI bad-input run failed so: "unlock prompt was dismissed"). Wait for the name.
# And should the daemon go away during the run (a CI run on 4 Dec lost it mid-suite: "couldn't connect to control
# socket"), D-Bus starts the one this session's service file names (XDG_DATA_HOME/dbus-1/services comes before the
# system's): unlocked with the same password, on the same keyring file, so the secrets stored before are still there.
mkdir -p "$keyring/dbus-1/services"
cat > "$keyring/start-keyring.sh" <<'SCRIPT'
#!/bin/sh
printf %s rts-test-keyring | exec /usr/bin/gnome-keyring-daemon --unlock --foreground --components=secrets
SCRIPT
chmod +x "$keyring/start-keyring.sh"
printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$keyring/start-keyring.sh" > "$keyring/dbus-1/services/org.freedesktop.secrets.service"
XDG_DATA_HOME="$keyring" XDG_RUNTIME_DIR="$keyring" dbus-run-session -- bash -c '
  printf %s rts-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.05
  done
  exec "$@"
' with-test-env "$@" 2> >(grep -v "Failed to set fd limit" >&2)
