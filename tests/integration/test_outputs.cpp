// Encoders and containers (issue 4): NVENC reported unavailable on a machine without its driver
// and x264 used instead, --strict failing cleanly; mkv, mp4 and mpegts files that decode after a
// normal stop and after recd is killed; sidecars; file names; --size with letterboxing.
#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "outputs_harness.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double frame = 1.0 / 30;
// The AAC encoder's priming (1024 samples at 48 kHz) makes the first audio timestamp negative;
// MP4 then stretches the first video frame by that much, so steps may exceed a frame by it.
constexpr double max_step_excess = 1024.0 / 48000 + 0.001;
const std::string no_audio = "system = false\nmic = false\n";

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string extension_of(const std::string& container) {
    return container == "mpegts" ? ".ts" : "." + container;
}

// libavformat's demuxer name for each container.
std::string demuxer_of(const std::string& container) {
    if (container == "mkv") return "matroska";
    if (container == "mp4") return "mp4";
    return "mpegts";
}

// A file decodes with every stream clean, and its audio covers the same span as its video.
void check_clean_streams(const MediaReport& m, size_t audio_tracks) {
    INFO("file:\n" << m.summary());
    REQUIRE(m.error.empty());
    CHECK(m.total_errors() == 0);
    REQUIRE(m.video());
    CHECK(m.video()->codec == "h264");
    CHECK(m.video()->frames > 0);
    CHECK(m.video()->max_gap <= max_step_excess);
    CHECK(m.audio().size() == audio_tracks);
    for (const StreamReport* a : m.audio()) {
        CHECK(a->codec == "aac");
        CHECK(a->frames > 0);
        CHECK(std::abs(a->start - m.video()->start) <= 0.05);
        CHECK(std::abs(a->duration() - m.video()->duration()) <= 0.1);
    }
}

// Records ~3 s in `container` with both audio tracks (recd_sink's monitor) and stops normally.
// recd's journal of the files it is writing (daemon/open_files.hpp), under the sandbox's HOME.
fs::path open_files_dir(const Sandbox& box) { return box.dir() / ".local/state/recd/open"; }

void normal_stop(const std::string& container) {
    Sandbox box;
    write_output_config(box, OutputConfig().output("container = \"" + container + "\"\n"));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const auto before = Clock::now();
    Json started = start_recording(box, {});
    const auto after = Clock::now();
    CHECK(started.value("container", "") == container);
    std::this_thread::sleep_for(3s);
    const auto stop_sent = Clock::now();
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped: " << stopped.dump());
    const fs::path file = stopped.value("file", "");
    CHECK(file.extension() == extension_of(container));
    CHECK(file.parent_path() == box.output_dir());

    MediaReport m = check_media(file);
    INFO("file:\n" << m.summary());
    CHECK(contains(m.container, demuxer_of(container)));
    check_clean_streams(m, stopped["audio"].size());
    REQUIRE(m.video());
    const double wall = seconds_between(after, stop_sent);
    CAPTURE(wall);
    CHECK(std::abs(m.video()->duration() - wall) <= 0.5);
    CHECK(std::abs(m.video()->duration() - stopped.value("duration", 0.0)) <= 1.5 * frame);
    // Finished files leave nothing in the journal.
    CHECK(fs::is_empty(open_files_dir(box)));
    if (container == "mp4") {
        // Finalized: a regular MP4 with its index before the media (faststart), no fragments.
        const auto boxes = mp4_boxes(file);
        std::ostringstream list;
        for (const auto& b : boxes) list << b << " ";
        INFO("mp4 boxes: " << list.str());
        CHECK(box_index(boxes, "moov") >= 0);
        CHECK(box_index(boxes, "moov") < box_index(boxes, "mdat"));
        CHECK(box_index(boxes, "moof") < 0);
        CHECK(m.duration_in_header);
    }
    REQUIRE(stopped["files"].size() == 1);
    const Json& closed = stopped["files"][0];
    CHECK(closed.value("file", "") == file.string());
    CHECK(closed.value("end_reason", "") == "stopped");
    CHECK(closed.value("bytes", int64_t{-1}) == static_cast<int64_t>(fs::file_size(file)));
    check_sidecar(file, stopped, {box.display(), before, after, true});
}

// Records ~4 s in `container`, then kills recd with SIGKILL: the file must still play, minus at
// most the last 2 s, and its sidecar (written when the file was opened) must be there.
// `rate`: the session's frame_rate_mode. At a variable rate a frame may follow the last by up to
// a second (the keep-alive frame; the test pattern moves, so frames come at about 30 fps anyway).
void killed(const std::string& container, const std::string& rate = "cfr") {
    Sandbox box;
    write_output_config(box, OutputConfig()
                                 .output("container = \"" + container + "\"\n")
                                 .video("quality = \"low\"\nframe_rate_mode = \"" + rate + "\"\n"));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const auto before = Clock::now();
    Json started = start_recording(box, {});
    const auto after = Clock::now();
    std::this_thread::sleep_for(4s);
    const auto killed_at = Clock::now();
    CHECK(recd.terminate(SIGKILL, 10s) == 128 + SIGKILL);
    const double recorded = seconds_between(after, killed_at);
    CAPTURE(recorded);

    const fs::path file = started.value("file", "");
    REQUIRE(fs::exists(file));
    MediaReport m = check_media(file);
    INFO("file:\n" << m.summary());
    CHECK(contains(m.container, demuxer_of(container)));
    REQUIRE(m.error.empty());
    CHECK(m.total_errors() == 0);
    REQUIRE(m.video());
    CHECK(m.video()->max_gap <= (rate == "vfr" ? 1.0 + frame : max_step_excess));
    CHECK(m.video()->duration() >= recorded - 2.0);
    CHECK(m.video()->duration() <= recorded + 0.5);
    CHECK(m.audio().size() == started["audio"].size());
    for (const StreamReport* a : m.audio()) CHECK(a->duration() >= recorded - 2.0);
    if (container == "mp4") {
        const auto boxes = mp4_boxes(file);
        CHECK(box_index(boxes, "moof") >= 0);  // still fragmented: nobody finalized it
    }
    check_sidecar(file, started, {box.display(), before, after, false});

    // The next recd reports the file it finds unfinished, in its log and in `status`, once.
    for (int run = 0; run < 2; ++run) {
        Recd next(box);
        REQUIRE(next.wait_ready());
        CtlResult status = recctl(box, {"status"});
        INFO(status.describe());
        REQUIRE(status.code == 0);
        const Json unfinished = status.json["daemon"]["unfinished_files"];
        if (run == 0) {
            REQUIRE(unfinished.size() == 1);
            CHECK(unfinished[0].value("file", "") == file.string());
            CHECK(unfinished[0].value("exists", false));
            CHECK(unfinished[0].value("bytes", uintmax_t{0}) == fs::file_size(file));
            CHECK(contains(next.log(), "unfinished recording " + file.string()));
            const CtlResult human = recctl(box, {"status"}, false);
            INFO(human.describe());
            CHECK(contains(human.out,
                           "unfinished (an earlier recd died writing "
                           "it): " +
                               file.string()));
        } else {
            CHECK(unfinished.empty());
        }
    }
}

}  // namespace

TEST_CASE("encoders: nvenc is unavailable without its driver, x264 records, --strict fails",
          "[outputs][encoders]") {
    Sandbox box;
    write_output_config(box, OutputConfig().audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());

    CtlResult list = recctl(box, {"encoders"});
    INFO(list.describe());
    REQUIRE(list.code == 0);
    REQUIRE(list.json["encoders"].is_array());
    int x264 = 0, nvenc = 0;
    for (const Json& e : list.json["encoders"]) {
        INFO("encoder: " << e.dump());
        if (e.value("name", "") == "x264") {
            ++x264;
            CHECK(e.value("available", false));
            CHECK(e.value("codec", "") == "h264");
        } else if (e.value("name", "") == "nvenc") {
            ++nvenc;
            CHECK_FALSE(e.value("available", true));
            CHECK(contains(lowercase(e.value("reason", "")), "driver"));
        }
    }
    CHECK(x264 == 1);
    CHECK(nvenc == 2);  // h264 and hevc
    std::set<std::string> codecs;
    for (const Json& e : list.json["encoders"]) {
        if (e.value("name", "") == "nvenc") codecs.insert(e.value("codec", ""));
    }
    CHECK(codecs == std::set<std::string>{"h264", "hevc"});

    // Strict: no file, no recording, recd unharmed.
    const auto entries = dir_entries(box.output_dir());
    CtlResult strict = recctl(box, {"start", "--encoder", "nvenc", "--strict"});
    INFO(strict.describe());
    CHECK(strict.code == 1);
    CHECK(strict.json["error"].value("code", "") == "ENCODER_UNAVAILABLE");
    CHECK(contains(strict.json["error"].value("message", ""), "nvenc"));
    CHECK(dir_entries(box.output_dir()) == entries);
    CHECK(recctl(box, {"ping"}).code == 0);
    CtlResult status = recctl(box, {"status"});
    for (const Json& s : status.json["sessions"]) CHECK(s.value("state", "") != "recording");

    // The default preference (nvenc, then x264) falls back visibly.
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    CHECK(started.value("encoder", "") == "x264");
    CHECK(started.value("codec", "") == "h264");
    CHECK(contains(started.value("encoder_fallback_reason", ""), "nvenc"));
    std::this_thread::sleep_for(1s);
    Json stopped = stop_recording(box, started["id"]);
    check_recording(check_session_file(stopped), 320, 240, 30);

    // hevc needs nvenc: without --strict recd still records, in H.264, and says why.
    Json hevc = start_recording(box, {"--region", "320x240+0+0", "--codec", "hevc"});
    CHECK(hevc.value("encoder", "") == "x264");
    CHECK(hevc.value("codec", "") == "h264");
    CHECK(contains(hevc.value("encoder_fallback_reason", ""), "hevc_nvenc"));
    stop_recording(box, hevc["id"]);
}

TEST_CASE("containers: mkv after a normal stop decodes cleanly", "[outputs][containers]") {
    normal_stop("mkv");
}
TEST_CASE("containers: mp4 after a normal stop is finalized with its index first",
          "[outputs][containers]") {
    normal_stop("mp4");
}
TEST_CASE("containers: mpegts after a normal stop decodes cleanly", "[outputs][containers]") {
    normal_stop("mpegts");
}
TEST_CASE("containers: mkv survives kill -9 minus at most 2 s", "[outputs][containers][kill]") {
    killed("mkv");
}
TEST_CASE("containers: fragmented mp4 survives kill -9 minus at most 2 s",
          "[outputs][containers][kill]") {
    killed("mp4");
}
TEST_CASE("containers: mpegts survives kill -9 minus at most 2 s", "[outputs][containers][kill]") {
    killed("mpegts");
}
TEST_CASE(
    "containers: mkv at a variable frame rate (the default) survives kill -9 minus at most 2 s",
    "[outputs][containers][kill]") {
    killed("mkv", "vfr");
}

namespace {

// {user} and {host} as recd puts them in names: anything but A-Z a-z 0-9 . _ - becomes '_'.
std::string name_safe(std::string text) {
    for (char& c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            c = '_';
    }
    return text;
}

std::string expected_stem(const std::string& session, int seq) {
    const passwd* pw = getpwuid(getuid());
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    char number[8];
    std::snprintf(number, sizeof number, "%03d", seq);
    return name_safe(pw ? pw->pw_name : "") + "_" + name_safe(host) + "_" + session + "_" + number;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("names: the template's placeholders are filled and an existing file is never replaced",
          "[outputs][names]") {
    Sandbox box;
    write_output_config(box, OutputConfig()
                                 .output("file_template = \"{user}_{host}_{session}_{seq}\"\n")
                                 .audio(no_audio));
    // The first session of a fresh recd is s1: its first file's name is taken already.
    const fs::path taken = box.output_dir() / (expected_stem("s1", 1) + ".mkv");
    std::ofstream(taken) << "precious";
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    REQUIRE(started.value("id", "") == "s1");
    CHECK(started.value("file", "") ==
          (box.output_dir() / (expected_stem("s1", 1) + "-2.mkv")).string());
    std::this_thread::sleep_for(1s);
    CHECK(recctl(box, {"split"}).code == 0);
    std::this_thread::sleep_for(1500ms);
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped: " << stopped.dump());
    CHECK(stopped.value("file", "") ==
          (box.output_dir() / (expected_stem("s1", 2) + ".mkv")).string());
    CHECK(read_text(taken) == "precious");
    for (const Json& f : stopped["files"]) {
        MediaReport m = check_media(f.value("file", ""));
        INFO(m.summary());
        CHECK(m.error.empty());
        CHECK(m.total_errors() == 0);
    }
}

TEST_CASE("names: a file named like the new recording's sidecar is never replaced",
          "[outputs][names]") {
    Sandbox box;
    write_output_config(
        box, OutputConfig().output("file_template = \"{session}_{seq}\"\n").audio(no_audio));
    const fs::path taken = box.output_dir() / "s1_001.mkv.json";
    std::ofstream(taken) << "precious";
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+0+0"});
    std::this_thread::sleep_for(1s);
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped: " << stopped.dump() << "\nfiles: " << [&] {
        std::string all;
        for (const auto& e : dir_entries(box.output_dir())) all += e + " ";
        return all;
    }());
    CHECK(read_text(taken) == "precious");
    const fs::path file = stopped.value("file", "");
    CHECK(fs::exists(file.string() + ".json"));
}

TEST_CASE("size: --size scales the screen, letterboxed when the aspect differs",
          "[outputs][size]") {
    Sandbox box;
    write_output_config(box, OutputConfig().audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());

    Json same = start_recording(box, {"--size", "640x360"});
    std::this_thread::sleep_for(1500ms);
    Json same_stopped = stop_recording(box, same["id"]);
    CHECK(same_stopped["region"].value("width", 0) == screen_width);  // captured: the screen
    check_recording(check_session_file(same_stopped), 640, 360, 30);

    // 1280x720 into 640x480: 640x360 of picture, 60 black rows above and below.
    Json boxed = start_recording(box, {"--size", "640x480"});
    std::this_thread::sleep_for(1500ms);
    Json boxed_stopped = stop_recording(box, boxed["id"]);
    VideoReport report = check_session_file(boxed_stopped);
    check_recording(report, 640, 480, 30);
    MediaReport m = check_media(boxed_stopped.value("file", ""));
    INFO(m.summary());
    REQUIRE(m.video());
    const auto& rows = m.video()->row_luma;
    REQUIRE(rows.size() == 480);
    std::ostringstream profile;
    for (size_t y = 0; y < rows.size(); y += 10) profile << y << ":" << rows[y] << " ";
    INFO("mean luma of rows: " << profile.str());
    const int bar = 60, margin = 4;  // chroma and edge blur stay within a few rows
    for (int y = 0; y < bar - margin; ++y) {
        CHECK(rows[y] <= 20);        // black (video range: 16)
        CHECK(rows[479 - y] <= 20);  // and the bottom bar
    }
    double picture = 0;
    for (int y = bar + margin; y < 480 - bar - margin; ++y) picture += rows[y];
    picture /= 480 - 2 * (bar + margin);
    CHECK(picture > 40);  // the test pattern's colour bars, not black
}
