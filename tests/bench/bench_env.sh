# bench_env.sh: what the benchmarks in tests/bench share, sourced by each before anything else
# it does. Needs: $name (for messages), $minutes and $out_name (the defaults of -m and -o), $bins
# (binaries under the build tree it needs); may set $screen (default 1280x720), $seconds and $runs
# (defaults of -s and -r, for a caller that takes them). Reads the caller's options (-m MINUTES,
# -s SECONDS, -r RUNS, -b BUILD_DIR, -o OUT_DIR; the usage is the caller's "# Usage:" comment).
# Gives: $minutes, $seconds, $runs, $build (absolute), a fresh $out with rec/ and run/, a private
# Xvfb (the fixture's moving test pattern, $screen) and PulseAudio server under $out/state,
# DISPLAY / PULSE_SERVER / XDG_RUNTIME_DIR exported, $fixtures, bench_lib.sh (recctl, cpu_ticks,
# launch_recd), $pids (every pid added is stopped on exit, with both servers), and start_recd
# [VIDEO_LINES], which starts a recd writing to $out/rec and waits until it answers ($recd: its
# pid).

build=build
out=
screen=${screen:-1280x720}
seconds=${seconds:-0}
runs=${runs:-1}
while getopts m:s:r:b:o: opt; do
    case $opt in
        m) minutes=$OPTARG ;;
        s) seconds=$OPTARG ;;
        r) runs=$OPTARG ;;
        b) build=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '/^# Usage:/,/^# Targets/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
out=${out:-$build/$out_name}

fixtures=$(cd "$(dirname "$0")/../integration/fixtures" && pwd)
for bin in daemon/recd client/recctl $bins; do
    [ -x "$build/$bin" ] || { echo "$name: $build/$bin is not built" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/rec" "$out/run"
chmod 700 "$out/run"
state=$out/state
. "$(dirname "$0")/bench_lib.sh"

pids=
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    sh "$fixtures/pulse_stop.sh" "$state/pulse"
    sh "$fixtures/xvfb_stop.sh" "$state/xvfb"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sh "$fixtures/xvfb_start.sh" "$state/xvfb" "$build/tests/tools/test_pattern" "$screen" >/dev/null
sh "$fixtures/pulse_start.sh" "$state/pulse" >/dev/null
DISPLAY=$(cat "$state/xvfb/display")
PULSE_SERVER=$(cat "$state/pulse/server")
XDG_RUNTIME_DIR=$out/run
export DISPLAY PULSE_SERVER XDG_RUNTIME_DIR
unset RECD_SOCKET

# recd as a user gets it: only the output directory is set, plus the [video] lines in $1 if any.
start_recd() {
    printf '[output]\ndirectory = "%s"\n' "$out/rec" >"$out/recd.toml"
    [ -z "${1:-}" ] || printf '\n[video]\n%s\n' "$1" >>"$out/recd.toml"
    launch_recd "$out/recd.toml" "$out/recd.log"
}
