#pragma once
// What the audio tests add to harness.hpp: their own devices on the fixture's PulseAudio server,
// the sync signal (tests/tools/sync_tool) running against them, and libavformat checks of the
// audio streams of a recording. Main thread of a test only.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "sync_analysis.hpp"
#include "video_check.hpp"

namespace rec::test {

fs::path sync_tool_bin();

// `pactl ARGS...` against the sandbox's PULSE_SERVER (json stays null).
CtlResult pactl(Sandbox& box, const std::vector<std::string>& args);

// A 320x240 region of the fixture's screen for audio test number `slot` (0..11, a 4x3 grid):
// tests that run at the same time must not put their flashing windows on top of each other.
std::string test_region(int slot);

// A null sink t_<unique> (48 kHz) and a pipe source m_<unique> reading FIFO DIR/mic.fifo in the
// fixture's server, loaded for one test so parallel tests never hear each other; unloaded by
// the destructor.
class PulseDevices {
public:
    explicit PulseDevices(Sandbox& box);
    PulseDevices(const PulseDevices&) = delete;
    PulseDevices& operator=(const PulseDevices&) = delete;
    ~PulseDevices();

    const std::string& sink() const { return sink_; }
    std::string monitor() const { return sink_ + ".monitor"; }  // the sink's sound, as a source
    const std::string& mic() const { return mic_; }
    const fs::path& fifo() const { return fifo_; }

    // The microphone vanishing and coming back (same name, same FIFO path).
    void unload_mic();
    void load_mic();

private:
    int load(const std::vector<std::string>& module);
    void unload(std::optional<int>& module);

    Sandbox& box_;
    std::string sink_;
    std::string mic_;
    fs::path fifo_;
    std::optional<int> sink_module_;
    std::optional<int> mic_module_;
};

struct SyncToolOptions {
    std::string region;  // WxH+X+Y, see test_region()
    std::string sink;    // empty: the default sink
    fs::path mic_fifo;   // empty: no microphone signal
    double mic_skew = 0;
    double duration = 0;  // seconds; 0: until stopped
};

// sync_tool on the sandbox's display and server. The constructor returns once it is ready
// (fails the test otherwise); the destructor stops it.
class SyncTool {
public:
    SyncTool(Sandbox& box, const SyncToolOptions& options);
    SyncTool(const SyncTool&) = delete;
    SyncTool& operator=(const SyncTool&) = delete;
    ~SyncTool();

    // Its instants (steady clock seconds, the clock recd stamps with): start, and each event.
    double start() const { return start_; }
    std::vector<double> event_times() const;
    std::string output() const { return process_.out() + process_.err(); }
    Process& process() { return process_; }

private:
    Process process_;
    double start_ = 0;
};

// steady_clock::now() in seconds, comparable with SyncTool's instants.
double steady_seconds();

struct AudioStreamReport {
    std::string title;
    std::string codec;  // e.g. "aac"
    int sample_rate = 0;
    int channels = 0;
    double start = 0;  // first decoded sample, seconds
    double end = 0;    // end of the last decoded sample
    int64_t samples = 0;
    int decode_errors = 0;
    std::vector<std::string> decoder_log;
    double duration() const { return end - start; }
};

struct AudioReport {
    std::string error;
    std::vector<AudioStreamReport> streams;  // in file order
    int file_errors = 0;
    const AudioStreamReport* find(const std::string& title) const;
    std::string summary() const;
};

// Decodes every audio stream of `file`.
AudioReport check_audio(const fs::path& file);

// The video's first frame time and end (last frame + one frame), seconds.
double video_start(const VideoReport& video);
double video_end(const VideoReport& video);

// The entry for `track` ("system", "mic") in a session object's "audio" array; null if none.
Json track_status(const Json& session, const std::string& track);

// Checks the sync targets on `report` (mean within 15 ms, each event within one frame
// interval, 33 ms, and drift below `max_drift` ms/min), showing its table on failure.
void check_sync_targets(const sync::SyncReport& report, double max_drift = 1.0);

}  // namespace rec::test
