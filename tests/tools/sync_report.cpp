// SyncReport's outputs: the text sync_analyze prints and the tests show on failure, and JSON.
#include <cstdio>
#include <sstream>

#include "sync_analysis.hpp"

namespace rec::sync {

namespace {

std::string format(const char* pattern, auto... args) {
    char line[256];
    std::snprintf(line, sizeof(line), pattern, args...);
    return line;
}

std::string list(const std::vector<double>& times) {
    std::string out;
    for (double t : times) out += format(" %.3f", t);
    return out.empty() ? " none" : out;
}

int timed_count(const std::vector<Flash>& flashes) {
    int n = 0;
    for (const Flash& f : flashes) n += f.timed ? 1 : 0;
    return n;
}

}  // namespace

std::string SyncReport::text() const {
    std::ostringstream s;
    s << "sync_analyze: " << file << ", track \"" << track << "\"\n";
    if (!error.empty()) {
        s << "error: " << error << "\n";
        return s.str();
    }
    s << format("video %.3f..%.3f s, %zu flashes (%d timed within their frame), %d errors\n",
                video_start, video_end, flashes.size(), timed_count(flashes), video_errors)
      << format("audio %.3f..%.3f s, %zu tones, %d errors; file errors %d\n", audio_start,
                audio_end, tones.size(), audio_errors, file_errors)
      << "     #   video_s   audio_s  offset_ms  frame_offset_ms  level\n";
    for (size_t i = 0; i < pairs.size(); ++i) {
        const SyncPair& p = pairs[i];
        s << format("%6zu %9.4f %9.4f %+10.2f %+16.2f %6.1f%s\n", i, p.flash.time, p.tone,
                    p.offset_ms, p.frame_offset, p.flash.level, p.flash.timed ? "" : " untimed");
    }
    s << "paired " << pairs.size() << "; unpaired flashes at" << list(unpaired_flashes)
      << "; unpaired tones at" << list(unpaired_tones) << "\n"
      << format(
             "offset (audio - video): mean %+.2f ms, max |offset| %.2f ms, stddev %.2f ms, "
             "drift %+.3f ms/min (robust %+.3f)\n",
             mean_ms, max_abs_ms, stddev_ms, drift_ms_per_min, robust_drift_ms_per_min);
    return s.str();
}

nlohmann::json SyncReport::json() const {
    nlohmann::json j = {{"file", file}, {"track", track}};
    if (!error.empty()) {
        j["error"] = error;
        return j;
    }
    nlohmann::json events = nlohmann::json::array();
    for (const SyncPair& p : pairs) {
        events.push_back({{"video", p.flash.time},
                          {"audio", p.tone},
                          {"offset_ms", p.offset_ms},
                          {"frame_offset_ms", p.frame_offset},
                          {"level", p.flash.level},
                          {"timed", p.flash.timed}});
    }
    j["video"] = {{"start", video_start},
                  {"end", video_end},
                  {"flashes", flashes.size()},
                  {"timed", timed_count(flashes)},
                  {"errors", video_errors}};
    j["audio"] = {{"start", audio_start},
                  {"end", audio_end},
                  {"tones", tones.size()},
                  {"errors", audio_errors}};
    j["file_errors"] = file_errors;
    j["events"] = events;
    j["paired"] = pairs.size();
    j["unpaired_flashes"] = unpaired_flashes;
    j["unpaired_tones"] = unpaired_tones;
    j["mean_ms"] = mean_ms;
    j["max_abs_ms"] = max_abs_ms;
    j["stddev_ms"] = stddev_ms;
    j["drift_ms_per_min"] = drift_ms_per_min;
    j["robust_drift_ms_per_min"] = robust_drift_ms_per_min;
    return j;
}

}  // namespace rec::sync
