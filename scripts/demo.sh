#!/usr/bin/env bash
# The main job on an embedded default: installs what is missing, builds, then
# generates a synthetic population (20,000 customers, 60 days) and back-tests it
# with the default rule pack, printing the alerts summary. Extra arguments go
# to `txflag demo` (e.g. --accounts 100000 --days 90 --out /tmp/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/txflag demo "$@"
