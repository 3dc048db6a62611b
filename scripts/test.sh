#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npm run --silent lint
node scripts/run-tests.mjs dist/test
