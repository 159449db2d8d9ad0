#!/bin/sh
# Installs what is needed, builds, and runs every test (unit and integration; the integration
# tests start their own private X server), then the Windows build's check (cross-compiled,
# its tests under Wine).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
./scripts/windows.sh
