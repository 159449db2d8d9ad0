// The screen changes size while it is recorded (issue 6): an Xvnc of the test's own, resized with
// xrandr from 1024x768 to 800x600 (smaller, same aspect) and then 1280x1024 (larger, 5:4).
// video.on_resize = "scale": one file at the first size, the new screens fitted into it
// (letterboxed where the aspect differs); "new_file": a new file at each new size. Either way
// every frame decodes, the recording goes on without a gap, and status and events say so.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "media_read.hpp"
#include "outputs_harness.hpp"
#include "private_x.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using namespace std::chrono_literals;

namespace {

// The last decoded picture of a file's video: the mean luma (0..255 as coded) of its leftmost
// 16 columns and of the 16 columns right of the middle.
struct LastPicture {
    double left = -1, middle = -1;
    int decode_errors = 0;
};

double column_band_luma(const AVFrame& frame, int x0) {
    double sum = 0;
    for (int y = 0; y < frame.height; ++y)
        for (int x = x0; x < x0 + 16; ++x) sum += frame.data[0][y * frame.linesize[0] + x];
    return sum / (16.0 * frame.height);
}

LastPicture last_picture(const fs::path& file) {
    std::string error;
    auto format = rec::media::open_input(file, error);
    INFO(file << ": " << error);
    REQUIRE(format);
    const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    REQUIRE(index >= 0);
    LastPicture last;
    rec::media::StreamDecoder video(format.get(), index, [&](const AVFrame& frame) {
        last.left = column_band_luma(frame, 0);
        last.middle = column_band_luma(frame, frame.width / 2);
    });
    rec::media::decode_streams(format.get(), {&video});
    last.decode_errors = video.errors();
    return last;
}

struct ResizedRun {
    Json stopped;  // the session as stopped
    double wall = 0;
    std::vector<Json> resized;  // its screen_resized events
};

// Records an Xvnc's whole screen 1.5 s at 1024x768, 1.5 s at 800x600, 1.5 s at 1280x1024.
ResizedRun record_resizes(Sandbox& box, const std::string& on_resize) {
    write_output_config(
        box, OutputConfig().video("quality = \"low\"\non_resize = \"" + on_resize + "\"\n"));
    PrivateX x(box, PrivateX::Server::xvnc, "1024x768");
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    EventLog events(box);
    const Json started =
        start_recording(box, {"--display", x.display(), "--no-system-audio", "--no-mic"});
    const std::string id = started["id"];
    const auto since = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(1500ms);
    x.resize("800x600");
    std::this_thread::sleep_for(1500ms);
    x.resize("1280x1024");
    std::this_thread::sleep_for(1500ms);
    ResizedRun run;
    CtlResult status = recctl(box, {"status", id});
    INFO(status.describe());
    REQUIRE(status.code == 0);
    CHECK(status.json["session"]["region"] ==
          Json({{"x", 0}, {"y", 0}, {"width", 1280}, {"height", 1024}}));
    run.wall = seconds_between(since, std::chrono::steady_clock::now());
    run.stopped = stop_recording(box, id);
    CHECK(run.stopped.value("state", "") == "stopped");
    for (const Json& e : events.lines())
        if (e.value("event", "") == "screen_resized" && e.value("session", "") == id)
            run.resized.push_back(e);
    return run;
}

}  // namespace

TEST_CASE(
    "resize: on_resize = scale: the resized screen is fitted into the first size, one file, "
    "every frame decodes",
    "[resize][faults]") {
    Sandbox box;
    const ResizedRun run = record_resizes(box, "scale");
    INFO(run.stopped.dump());
    REQUIRE(run.resized.size() == 2);
    CHECK(run.resized[0].value("width", 0) == 800);
    CHECK(run.resized[1].value("height", 0) == 1024);
    REQUIRE(run.stopped["files"].size() == 1);  // one file, closed by the stop
    CHECK(run.stopped["files"][0].value("end_reason", "") == "stopped");
    const VideoReport video = check_session_file(run.stopped);
    INFO(video.summary());
    check_recording(video, 1024, 768, 30);
    CHECK(std::abs(video.duration - run.wall) < 0.5);
    // 1280x1024 (5:4) in 1024x768 (4:3): 960x768 in the middle, black bars of 32 columns.
    const LastPicture last = last_picture(run.stopped.value("file", ""));
    CHECK(last.decode_errors == 0);
    CHECK(last.left == Approx(16).margin(2));  // limited-range black
    CHECK(last.middle > 20);                   // the test pattern, not a border
}

TEST_CASE("resize: on_resize = new_file: a new file at each new size, nothing lost between them",
          "[resize][faults]") {
    Sandbox box;
    const ResizedRun run = record_resizes(box, "new_file");
    INFO(run.stopped.dump());
    REQUIRE(run.resized.size() == 2);
    const Json& closed = run.stopped["files"];
    REQUIRE(closed.size() == 3);
    std::vector<std::string> files;
    for (const Json& f : closed) {
        CHECK(f.value("end_reason", "") == (files.size() < 2 ? "screen resized" : "stopped"));
        files.push_back(f.value("file", ""));
    }
    const int sizes[3][2] = {{1024, 768}, {800, 600}, {1280, 1024}};
    double total = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        INFO("file " << i << ": " << files[i]);
        const VideoReport video = check_video(files[i]);
        INFO(video.summary());
        check_recording(video, sizes[i][0], sizes[i][1], 30);
        CHECK(video.decode_errors == 0);
        CHECK(video.duration > 1.0);
        total += video.duration;
    }
    CHECK(std::abs(total - run.wall) < 0.5);
}

TEST_CASE(
    "resize: a region the shrunk screen no longer holds ends the session as DISPLAY_LOST, its "
    "file playable; one still on it records on",
    "[resize][faults]") {
    Sandbox box;
    write_output_config(box, OutputConfig());
    PrivateX x(box, PrivateX::Server::xvnc, "1024x768");
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const std::vector<std::string> no_audio = {"--no-system-audio", "--no-mic"};
    auto start = [&](const std::string& region) {
        std::vector<std::string> args = {"--display", x.display(), "--region", region};
        args.insert(args.end(), no_audio.begin(), no_audio.end());
        return start_recording(box, args)["id"].get<std::string>();
    };
    const std::string cut = start("320x240+700+500");
    const std::string kept = start("320x240+0+0");
    std::this_thread::sleep_for(1s);
    x.resize("800x600");
    std::this_thread::sleep_for(1s);

    CtlResult gone = recctl(box, {"status", cut});
    INFO(gone.describe());
    REQUIRE(gone.code == 0);
    const Json& failed = gone.json["session"];
    CHECK(failed.value("state", "") == "failed");
    CHECK(failed["error"].value("code", "") == "DISPLAY_LOST");
    CHECK(failed["error"].value("message", "").find("no longer on it") != std::string::npos);
    const VideoReport video = check_session_file(failed);
    INFO(video.summary());
    check_recording(video, 320, 240, 30);

    const Json stopped = stop_recording(box, kept);
    CHECK(stopped.value("state", "") == "stopped");
    CHECK(check_session_file(stopped).duration > 1.8);
}
