#!/usr/bin/env bash
# Fails if any C++ file of the repository is not clang-formatted (.clang-format,
# Google style). Run scripts/check-format.sh --fix to reformat.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h' | grep -v '^./build')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i --style=file "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror --style=file "${files[@]}"
echo "check-format: ${#files[@]} files formatted"
