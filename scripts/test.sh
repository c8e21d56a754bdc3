#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, end-to-end,
# kill-and-resume, and the clang-format check) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset default -j"$(nproc)"
