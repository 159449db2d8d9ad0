#include "audio_harness.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>

#include "media_read.hpp"

namespace rec::test {

fs::path sync_tool_bin() {
    if (!fs::exists(SYNC_TOOL_BIN)) FAIL(SYNC_TOOL_BIN << " does not exist: build 'sync_tool'");
    return SYNC_TOOL_BIN;
}

double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

CtlResult pactl(Sandbox& box, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"pactl"};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, box.env(), box.new_file("pactl-out"), box.new_file("pactl-err"));
    CtlResult result;
    result.code = p.wait_for(10s).value_or(-1);
    result.out = p.out();
    result.err = p.err();
    return result;
}

std::string test_region(int slot) {
    REQUIRE(slot >= 0);
    REQUIRE(slot < 12);
    return "320x240+" + std::to_string(slot % 4 * 320) + "+" + std::to_string(slot / 4 * 240);
}

// ---- PulseDevices

PulseDevices::PulseDevices(Sandbox& box) : box_(box) {
    // The sandbox directory's random suffix makes the names unique among parallel tests.
    std::string unique = box.dir().filename().string();
    unique = unique.substr(unique.rfind('-') + 1);
    sink_ = "t_" + unique;
    mic_ = "m_" + unique;
    fifo_ = box.dir() / "mic.fifo";
    sink_module_ = load({"module-null-sink", "sink_name=" + sink_, "rate=48000", "channels=2"});
    load_mic();
}

PulseDevices::~PulseDevices() {
    unload(mic_module_);
    unload(sink_module_);
}

int PulseDevices::load(const std::vector<std::string>& module) {
    std::vector<std::string> args = {"load-module"};
    args.insert(args.end(), module.begin(), module.end());
    CtlResult r = pactl(box_, args);
    INFO("pactl load-module " << module[0] << ": " << r.describe());
    REQUIRE(r.code == 0);
    return std::stoi(r.out);
}

void PulseDevices::unload(std::optional<int>& module) {
    if (!module) return;
    pactl(box_, {"unload-module", std::to_string(*module)});
    module.reset();
}

void PulseDevices::unload_mic() { unload(mic_module_); }

void PulseDevices::load_mic() {
    REQUIRE_FALSE(mic_module_);
    // module-pipe-source makes the FIFO itself (and removes it when unloaded).
    mic_module_ = load({"module-pipe-source", "source_name=" + mic_, "file=" + fifo_.string(),
                        "format=float32le", "rate=48000", "channels=2"});
    // Its I/O thread at a sound card's priority (see the script).
    const std::string realtime =
        std::string("sh " FIXTURES_DIR "/pulse_realtime_sources.sh ") + PULSE_STATE_DIR;
    REQUIRE(std::system(realtime.c_str()) == 0);
}

// ---- SyncTool

namespace {

std::vector<std::string> sync_tool_argv(const Sandbox& box, const SyncToolOptions& o) {
    std::vector<std::string> argv = {sync_tool_bin().string(), "--display", box.display()};
    if (!o.region.empty()) argv.insert(argv.end(), {"--region", o.region});
    if (!o.sink.empty()) argv.insert(argv.end(), {"--sink", o.sink});
    if (!o.mic_fifo.empty()) {
        argv.insert(argv.end(),
                    {"--mic-fifo", o.mic_fifo.string(), "--mic-skew", std::to_string(o.mic_skew)});
    }
    if (o.duration > 0) argv.insert(argv.end(), {"--duration", std::to_string(o.duration)});
    return argv;
}

}  // namespace

SyncTool::SyncTool(Sandbox& box, const SyncToolOptions& options)
    : process_(sync_tool_argv(box, options), box.env(), box.new_file("sync-tool-out"),
               box.new_file("sync-tool-err")) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    static const std::regex ready("ready start=([0-9.]+)");
    std::smatch match;
    std::string out;
    for (;;) {
        out = process_.out();
        if (std::regex_search(out, match, ready)) break;
        INFO("sync_tool output: " << output());
        REQUIRE(process_.running());
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(20ms);
    }
    start_ = std::stod(match[1]);
}

SyncTool::~SyncTool() {
    process_.signal(SIGTERM);
    process_.wait_for(5s);
}

std::vector<double> SyncTool::event_times() const {
    static const std::regex event("event [0-9]+ t=([0-9.]+)");
    const std::string out = process_.out();
    std::vector<double> times;
    for (std::sregex_iterator it(out.begin(), out.end(), event), end; it != end; ++it) {
        times.push_back(std::stod((*it)[1]));
    }
    return times;
}

// ---- audio streams

const AudioStreamReport* AudioReport::find(const std::string& title) const {
    for (const auto& s : streams) {
        if (s.title == title) return &s;
    }
    return nullptr;
}

std::string AudioReport::summary() const {
    std::ostringstream s;
    if (!error.empty()) s << "error: " << error << "\n";
    s << streams.size() << " audio streams, " << file_errors << " file errors\n";
    for (const auto& a : streams) {
        s << "  \"" << a.title << "\" " << a.codec << " " << a.sample_rate << " Hz " << a.channels
          << " ch, " << a.start << ".." << a.end << " s, " << a.samples << " samples, "
          << a.decode_errors << " decode errors\n";
        for (const auto& line : a.decoder_log) s << "    decoder: " << line;
    }
    return s.str();
}

AudioReport check_audio(const fs::path& file) {
    AudioReport report;
    media::FormatPtr format = media::open_input(file, report.error);
    if (!format) return report;
    std::vector<std::unique_ptr<media::StreamDecoder>> decoders;
    report.streams.reserve(format->nb_streams);
    try {
        for (unsigned i = 0; i < format->nb_streams; ++i) {
            const AVStream* stream = format->streams[i];
            if (stream->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
            AudioStreamReport& a = report.streams.emplace_back();
            a.title = media::stream_title(stream);
            a.codec = avcodec_get_name(stream->codecpar->codec_id);
            a.sample_rate = stream->codecpar->sample_rate;
            a.channels = stream->codecpar->ch_layout.nb_channels;
            a.start = -1;
            const AVRational tb = stream->time_base;
            decoders.push_back(std::make_unique<media::StreamDecoder>(
                format.get(), static_cast<int>(i), [&a, tb](const AVFrame& frame) {
                    const int64_t ts =
                        frame.pts != AV_NOPTS_VALUE ? frame.pts : frame.best_effort_timestamp;
                    const double t = media::to_seconds(ts, tb);
                    if (a.start < 0) a.start = t;
                    a.samples += frame.nb_samples;
                    a.end = t + static_cast<double>(frame.nb_samples) / frame.sample_rate;
                }));
        }
        std::vector<media::StreamDecoder*> raw;
        for (auto& d : decoders) raw.push_back(d.get());
        report.file_errors = media::decode_streams(format.get(), raw);
    } catch (const std::exception& e) {
        report.error = e.what();
    }
    for (size_t i = 0; i < decoders.size(); ++i) {
        report.streams[i].decode_errors = decoders[i]->errors();
        report.streams[i].decoder_log = decoders[i]->error_log();
    }
    return report;
}

double video_start(const VideoReport& video) {
    if (video.frame_pts.empty()) return 0;
    return static_cast<double>(video.frame_pts.front()) * video.time_base_num / video.time_base_den;
}

double video_end(const VideoReport& video) { return video_start(video) + video.duration; }

Json track_status(const Json& session, const std::string& track) {
    if (!session.contains("audio") || !session["audio"].is_array()) return nullptr;
    for (const Json& t : session["audio"]) {
        if (t.value("track", "") == track) return t;
    }
    return nullptr;
}

void check_sync_targets(const sync::SyncReport& report, double max_drift) {
    INFO(report.text());
    REQUIRE(report.error.empty());
    REQUIRE_FALSE(report.pairs.empty());
    CHECK(std::abs(report.mean_ms) <= 15);
    CHECK(report.max_abs_ms <= 33);
    CHECK(std::abs(report.drift_ms_per_min) < max_drift);
}

}  // namespace rec::test
