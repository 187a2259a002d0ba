#!/usr/bin/env bash
# Installs what the project needs on a Debian 12 machine (our build and CI machines), idempotently.
#   scripts/setup.sh          everything the tests need: Debian packages, then npm dependencies (which bring Node 22)
#   scripts/setup.sh --npm    npm dependencies only (enough to build and run the app on a desktop)
# Other operating systems: see README.md, "Other operating systems".
set -euo pipefail
cd "$(dirname "$0")/.."

# Real parts the test suites talk to: broker, browser, OS keychain (Secret Service + D-Bus), OpenSSL as a CMS peer,
# and postgresql: the hub's production database, started privately by the test scripts.
APT_PACKAGES=(rabbitmq-server chromium gnome-keyring dbus dbus-x11 libsecret-1-dev openssl postgresql)

install_debian_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]} and no apt-get here; install their equivalents (README.md, 'Other operating systems')" >&2
    exit 1
  fi
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian may start the system-wide broker and a PostgreSQL cluster on 5432 on install; ours run privately on other
  # ports and do not need them.
}

install_npm_dependencies() {
  local stamp=node_modules/.rts-lock-sha256 want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x node_modules/.bin/node ]]; then return 0; fi
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
}

[[ "${1:-}" == "--npm" ]] || install_debian_packages
install_npm_dependencies
echo "setup: ok (node $(node_modules/.bin/node --version))"
