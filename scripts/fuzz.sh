#!/bin/sh
# Fuzzes recd's request parser and dispatcher (tests/fuzz) for SECONDS (default 600): installs
# clang if missing, builds ./build-fuzz (never ./build) with libFuzzer + ASan + UBSan, runs the
# fuzzer on a working copy of tests/fuzz/corpus (the repository's seeds are never written) and
# prints a summary. Findings (crash-*, timeout-*, leak-*, oom-*) go to build-fuzz/fuzz-artifacts;
# replay one with build-fuzz/tests/fuzz/fuzz_request FILE. Exit status 1 if there are any.
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-600}"
./scripts/deps.sh
if ! command -v clang++ >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing clang"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang
fi
cmake -S . -B build-fuzz -DRECD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzz_request -j"$(nproc)"

# The working corpus keeps what earlier runs found; the seeds are added to it each time.
corpus=build-fuzz/fuzz-corpus
artifacts=build-fuzz/fuzz-artifacts
log=build-fuzz/fuzz.log
mkdir -p "$corpus" "$artifacts"
cp tests/fuzz/corpus/* "$corpus/"
# Seeds too big for the repository, made here: libFuzzer lengthens its inputs slowly (a few
# hundred bytes in 10 minutes), so without them nothing near 64 KiB would be tried. A ping whose
# line is exactly 64 KiB with its newline, one byte more (TOO_LARGE), and an id nested 30 000
# deep (it overflowed the io thread's stack before parse_request refused nesting past 64).
pad() { head -c "$1" /dev/zero | tr '\0' "$2"; }
{ printf '{"v":1,"id":"'; pad 65507 a; printf '","cmd":"ping"}\n'; } >"$corpus/limit-64k"
{ printf '{"v":1,"id":"'; pad 65508 a; printf '","cmd":"ping"}\n'; } >"$corpus/limit-64k-over"
{ printf '{"v":1,"id":'; pad 30000 '['; pad 30000 ']'; printf ',"cmd":"ping"}\n'; } >"$corpus/deep-id"
before=$(ls "$corpus" | wc -l)
old_artifacts=$(ls "$artifacts" | wc -l)

# -max_len=70000: past the 64 KiB message limit. -timeout: the slowest input takes seconds.
# -rss_limit_mb: a 70 KB input parsed a few times needs little; more is a leak or a blow-up.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
build-fuzz/tests/fuzz/fuzz_request -max_len=70000 -timeout=30 -rss_limit_mb=4096 \
    -max_total_time="$seconds" -print_final_stats=1 -dict=tests/fuzz/request.dict \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?

after=$(ls "$corpus" | wc -l)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
echo "fuzz.sh: ${execs:-?} execs in ${seconds} s or less (${speed:-?}/s), corpus $before -> $after" \
    "files, fuzzer exit status $status, log $log"
grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_request:|.*runtime error)' "$log" || true
new=$(ls -t "$artifacts" | head -n $(($(ls "$artifacts" | wc -l) - old_artifacts)))
if [ -n "$new" ]; then
    echo "fuzz.sh: new findings in $artifacts:"
    for f in $new; do echo "  $f ($(wc -c <"$artifacts/$f") bytes)"; done
    exit 1
fi
[ "$status" -eq 0 ] || exit 1
echo "fuzz.sh: no findings"
