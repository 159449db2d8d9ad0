// sync_analyze FILE [--track system|mic] [--json | --brief] [--frame-onsets]: measures A/V sync
// in a recording of sync_tool's signal (see sync_analysis.hpp) and prints the per-event offsets
// and their summary, as text or one JSON object; --brief prints one line of NAME=VALUE figures
// for shell scripts (tests/bench/sync_long.sh).
// Exit codes: 0 when the file was analysed (whatever the figures), 1 when it could not be,
// 2 on bad usage.
#include <cstdio>
#include <iostream>
#include <string>

#include "sync_analysis.hpp"

int main(int argc, char** argv) {
    std::string file;
    bool json = false;
    bool brief = false;
    rec::sync::SyncOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--track" && i + 1 < argc) {
            options.track = argv[++i];
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "--brief") {
            brief = true;
        } else if (arg == "--frame-onsets") {
            options.frame_onsets = true;
        } else if (file.empty() && !arg.starts_with("--")) {
            file = arg;
        } else {
            file.clear();
            break;
        }
    }
    if (file.empty()) {
        std::cerr << "usage: sync_analyze FILE [--track system|mic] [--json | --brief] "
                     "[--frame-onsets]\n";
        return 2;
    }
    const rec::sync::SyncReport report = rec::sync::analyze_sync(file, options);
    if (brief && report.error.empty()) {
        std::printf(
            "paired=%zu unpaired=%zu mean_ms=%.2f max_abs_ms=%.2f stddev_ms=%.2f "
            "drift_ms_per_min=%.3f robust_drift_ms_per_min=%.3f\n",
            report.pairs.size(), report.unpaired_flashes.size() + report.unpaired_tones.size(),
            report.mean_ms, report.max_abs_ms, report.stddev_ms, report.drift_ms_per_min,
            report.robust_drift_ms_per_min);
    } else if (json) {
        std::cout << report.json().dump(2) << "\n";
    } else {
        std::cout << report.text();
    }
    return report.error.empty() ? 0 : 1;
}
