# bench_lib.sh: shell functions every benchmark in tests/bench uses, sourced by bench_env.sh and
# by benchmarks that need no display or audio server (shm_streams.sh). Needs $build (absolute),
# $name (for messages) and $pids (every pid added is stopped on exit by the caller's trap).

recctl() { "$build/client/recctl" "$@"; }

# A process's user + system CPU time so far, in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the ')' that ends the command name, which may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# launch_recd CONFIG LOG: starts a recd on CONFIG logging to LOG, and returns once it answers
# ($recd: its pid; added to $pids).
launch_recd() {
    # RECD_BENCH_LOG_LEVEL (e.g. debug): recd logs at that level into the run's log.
    "$build/daemon/recd" --config "$1" ${RECD_BENCH_LOG_LEVEL:+--log-level "$RECD_BENCH_LOG_LEVEL"} \
        >"$2" 2>&1 &
    recd=$!
    pids="$pids $recd"
    i=0
    until recctl ping >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le 100 ] || { echo "$name: recd did not start" >&2; cat "$2" >&2; exit 1; }
        sleep 0.1
    done
}
