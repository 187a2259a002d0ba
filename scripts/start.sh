#!/usr/bin/env bash
# npm start: install npm dependencies if needed, build the three processes, start the Electron app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --npm
export PATH="$PWD/node_modules/.bin:$PATH"
npm run --silent build
# On first run the electron package downloads its binary; without internet access that fails (README, Troubleshooting).
exec electron . "$@"
