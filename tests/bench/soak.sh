#!/bin/sh
# soak.sh: recd over a long run (not a ctest; issue 6's benchmark). Starts its own Xvfb (the
# fixture's moving test pattern, 1280x720) and PulseAudio, a recd, and two recordings side by
# side, each of half the screen with the system sound of a null sink that sync_tool beeps into
# four times a second and a pipe-source microphone it feeds. Every 10 s it samples recd's
# resident memory (VmRSS, and how much of it is malloc heap and other anonymous memory), its open
# descriptors and both sessions' dropped frames; at the end it prints the growth per hour (least
# squares over the samples after a 2-minute warm-up), the dropped and duplicated frames, and
# writes the samples and a JSON summary.
#
# Usage: tests/bench/soak.sh [-m MINUTES] [-b BUILD_DIR] [-o OUT_DIR]
#   MINUTES    run length, default 60
#   BUILD_DIR  a configured and built tree, default ./build
#   OUT_DIR    recordings, logs, samples.tsv and soak.json, default BUILD_DIR/bench-soak
# Targets (issue 6): RSS growth below 2 MB/h, no descriptor growth, zero dropped frames.
set -eu

command -v jq >/dev/null || { echo "soak: jq not found: apt-get install jq" >&2; exit 1; }
name=soak
minutes=60          # default of -m
out_name=bench-soak # default of -o: under the build tree
bins="tests/tools/sync_tool tests/tools/test_pattern"
. "$(dirname "$0")/bench_env.sh"

pactl load-module module-pipe-source source_name=soak_mic file="$out/mic.fifo" \
    format=float32le rate=48000 channels=2 >/dev/null
sh "$fixtures/pulse_realtime_sources.sh" "$state/pulse"
"$build/tests/tools/sync_tool" --region 160x120+560+300 --mic-fifo "$out/mic.fifo" \
    >"$out/sync_tool.log" 2>&1 &
pids="$pids $!"

start_recd
for region in 640x360+0+0 640x360+640+360; do
    recctl --json start --region "$region" --mic-device soak_mic >/dev/null
done

# samples.tsv: seconds, RSS kB, open descriptors, dropped and duplicated frames (both sessions),
# and where the RSS is: the malloc heap (brk) and other anonymous mappings (thread arenas, large
# blocks, stacks), kB, from smaps.
printf 'seconds\trss_kb\tfds\tdropped\tduplicated\theap_kb\tanon_kb\n' >"$out/samples.tsv"
begin=$(date +%s)
end=$((begin + minutes * 60))
while :; do
    now=$(date +%s)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$recd/status")
    fds=$(ls "/proc/$recd/fd" | wc -l)
    frames=$(recctl --json list | jq -r '[.sessions[].frames] |
        "\(map(.dropped) | add)\t\(map(.duplicated) | add)"')
    regions=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { heap = $6 == "[heap]"; anon = NF == 5 }
        /^Rss:/ { if (heap) h += $2; else if (anon) a += $2 }
        END { printf "%d\t%d", h, a }' "/proc/$recd/smaps")
    printf '%s\t%s\t%s\t%s\t%s\n' $((now - begin)) "$rss" "$fds" "$frames" "$regions" \
        >>"$out/samples.tsv"
    [ "$now" -lt "$end" ] || break
    sleep 10
done
recctl --json stop --all >"$out/stopped.json"

# Least-squares slope per hour of a column over the samples after the warm-up.
slope() {
    awk -v col="$1" 'NR > 1 && $1 >= 120 {
        n++; x = $1 / 3600; y = $col; sx += x; sy += y; sxx += x * x; sxy += x * y
    } END {
        if (n < 2 || sxx * n == sx * sx) { print "nan"; exit }
        printf "%.3f", (n * sxy - sx * sy) / (n * sxx - sx * sx)
    }' "$out/samples.tsv"
}
last() { tail -n 1 "$out/samples.tsv" | cut -f "$1"; }
first() { sed -n 2p "$out/samples.tsv" | cut -f "$1"; }
mb_per_h() { slope "$1" | awk '{ if ($1 == "nan") print $1; else printf "%.3f", $1 / 1024 }'; }
rss_mb_per_h=$(mb_per_h 2)
fds_per_h=$(slope 3)
printf '%-22s %12s\n' measure value
printf '%-22s %12s\n' minutes "$minutes"
printf '%-22s %12s\n' rss_first_mb "$(first 2 | awk '{printf "%.1f", $1 / 1024}')"
printf '%-22s %12s\n' rss_last_mb "$(last 2 | awk '{printf "%.1f", $1 / 1024}')"
printf '%-22s %12s\n' rss_growth_mb_per_h "$rss_mb_per_h"
printf '%-22s %12s\n' heap_growth_mb_per_h "$(mb_per_h 6)"
printf '%-22s %12s\n' anon_growth_mb_per_h "$(mb_per_h 7)"
printf '%-22s %12s\n' fds_first "$(first 3)"
printf '%-22s %12s\n' fds_last "$(last 3)"
printf '%-22s %12s\n' fd_growth_per_h "$fds_per_h"
printf '%-22s %12s\n' dropped_frames "$(last 4)"
printf '%-22s %12s\n' duplicated_frames "$(last 5)"
printf '{"minutes":%s,"rss_growth_mb_per_h":%s,"heap_growth_mb_per_h":%s,"anon_growth_mb_per_h":%s,"fd_growth_per_h":%s,"fds_first":%s,"fds_last":%s,"dropped":%s,"duplicated":%s}\n' \
    "$minutes" "$rss_mb_per_h" "$(mb_per_h 6)" "$(mb_per_h 7)" "$fds_per_h" "$(first 3)" \
    "$(last 3)" "$(last 4)" "$(last 5)" \
    >"$out/soak.json"
echo "samples: $out/samples.tsv; summary: $out/soak.json"
