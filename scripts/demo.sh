#!/usr/bin/env bash
# The main job on an embedded default: installs what is missing, builds, then
# generates a synthetic population (10,000 customers, 60 days) and streams it
# through an in-process Kafka mock cluster into the engine, printing alerts as
# they are produced and precision/recall at the end. Extra arguments go to
# `txflag demo` (e.g. --accounts 20000 --days 90 --out /tmp/demo, or
# --backtest to back-test the file instead).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/txflag demo "$@"
