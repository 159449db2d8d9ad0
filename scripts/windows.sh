#!/bin/sh
# The Windows build, checked on Debian: cross-compiles every Windows source with mingw-w64
# (warnings are errors) into ./build-windows, then runs the Windows tests under Wine
# (CMakePresets.json, preset mingw-check). Needs the packages scripts/deps.sh installs.
set -eu
cd "$(dirname "$0")/.."
# Wine's own state (its C: drive, registry) for these tests only, made on first use; no
# window, no log chatter, no offer to install Mono or Gecko.
export WINEPREFIX="$PWD/build-windows/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cmake --preset mingw-check >/dev/null
cmake --build --preset mingw-check -j"$(nproc)"
ctest --preset mingw-check
