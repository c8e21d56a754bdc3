#!/usr/bin/env bash
# Installs the Debian 12 packages txflag builds and tests with, skipping those
# already present. Needs root (or sudo) and Debian's package mirrors.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  librdkafka-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libabsl-dev libbenchmark-dev libgtest-dev libgmock-dev libcli11-dev
  kcat tzdata
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
