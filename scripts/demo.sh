#!/usr/bin/env bash
# The demo on a fresh Debian machine: installs what it needs, then forms a cluster on the embedded controller.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec node bin/edgesim.cjs demo "$@"
