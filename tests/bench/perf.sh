#!/bin/sh
# perf.sh: what recording costs, recd against its peers on the same scenes in the same run (not
# a ctest; issue 7's benchmark). Starts its own Xvfb (1920x1080) and PulseAudio (the integration
# fixtures' scripts); for each scene and run, records SECONDS of it with each recorder in turn:
#   recd       whole screen, system sound and microphone tracks, x264 quality "low" at CRF 23,
#              frame_rate_mode "vfr" (FRAME_RATE_MODE=cfr in the environment for constant rate)
#   ffmpeg     -f x11grab -framerate 30 + -f pulse, libx264 ultrafast zerolatency CRF 23, AAC
#   gstreamer  ximagesrc ! videoconvert ! x264enc ultrafast zerolatency (constant quality 23)
#              + pulsesrc ! avenc_aac ! matroskamux
# Scenes: still (a full-screen terminal with text), typing (the same, plus a small terminal
# printing a few lines a second), motion (the fixtures' full-screen test pattern, 30 fps).
# Per recorder: CPU seconds (user + system of its process over the recording: for recd from
# /proc before the start and after the stop's reply, for the peers GNU time), peak RSS, frames in
# the file against SECONDS x 30, file size; for recd also the time from `recctl start` to its
# first captured frame and from `recctl stop` to the reply (file finalized); for motion the
# quality: PSNR of the file against the pattern frames it shows (tests/tools/pattern_psnr; each
# pattern frame carries its number). Prints the medians over the runs with each recorder's CPU as
# a ratio of ffmpeg's, and writes perf.json.
#
# Usage: tests/bench/perf.sh [-s SECONDS] [-r RUNS] [-b BUILD_DIR] [-o OUT_DIR]
#   SECONDS    recording length per recorder and scene, default 60
#   RUNS       runs of every scene and recorder, default 3
#   BUILD_DIR  a configured and built tree, default ./build
#   OUT_DIR    recordings, logs, runs.tsv and perf.json, default BUILD_DIR/bench-perf
# SCENES in the environment: the scenes to run, default "still typing motion" (one alone while
# tuning, e.g. SCENES=motion).
# Needs: ffmpeg, gst-launch-1.0 (gstreamer1.0-tools, -plugins-good, -plugins-ugly, -libav,
# gstreamer1.0-pulseaudio, gstreamer1.0-x for ximagesrc), xterm, GNU time (/usr/bin/time), jq.
# Targets (issue 7): CPU still <= 0.1 x ffmpeg, typing <= 0.3 x, motion <= 0.6 x with no dropped
# frames and a PSNR no more than 0.5 dB below ffmpeg's; peak RSS <= 120 MB; start to first frame
# <= 150 ms; stop to finalized <= 500 ms.
set -eu

name=perf
minutes=0
seconds=60
runs=3
screen=1920x1080
out_name=bench-perf
bins="tests/tools/test_pattern tests/tools/pattern_psnr"
for tool in ffmpeg gst-launch-1.0 xterm jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "perf: $tool not found (see the Needs: line)" >&2; exit 1; }
done
. "$(dirname "$0")/bench_env.sh"

pattern_pid=$(cut -d" " -f1 "$state/xvfb/pattern.pid")
# The peers record the default source; make it the null sink's monitor, as recd's system track.
pactl set-default-source recd_sink.monitor 2>/dev/null || true

hz=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }
# Frames in a file's video stream.
frames_in() {
    ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets \
        -of csv=p=0 "$1" 2>/dev/null || echo 0
}
# scene file: the file's PSNR against the test pattern in the motion scene, else "-".
quality() {
    if [ "$1" = motion ]; then
        "$build/tests/tools/pattern_psnr" "$2" | jq .psnr_db || echo 0
    else
        echo -
    fi
}

scene_pids=
set_scene() {
    for pid in $scene_pids; do kill "$pid" 2>/dev/null || true; done
    scene_pids=
    case $1 in
        motion) kill -CONT "$pattern_pid" ;;
        still | typing)
            kill -STOP "$pattern_pid"
            xterm -geometry 320x83+0+0 -e sh -c 'ls -l /usr/bin | head -80; sleep 100000' &
            scene_pids="$!"
            if [ "$1" = typing ]; then
                # A few lines a second into a 100x30 terminal in a corner: a small part changes.
                # Created after the big one's window (no window manager: the later window is on
                # top; started together, the big one covered it half the time).
                sleep 1
                xterm -geometry 100x30+60+60 -e sh -c \
                    'while :; do ls /usr/share/doc | shuf -n 1; sleep 0.3; done' &
                scene_pids="$scene_pids $!"
            fi
            ;;
    esac
    pids="$pids $scene_pids"
    sleep 2  # mapped and drawn
}

# runs.tsv: scene, run, recorder, cpu_s, rss_mb, frames, mb, start_ms, stop_ms, psnr_db
printf 'scene\trun\trecorder\tcpu_s\trss_mb\tframes\tmb\tstart_ms\tstop_ms\tpsnr_db\n' \
    >"$out/runs.tsv"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out/runs.tsv"; }

record_recd() {  # scene run
    before=$(cpu_ticks "$recd")
    t0=$(now_ms)
    id=$(recctl --json start | jq -r .session.id)
    # recd notes when its first picture came (status's first_frame_unix_ms), so the figure does
    # not include how often this loop asks.
    until first=$(recctl --json status "$id" | jq -e .session.first_frame_unix_ms); do
        sleep 0.01
    done
    start_ms=$((first - t0))
    sleep "$seconds"
    t0=$(now_ms)
    recctl --json stop "$id" >"$out/recd-$1-$2.json"
    stop_ms=$(($(now_ms) - t0))
    cpu=$(echo "$(cpu_ticks "$recd") $before $hz" | awk '{ printf "%.2f", ($1 - $2) / $3 }')
    rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$recd/status")
    file=$(jq -r .session.file "$out/recd-$1-$2.json")
    row "$1" "$2" recd "$cpu" "$rss" "$(frames_in "$file")" \
        "$(du -m "$file" | cut -f1)" "$start_ms" "$stop_ms" "$(quality "$1" "$file")"
}

# scene run recorder file command...: runs the command under GNU time, stops it with SIGINT
# after $seconds (both peers finalize their file on it).
record_peer() {
    scene=$1 run=$2 recorder=$3 file=$4
    shift 4
    /usr/bin/time -f '%U %S %M' -o "$out/$recorder-$scene-$run.time" "$@" \
        >"$out/$recorder-$scene-$run.log" 2>&1 &
    timer=$!
    sleep "$seconds"
    pkill -INT -P "$timer" 2>/dev/null || true
    wait "$timer" || true
    tail -n 1 "$out/$recorder-$scene-$run.time" | awk -v s="$scene" -v r="$run" -v n="$recorder" \
        -v f="$(frames_in "$file")" -v mb="$(du -m "$file" | cut -f1)" -v q="$(quality "$scene" "$file")" \
        '{ printf "%s\t%s\t%s\t%.2f\t%.1f\t%s\t%s\t-\t-\t%s\n", s, r, n, $1 + $2, $3 / 1024, f, mb, q }' \
        >>"$out/runs.tsv"
}

record_ffmpeg() {
    file=$out/rec/ffmpeg-$1-$2.mkv
    record_peer "$1" "$2" ffmpeg "$file" ffmpeg -nostdin -y -loglevel error \
        -thread_queue_size 1024 -f x11grab -framerate 30 -video_size "$screen" -i "$DISPLAY" \
        -thread_queue_size 1024 -f pulse -i default \
        -c:v libx264 -preset ultrafast -tune zerolatency -crf 23 -pix_fmt yuv420p \
        -c:a aac "$file"
}

record_gst() {
    file=$out/rec/gst-$1-$2.mkv
    record_peer "$1" "$2" gstreamer "$file" gst-launch-1.0 -q -e \
        ximagesrc use-damage=false ! video/x-raw,framerate=30/1 ! videoconvert ! \
        x264enc speed-preset=ultrafast tune=zerolatency pass=quant quantizer=23 ! queue ! \
        matroskamux name=mux ! filesink location="$file" \
        pulsesrc ! audioconvert ! audioresample ! avenc_aac ! queue ! mux.
}

start_recd "quality = \"low\"
crf = 23
frame_rate_mode = \"${FRAME_RATE_MODE:-vfr}\""
for scene in ${SCENES:-still typing motion}; do
    set_scene "$scene"
    run=1
    while [ "$run" -le "$runs" ]; do
        echo "$name: $scene, run $run of $runs" >&2
        record_recd "$scene" "$run"
        record_ffmpeg "$scene" "$run"
        record_gst "$scene" "$run"
        run=$((run + 1))
    done
done
set_scene none

# Medians per scene and recorder, CPU as a ratio of ffmpeg's median in the same scene.
summary=$(awk -F'\t' 'NR > 1 { key = $1 "\t" $3; n[key]++; for (c = 4; c <= 10; c++) v[key, c, n[key]] = $c }
    function median(key, c,   i, j, a, t, m) {
        m = n[key]; for (i = 1; i <= m; i++) a[i] = v[key, c, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        for (key in n) { split(key, k, "\t"); if (k[2] == "ffmpeg") base[k[1]] = median(key, 4) }
        for (key in n) {
            split(key, k, "\t")
            ratio = base[k[1]] > 0 ? median(key, 4) / base[k[1]] : 0
            start = k[2] == "recd" ? median(key, 8) : "-"
            stop = k[2] == "recd" ? median(key, 9) : "-"
            psnr = k[1] == "motion" ? sprintf("%.2f", median(key, 10)) : "-"
            printf "%s\t%s\t%.2f\t%.3f\t%.1f\t%d\t%d\t%s\t%s\t%s\n", k[1], k[2], median(key, 4),
                ratio, median(key, 5), median(key, 6), median(key, 7), start, stop, psnr
        }
    }' "$out/runs.tsv" | sort)
echo "recd against its peers: $screen, $seconds s per recording, medians of $runs runs ($(nproc) cores)"
printf '%-8s %-10s %8s %9s %8s %8s %6s %9s %8s %8s\n' scene recorder cpu_s x_ffmpeg rss_mb frames mb \
    start_ms stop_ms psnr_db
echo "$summary" | awk -F'\t' '{ printf "%-8s %-10s %8s %9s %8s %8s %6s %9s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
echo "$summary" | jq -R -s --arg screen "$screen" --argjson seconds "$seconds" --argjson runs "$runs" '
    split("\n") | map(select(length > 0) | split("\t") | {scene: .[0], recorder: .[1],
        cpu_s: (.[2] | tonumber), cpu_vs_ffmpeg: (.[3] | tonumber), peak_rss_mb: (.[4] | tonumber),
        frames: (.[5] | tonumber), mb: (.[6] | tonumber),
        start_to_first_frame_ms: (if .[7] == "-" then null else (.[7] | tonumber) end),
        stop_to_final_ms: (if .[8] == "-" then null else (.[8] | tonumber) end),
        psnr_db: (if .[9] == "-" then null else (.[9] | tonumber) end)})
    | {screen: $screen, seconds: $seconds, runs: $runs, results: .}' >"$out/perf.json"
echo "runs: $out/runs.tsv; summary: $out/perf.json"
