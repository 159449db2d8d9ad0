#!/bin/sh
# Installs what is needed, builds, and runs every test (unit and integration; the integration
# tests start their own private X server).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
