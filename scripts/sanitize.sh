#!/bin/sh
# Builds recd, recctl and the tests with AddressSanitizer + UndefinedBehaviorSanitizer (and
# LeakSanitizer) into ./build-asan (never ./build) and runs the tests scripts/test.sh runs.
# Every sanitizer report, from the test binaries and from every recd/recctl they start, is also
# written to build-asan/sanitizer-logs/<tool>.<pid> and printed at the end; any report fails the
# run. BUILD_TYPE=RelWithDebInfo ./scripts/sanitize.sh for an optimized build (slower to build,
# faster to run).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
start=$(date +%s)
cmake -S . -B build-asan -DRECD_SANITIZE=ON -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Debug}" >/dev/null
cmake --build build-asan -j2
built=$(date +%s)

logs="$PWD/build-asan/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# log_path: recd's stderr goes to a file in a sandbox the tests delete, and not every test looks
# at recd's exit status. No LeakSanitizer suppressions: no leak showed up, in recd or in the
# libraries it uses (libpulse, libavcodec/libx264, xcb).
asan="detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1"
export ASAN_OPTIONS="$asan:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:report_error_type=1:log_path=$logs/ubsan"

# The flood test measures recd's resident memory (less than 20 MiB growth over 10,000
# messages): ASan's quarantine keeps up to 256 MiB of freed blocks resident by design, so that
# test runs on its own afterwards with a 4 MiB quarantine (use-after-free still caught for
# recently freed blocks).
# The sync tests (label sync) time sound and picture to a millisecond: under the sanitizers'
# slowdown they would measure the sanitizers, so they are left to test.sh.
rss_test="access: a flood of"
status=0
ctest --test-dir build-asan --output-on-failure -j2 --timeout 300 -LE sync -E "$rss_test" ||
    status=$?
ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4" \
    ctest --test-dir build-asan --output-on-failure --timeout 300 -LE sync -R "$rss_test" ||
    status=$?
done_at=$(date +%s)

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "===== $f"
        cat "$f"
    done
    echo "sanitize.sh: $(echo "$reports" | wc -l) sanitizer report(s) in $logs"
    [ "$status" -ne 0 ] || status=1
fi
echo "sanitize.sh: build $((built - start)) s, tests $((done_at - built)) s, total $((done_at - start)) s"
exit "$status"
