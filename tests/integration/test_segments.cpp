// Segments (issue 4): `recctl split`, segment_seconds and segment_megabytes cut a recording into
// files that each play on their own, with every frame exactly once over all of them and the audio
// cut at the same instant as the picture; and the on_file_closed hook run for each closed file.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "outputs_harness.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int fps = 30;
constexpr double frame = 1.0 / fps;
constexpr double aac_frame = 1024.0 / 48000;
const std::string no_audio = "system = false\nmic = false\n";

struct Segment {
    Json entry;  // the session's "files" entry
    MediaReport media;
};

// Every closed file of a stopped session, each decoded and checked to play on its own: clean,
// finalized, CFR with keyframes (check_recording), starting at 0, its audio covering its video.
std::vector<Segment> check_segments(const Json& stopped, int width, int height) {
    std::vector<Segment> segments;
    for (const Json& entry : stopped["files"]) {
        const fs::path file = entry.value("file", "");
        INFO("segment " << entry.dump());
        REQUIRE(fs::exists(file));
        check_recording(check_video(file), width, height, fps);
        MediaReport m = check_media(file);
        INFO(m.summary());
        REQUIRE(m.error.empty());
        CHECK(m.total_errors() == 0);
        REQUIRE(m.video());
        // Plays on its own: starts at 0, or one AAC frame later in a file that begins with the
        // encoder's priming (libavformat shifts every stream so that none is negative).
        CHECK(m.video()->start <= aac_frame + 0.002);
        CHECK(m.audio().size() == stopped["audio"].size());
        for (const StreamReport* a : m.audio()) {
            CHECK(std::abs(a->start) <= aac_frame);
            // Cut at the same instant as the picture: the same span, to within an AAC frame.
            CHECK(std::abs(a->duration() - m.video()->duration()) <= 0.05);
            CHECK(a->max_gap < 0.005);
        }
        segments.push_back({entry, std::move(m)});
    }
    return segments;
}

// Over all segments: every slot of the session's timeline exactly once; each cut on a frame
// boundary (protocol: every stream cut at the same instant; video can only be cut between
// frames), so a file's `start` is the number of frames before it over fps; the audio continuous
// (each track as long as the video in total); and the picture and the sound in each file in the
// same relation as in the session: a file's first frame is frame N of the session, its first
// sample is sample M of the track, and both must be shifted by the same amount in the file.
void check_continuity(const std::vector<Segment>& segments, const Json& stopped) {
    int64_t frames = 0;
    double video = 0;
    const size_t tracks = stopped["audio"].size();
    std::vector<double> audio(tracks, 0.0);
    std::vector<int64_t> samples(tracks, 0);
    std::vector<double> audio_origin(tracks, 0.0);  // session time of each track's first sample
    for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        INFO("segment " << i << ": " << s.entry.dump() << "\n" << s.media.summary());
        REQUIRE(s.media.audio().size() == tracks);
        CHECK(std::abs(s.entry.value("start", -1.0) - frames * frame) < 0.001);
        // In-file time + shift = session time, for the video...
        const double video_shift = frames * frame - s.media.video()->start;
        for (size_t t = 0; t < tracks; ++t) {
            const StreamReport& a = *s.media.audio()[t];
            if (i == 0) audio_origin[t] = a.start + video_shift;
            // ... and for each audio track (continuous: sample M at origin + M / rate).
            const double audio_shift =
                audio_origin[t] + static_cast<double>(samples[t]) / a.sample_rate - a.start;
            CAPTURE(t, video_shift, audio_shift);
            CHECK(std::abs(audio_shift - video_shift) <= 0.003);  // the container's ms rounding
            samples[t] += a.samples;
            audio[t] += a.duration();
        }
        frames += s.media.video()->frames;
        video += s.media.video()->duration();
    }
    const double slots = stopped.value("duration", 0.0) * fps;
    INFO("frames in all segments: " << frames << ", session slots: " << slots);
    CHECK(std::abs(frames - slots) <= 1);
    for (double a : audio) CHECK(std::abs(a - video) <= 0.05);
}

bool has_two_closed(const Json& session) { return session["files"].size() >= 2; }

bool hooks_done(const Json& session) {
    if (!session_ended(session) || session["hooks"].size() < session["files"].size()) return false;
    for (const Json& h : session["hooks"]) {
        if (h.value("state", "") != "done") return false;
    }
    return true;
}

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("segments: two splits give three files, every frame once, audio cut with the video",
          "[outputs][segments]") {
    Sandbox box;
    write_output_config(box, OutputConfig());  // both audio tracks: recd_sink's monitor
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "640x360+0+0"});
    const std::string id = started["id"];
    REQUIRE(started["audio"].size() >= 1);
    std::this_thread::sleep_for(2s);
    {
        CtlResult split = recctl(box, {"split"});
        INFO(split.describe());
        CHECK(split.code == 0);
    }
    std::this_thread::sleep_for(2s);
    CHECK(recctl(box, {"split", id}).code == 0);
    // About half a second later the second cut is made and the file before it closes.
    Json running = wait_for_session(box, id, has_two_closed, 3s);
    INFO("while recording: " << running.dump());
    CHECK(running.value("state", "") == "recording");
    REQUIRE(running["files"].size() == 2);
    for (const Json& f : running["files"]) CHECK(f.value("end_reason", "") == "split");
    CHECK(running.value("file", "") != running["files"][1].value("file", ""));
    std::this_thread::sleep_for(1s);
    Json stopped = stop_recording(box, id);
    INFO("stopped: " << stopped.dump());

    REQUIRE(stopped["files"].size() == 3);
    const Json& files = stopped["files"];
    CHECK(files[0].value("end_reason", "") == "split");
    CHECK(files[1].value("end_reason", "") == "split");
    CHECK(files[2].value("end_reason", "") == "stopped");
    const std::string second = fs::path(files[1].value("file", "")).stem();
    const std::string third = fs::path(files[2].value("file", "")).stem();
    CHECK(second.ends_with("_002"));
    CHECK(third.ends_with("_003"));
    CHECK(stopped.value("file", "") == files[2].value("file", ""));
    for (int i = 0; i < 3; ++i) CHECK(files[i].value("seq", 0) == i + 1);
    CHECK(media_files(box.output_dir()).size() == 3);

    const auto segments = check_segments(stopped, 640, 360);
    check_continuity(segments, stopped);
}

TEST_CASE("segments: segment_seconds = 2 cuts a 7 s recording into 2 s files",
          "[outputs][segments]") {
    Sandbox box;
    write_output_config(box, OutputConfig().output("segment_seconds = 2\n"));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    std::this_thread::sleep_for(7200ms);
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped: " << stopped.dump());
    REQUIRE(stopped["files"].size() == 4);
    const auto segments = check_segments(stopped, 320, 240);
    for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        INFO("segment " << i << ": " << s.entry.dump() << "\n" << s.media.summary());
        if (i + 1 < segments.size()) {
            CHECK(s.entry.value("end_reason", "") == "segment length");
            CHECK(std::abs(s.media.video()->duration() - 2.0) <= frame + 1e-6);
            for (const StreamReport* a : s.media.audio())
                CHECK(std::abs(a->duration() - 2.0) <= frame + aac_frame);
            CHECK(std::abs(s.entry.value("start", -1.0) - 2.0 * static_cast<double>(i)) < frame);
        } else {
            CHECK(s.entry.value("end_reason", "") == "stopped");
        }
    }
    check_continuity(segments, stopped);
}

TEST_CASE("segments: segment_megabytes = 1 cuts a busy recording by size", "[outputs][segments]") {
    Sandbox box;
    NoiseScreen noise(box, 640, 360);  // about 1.3 MB/s at quality low
    write_output_config(box, OutputConfig().output("segment_megabytes = 1\n").audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--display", noise.display()});
    std::this_thread::sleep_for(3500ms);
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped: " << stopped.dump());
    const double rate = stopped.value("bytes", 0.0) / std::max(stopped.value("duration", 0.0), 1.0);
    CAPTURE(rate);
    REQUIRE(stopped["files"].size() >= 2);
    const auto segments = check_segments(stopped, 640, 360);
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
        const Json& e = segments[i].entry;
        INFO("segment " << i << ": " << e.dump());
        CHECK(e.value("end_reason", "") == "segment size");
        // Cut half a second (of media) after the limit was seen reached; Matroska hands its
        // bytes over a cluster (up to 1 s) at a time, so recd may see the limit that much late.
        CHECK(e.value("bytes", 0.0) >= 1 << 20);
        CHECK(e.value("bytes", 0.0) <= (1 << 20) + 2 * rate);
    }
    check_continuity(segments, stopped);
}

TEST_CASE("encoder failover: an encoder failing mid-recording is replaced in a new file",
          "[outputs][segments][encoders]") {
    Sandbox box;
    // The 60th frame handed to an encoder fails (what a GPU encoder does when its device is
    // reset or lost); the next backend in the preference, NVENC, is unavailable here, so the
    // session goes on with a fresh x264, the failed backend coming last.
    box.add_env("RECD_FAULT=video_encoder=60");
    write_output_config(box, OutputConfig().video("encoder = [\"x264\", \"nvenc\"]\n"));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "640x360+0+0"});
    const std::string id = started["id"];
    Json running = wait_for_session(
        box, id, [](const Json& s) { return s["files"].size() >= 1; }, 5s);
    INFO("while recording: " << running.dump());
    CHECK(running.value("state", "") == "recording");
    CHECK(running.value("encoder", "") == "x264");
    const std::string reason = running.value("encoder_fallback_reason", "");
    CHECK(reason.find("x264 failed while recording") != std::string::npos);
    CHECK(reason.find("h264_nvenc") != std::string::npos);  // why NVENC did not take over
    std::this_thread::sleep_for(1500ms);
    Json stopped = stop_recording(box, id);
    INFO("stopped: " << stopped.dump());
    CHECK(stopped.value("state", "") == "stopped");
    CHECK_FALSE(stopped.contains("error"));
    REQUIRE(stopped["files"].size() == 2);
    CHECK(stopped["files"][0].value("end_reason", "") == "encoder failed");
    CHECK(stopped["files"][1].value("end_reason", "") == "stopped");
    // The failure came at frame 60, so the first file holds 2 s; both play on their own, and
    // together they hold every slot.
    CHECK(std::abs(stopped["files"][0].value("duration", 0.0) - 2.0) <= 2 * frame);
    const auto segments = check_segments(stopped, 640, 360);
    check_continuity(segments, stopped);
    CHECK(recd.log().find("a new file goes on with x264") != std::string::npos);
}

TEST_CASE("hook: on_file_closed runs once per closed file with its exact path", "[outputs][hook]") {
    Sandbox box;
    const fs::path log = box.dir() / "hook.log";
    write_output_config(box,
                        OutputConfig()
                            .output("on_file_closed = \"echo {path} >> " + log.string() + "\"\n")
                            .audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    std::this_thread::sleep_for(1s);
    CHECK(recctl(box, {"split"}).code == 0);
    std::this_thread::sleep_for(1500ms);
    stop_recording(box, started["id"]);
    Json done = wait_for_session(box, started["id"], hooks_done, 5s);
    INFO("session: " << done.dump());
    REQUIRE(done["files"].size() == 2);
    REQUIRE(done["hooks"].size() == 2);
    std::vector<std::string> closed;
    for (const Json& f : done["files"]) closed.push_back(f.value("file", ""));
    for (const Json& h : done["hooks"]) {
        CHECK(h.value("state", "") == "done");
        CHECK(h.value("exit_code", -1) == 0);
        CHECK(std::find(closed.begin(), closed.end(), h.value("file", "")) != closed.end());
    }
    auto lines = read_lines(log);
    std::sort(lines.begin(), lines.end());
    std::sort(closed.begin(), closed.end());
    CHECK(lines == closed);  // once each, the exact path
}

TEST_CASE("hook: a failing hook is reported and the recording is unaffected", "[outputs][hook]") {
    Sandbox box;
    write_output_config(box, OutputConfig().output("on_file_closed = \"false\"\n").audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    std::this_thread::sleep_for(1500ms);
    Json stopped = stop_recording(box, started["id"]);
    check_recording(check_session_file(stopped), 320, 240, fps);
    Json done = wait_for_session(box, started["id"], hooks_done, 5s);
    INFO("session: " << done.dump());
    CHECK(done.value("state", "") == "stopped");
    REQUIRE(done["hooks"].size() == 1);
    CHECK(done["hooks"][0].value("file", "") == stopped.value("file", ""));
    CHECK(done["hooks"][0].value("state", "") == "done");
    CHECK(done["hooks"][0].value("exit_code", -1) == 1);
    CHECK(recctl(box, {"ping"}).code == 0);
}

TEST_CASE("hook: a slow hook does not delay stop", "[outputs][hook]") {
    Sandbox box;
    write_output_config(box,
                        OutputConfig().output("on_file_closed = \"sleep 5\"\n").audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    std::this_thread::sleep_for(1500ms);
    const auto stop_sent = Clock::now();
    Json stopped = stop_recording(box, started["id"]);
    const double stop_took = seconds_between(stop_sent, Clock::now());
    CAPTURE(stop_took);
    CHECK(stop_took < 2.0);
    check_recording(check_session_file(stopped), 320, 240, fps);
    CtlResult status = recctl(box, {"status", started["id"]});
    INFO(status.describe());
    REQUIRE(status.json["session"]["hooks"].size() == 1);
    CHECK(status.json["session"]["hooks"][0].value("state", "") == "running");
}
