#!/bin/sh
# Installs everything recd needs to build and test, from Debian 12's archive. Idempotent.
set -eu
# tigervnc-standalone-server (Xvnc) and x11-xserver-utils (xrandr): an X server whose screen the
# resize test changes. dpkg-dev and file: cpack's .deb (dpkg-shlibdeps); init-system-helpers:
# what the .deb enables the user unit with; jq and passwd (useradd): the fleet test.
# g++-mingw-w64-x86-64-posix, wine and wine64: the Windows build's check (scripts/windows.sh).
packages="build-essential cmake pkg-config clang-format
libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavdevice-dev
libboost-dev libspdlog-dev catch2 nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
libxcb1-dev libxcb-shm0-dev libxcb-xfixes0-dev libxcb-randr0-dev libxcb-damage0-dev libpulse-dev
xvfb x11-utils tigervnc-standalone-server x11-xserver-utils ffmpeg pulseaudio pulseaudio-utils groff-base
dpkg-dev file init-system-helpers jq passwd
g++-mingw-w64-x86-64-posix wine wine64"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
