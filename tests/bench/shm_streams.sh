#!/bin/sh
# shm_streams.sh: many shared-memory streams recorded at once (not a ctest; issue 9's benchmark).
# Starts a recd (no X display, no audio: rings need neither) and N recd-shm-push producers, each
# a moving 640x480 BGRA test card at 30 fps in a ring of its own, records them all with x264
# ultrafast (quality "low"), and after a warm-up measures for SECONDS: the frames lost (what the
# producers overwrote before recd read it, plus what recd dropped), recd's CPU (user + system
# from /proc/PID/stat, in % of one core) and its resident memory (and how much of it is the
# rings' shared pages). With -f it looks for the
# largest N recorded with no frame lost: N doubles from 1 until frames are lost, then a binary
# search between the last clean N and the first lossy one.
#
# Usage: tests/bench/shm_streams.sh [-n STREAMS] [-s SECONDS] [-f] [-b BUILD_DIR] [-o OUT_DIR]
#   STREAMS    producers and recordings, default 10
#   SECONDS    measured time per run (after 3 s of warm-up), default 20
#   -f         find the largest N with no loss (several runs) instead of one run of STREAMS
#   BUILD_DIR  a configured and built tree, default ./build
#   OUT_DIR    recordings, logs and shm_streams.json, default BUILD_DIR/bench-shm
# Targets (issue 9): 10 streams with zero frames lost on a 2-core machine; CPU and RSS reported.
set -eu

command -v jq >/dev/null || { echo "shm_streams: jq not found: apt-get install jq" >&2; exit 1; }
streams=10
seconds=20
find_max=0
build=build
out=
while getopts n:s:fb:o: opt; do
    case $opt in
        n) streams=$OPTARG ;;
        s) seconds=$OPTARG ;;
        f) find_max=1 ;;
        b) build=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '/^# Usage:/,/^# Targets/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
out=${out:-$build/bench-shm}
for bin in daemon/recd client/recctl tools/recd-shm-push; do
    [ -x "$build/$bin" ] || { echo "shm_streams: $build/$bin is not built" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out"
warmup=3
ticks=$(getconf CLK_TCK)

name=shm_streams
pids=
. "$(dirname "$0")/bench_lib.sh"
stop_all() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    pids=
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# One run of $1 streams into $out/N$1; its figures (one JSON object) in $out/N$1/result.json.
run() {
    n=$1
    dir=$out/N$n
    mkdir -p "$dir/rec" "$dir/run"
    chmod 700 "$dir/run"
    export XDG_RUNTIME_DIR=$dir/run
    unset RECD_SOCKET DISPLAY
    printf '[output]\ndirectory = "%s"\n\n[video]\nquality = "low"\nencoder = ["x264"]\n' \
        "$dir/rec" >"$dir/recd.toml"
    launch_recd "$dir/recd.toml" "$dir/recd.log"
    k=0
    while [ $k -lt "$n" ]; do
        "$build/tools/recd-shm-push" "bench-$$-$k" >"$dir/push-$k.log" 2>&1 &
        pids="$pids $!"
        k=$((k + 1))
    done
    k=0
    while [ $k -lt "$n" ]; do
        i=0
        until [ -e "/dev/shm/recd-$(id -u)-bench-$$-$k" ]; do
            i=$((i + 1))
            [ $i -le 100 ] || { echo "shm_streams: producer $k did not start" >&2; exit 1; }
            sleep 0.05
        done
        recctl --json start --source "shm:bench-$$-$k" --name "stream$k" >/dev/null
        k=$((k + 1))
    done
    sleep "$warmup"
    before=$(recctl --json list)
    cpu0=$(cpu_ticks "$recd")
    t0=$(date +%s.%N)
    sleep "$seconds"
    cpu1=$(cpu_ticks "$recd")
    t1=$(date +%s.%N)
    after=$(recctl --json list)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$recd/status")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$recd/status")
    # Of the RSS, the rings' pages recd maps (shared with their producers, not recd's own).
    shmem=$(awk '/^RssShmem:/ {print $2}' "/proc/$recd/status")
    recctl --json stop --all >"$dir/stopped.json"
    stop_all
    # Frames lost and encoded during the measured time: the difference of the two listings.
    lost() { echo "$1" | jq '[.sessions[].frames | .overwritten + .dropped] | add'; }
    encoded() { echo "$1" | jq '[.sessions[].frames.encoded] | add'; }
    duplicated() { echo "$1" | jq '[.sessions[].frames.duplicated] | add'; }
    jq -n --argjson n "$n" --argjson seconds "$seconds" \
        --argjson lost $(($(lost "$after") - $(lost "$before"))) \
        --argjson lost_total "$(jq '[.sessions[].frames | .overwritten + .dropped] | add' "$dir/stopped.json")" \
        --argjson encoded $(($(encoded "$after") - $(encoded "$before"))) \
        --argjson duplicated $(($(duplicated "$after") - $(duplicated "$before"))) \
        --argjson cpu "$(echo "$cpu0 $cpu1 $t0 $t1 $ticks" | awk '{printf "%.1f", ($2 - $1) / $5 / ($4 - $3) * 100}')" \
        --argjson rss_mb "$(echo "$rss" | awk '{printf "%.1f", $1 / 1024}')" \
        --argjson peak_rss_mb "$(echo "$hwm" | awk '{printf "%.1f", $1 / 1024}')" \
        --argjson rings_rss_mb "$(echo "$shmem" | awk '{printf "%.1f", $1 / 1024}')" \
        '{streams: $n, seconds: $seconds, frames_lost: $lost, frames_lost_whole_run: $lost_total,
          frames_encoded: $encoded, frames_expected: ($n * $seconds * 30),
          frames_duplicated: $duplicated, recd_cpu_percent_of_one_core: $cpu,
          recd_rss_mb: $rss_mb, recd_peak_rss_mb: $peak_rss_mb,
          recd_rss_of_rings_mb: $rings_rss_mb}' -c >"$dir/result.json"
    report "$dir/result.json"
}

report() {
    jq -r '"streams \(.streams): \(.frames_lost) frames lost (\(.frames_lost_whole_run) over the whole run), \(.frames_encoded) of \(.frames_expected) encoded, \(.frames_duplicated) duplicated; recd CPU \(.recd_cpu_percent_of_one_core) % of one core, RSS \(.recd_rss_mb) MB (peak \(.recd_peak_rss_mb) MB; \(.recd_rss_of_rings_mb) MB of it the rings, shared with their producers)"' "$1" >&2
}

if [ "$find_max" = 0 ]; then
    run "$streams"
    tee "$out/shm_streams.json" <"$out/N$streams/result.json"
    exit 0
fi

# -f: double until a run loses frames, then bisect.
good=0
bad=0
n=1
lossless() { [ "$(jq .frames_lost_whole_run "$out/N$1/result.json")" -eq 0 ]; }
while :; do
    run "$n"
    if lossless "$n"; then good=$n; n=$((n * 2)); else bad=$n; break; fi
    [ $n -le 256 ] || break
done
while [ $bad -gt 0 ] && [ $((bad - good)) -gt 1 ]; do
    n=$(((good + bad) / 2))
    run "$n"
    if lossless "$n"; then good=$n; else bad=$n; fi
done
cat "$out"/N*/result.json | jq -s --argjson max "$good" '{max_streams_without_loss: $max, runs: sort_by(.streams)}' \
    | tee "$out/shm_streams.json"
echo "largest number of streams recorded with no frame lost: $good" >&2
