#pragma once
// What the output tests (containers, segments, sidecars, names, disk guard, hooks, --size) add
// to harness.hpp: a config with [output] keys, every stream of a file decoded with libavformat,
// MP4 box layout, sidecars, a private tmpfs and a private screen full of noise (data fast).
// Main thread of a test only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "private_x.hpp"

namespace rec::test {

// Replaces the sandbox's config: [output] directory (default: the sandbox's) plus `output`
// lines, [video] fps 30 plus `video` lines (default: quality low, the cheapest x264 preset),
// [audio] `audio` lines (default: none, so both tracks record recd_sink's monitor).
// Built by chaining, e.g. OutputConfig().output("container = \"mp4\"\n").audio(no_audio).
struct OutputConfig {
    std::string directory_;  // empty: box.output_dir()
    std::string output_;
    std::string video_ = "quality = \"low\"\n";
    std::string audio_;
    OutputConfig& directory(const fs::path& dir) { return directory_ = dir.string(), *this; }
    OutputConfig& output(std::string lines) { return output_ = std::move(lines), *this; }
    OutputConfig& video(std::string lines) { return video_ = std::move(lines), *this; }
    OutputConfig& audio(std::string lines) { return audio_ = std::move(lines), *this; }
};
void write_output_config(Sandbox& box, const OutputConfig& config);

// One stream of a file, decoded to the end.
struct StreamReport {
    int index = 0;
    std::string type;  // "video", "audio", ...
    std::string codec;
    std::string title;
    int width = 0, height = 0, sample_rate = 0;
    int packets = 0;
    int64_t frames = 0;   // decoded frames (audio: decoded audio frames)
    int64_t samples = 0;  // audio samples decoded
    double start = -1;    // first decoded timestamp, seconds (-1: nothing decoded)
    double end = -1;      // last decoded timestamp + its duration, seconds
    int decode_errors = 0;
    int64_t clean_frames = 0;      // frames decoded before the first error
    double max_gap = 0;            // largest step between decoded frames beyond their duration, s
    std::vector<double> row_luma;  // video: mean Y of each row of the middle frame (yuv only)
    double duration() const { return end - start; }
};

struct MediaReport {
    std::string error;                // empty when the file opened and its streams were read
    std::string container;            // libavformat's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    double header_duration = -1;      // the container's duration, seconds; -1 if none
    bool duration_in_header = false;  // false when libavformat estimated it
    std::vector<StreamReport> streams;
    int log_errors = 0;            // error-level messages from libavformat/libavcodec while reading
    std::vector<std::string> log;  // the first of those
    const StreamReport* video() const;  // nullptr if none
    std::vector<const StreamReport*> audio() const;
    int total_errors() const;  // log errors plus every stream's decode errors
    std::string summary() const;
};

MediaReport check_media(const fs::path& file);

// Top-level box types of an MP4 file in file order ("ftyp", "moov", "moof", "mdat", ...).
std::vector<std::string> mp4_boxes(const fs::path& file);
// Index of `type` in `boxes`, -1 if absent.
int box_index(const std::vector<std::string>& boxes, const std::string& type);

// A JSON file's content; null if it is missing or not JSON.
Json read_json(const fs::path& file);

// The recordings (not sidecars) in `dir`, sorted by name.
std::vector<fs::path> media_files(const fs::path& dir);
// Every entry of `dir`, sorted by name (for "nothing was left behind").
std::vector<std::string> dir_entries(const fs::path& dir);

// Polls `recctl status ID` until `done(session)` or `timeout`; the last session seen.
Json wait_for_session(Sandbox& box, const std::string& id, bool (*done)(const Json&),
                      std::chrono::milliseconds timeout);
bool session_ended(const Json& session);  // stopped or failed

// What a sidecar must say (protocol.md), checked by check_sidecar against the session that
// wrote it. `closed`: the file was finalized (duration, bytes, end_reason present) or not.
struct SidecarExpect {
    std::string display;
    std::chrono::steady_clock::time_point not_before;  // before the start request was sent
    std::chrono::steady_clock::time_point not_after;   // after its reply came
    bool closed = true;
};
// The sidecar of `media_file`, checked; returns it (null if missing).
Json check_sidecar(const fs::path& media_file, const Json& session, const SidecarExpect& expect);

// A tmpfs of `size` (e.g. "8m") mounted on `dir` (created) for one test; unmounted (lazily, so
// a crashed recd cannot keep it busy) by the destructor. Fails the test if mounting is refused.
class Tmpfs {
public:
    Tmpfs(fs::path dir, const std::string& size);
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;
    ~Tmpfs();
    const fs::path& dir() const { return dir_; }
    uint64_t free_bytes() const;

private:
    fs::path dir_;
};

// A private Xvfb of width x height whose whole screen is random noise (ffplay showing lavfi's
// noise filter): x264 makes megabytes a second of it, which the shared test pattern never gives,
// and no other test's screen is disturbed. Fails the test if either program will not start.
class NoiseScreen {
public:
    NoiseScreen(Sandbox& box, int width, int height);
    NoiseScreen(const NoiseScreen&) = delete;
    NoiseScreen& operator=(const NoiseScreen&) = delete;
    ~NoiseScreen();
    std::string display() const { return x_.display(); }

private:
    PrivateX x_;
    std::unique_ptr<Process> player_;
};

}  // namespace rec::test
