#pragma once
// Measures A/V sync in a recording of sync_tool's signal (sync_signal.hpp): finds each flash in
// the video and each tone onset in one audio track, pairs them, and reports per-event offsets
// (audio - video), their mean, largest magnitude and drift. Used by sync_analyze (CLI), the
// integration tests (tests/integration/test_audio.cpp) and tests/bench/sync_long.sh.
//
// Times are the streams' own timestamps in the file's timeline (a stream that starts late has
// later times; nothing is rebased to the stream's start). A flash's time is the pts of the first
// frame that shows it, minus how long after the flash that frame was grabbed as its brightness
// tells (sync_signal.hpp); when the brightness is off the ramp, or with `frame_onsets`, the
// frame's pts alone. A tone's time is that of its first loud sample.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rec::sync {

struct SyncOptions {
    std::string track;          // audio stream title ("system", "mic"); empty: the first audio
    bool frame_onsets = false;  // flash time = the frame's pts, not corrected by brightness
};

struct Flash {
    double time = 0;       // seconds, file timeline
    double frame_pts = 0;  // pts of the first frame showing it, seconds
    double level = 0;      // that frame's mean grey level, 0..255
    bool timed = false;    // time corrected from the level (false: = frame_pts)
};

struct SyncPair {
    Flash flash;
    double tone = 0;          // seconds
    double offset_ms = 0;     // tone - flash.time
    double frame_offset = 0;  // tone - flash.frame_pts, ms
};

struct SyncReport {
    std::string error;  // non-empty: the file could not be analysed
    std::string file;
    std::string track;                      // the audio stream's title
    double video_start = 0, video_end = 0;  // first frame's pts, last frame's end
    double audio_start = 0, audio_end = 0;  // first sample's time, last sample's end
    int video_errors = 0, audio_errors = 0, file_errors = 0;
    std::vector<Flash> flashes;
    std::vector<double> tones;
    std::vector<SyncPair> pairs;           // in time order
    std::vector<double> unpaired_flashes;  // their times
    std::vector<double> unpaired_tones;
    double shift_ms = 0;  // the common offset the pairing found
    double mean_ms = 0;
    double max_abs_ms = 0;
    double stddev_ms = 0;
    double drift_ms_per_min = 0;  // least-squares slope of offset against time
    // Theil-Sen slope (median of the slopes between all pairs of events): the trend without
    // the pull of a few outliers (e.g. a misaligned start), for diagnosis.
    double robust_drift_ms_per_min = 0;

    std::string text() const;  // a table of the events and a summary, for people
    nlohmann::json json() const;
};

SyncReport analyze_sync(const std::filesystem::path& file, const SyncOptions& options = {});

// The statistics of `pairs` (mean, max, stddev, drift) into `report`; analyze_sync calls it,
// tests call it on a subset (e.g. the events after a pause).
void summarize(SyncReport& report);

}  // namespace rec::sync
