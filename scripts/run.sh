#!/bin/sh
# The main job: install what is needed, build, then record 10 s of this display ($DISPLAY)
# with recd and print the file it wrote.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
if [ -z "${DISPLAY:-}" ]; then
    echo "run.sh: no X display (DISPLAY is not set). Run this inside a graphical session, or" >&2
    echo "start a virtual one: Xvfb :99 -screen 0 1920x1080x24 & DISPLAY=:99 $0" >&2
    exit 1
fi
recd=build/daemon/recd
recctl=build/client/recctl
started=""
if ! $recctl ping >/dev/null 2>&1; then
    log="${TMPDIR:-/tmp}/recd-run.$$.log"
    $recd --log-file "$log" 2>/dev/null &
    started=$!
    trap 'kill $started 2>/dev/null || true' EXIT
    for _ in $(seq 50); do $recctl ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "started recd (pid $started, log $log)"
fi
session=$($recctl start --name run | tee /dev/stderr | cut -d' ' -f1)
sleep 10
$recctl stop "$session"
if [ -n "$started" ]; then
    $recctl shutdown >/dev/null
    wait "$started" || true
    trap - EXIT
fi
