// Recordings driven through recctl against the fixture's Xvfb, each file checked with
// libavformat: the whole screen, status while recording, regions, concurrent sessions.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "harness.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using Clock = std::chrono::steady_clock;

namespace {

Json region_json(int x, int y, int width, int height) {
    return {{"x", x}, {"y", y}, {"width", width}, {"height", height}};
}

}  // namespace

TEST_CASE("recording: 4 s of the whole screen give a valid H.264 file of the screen's size",
          "[recording]") {
    Sandbox box;
    box.write_config("");  // recd's own encoder defaults, as a user gets them
    Recd recd(box);
    REQUIRE(recd.wait_ready());

    Json started = start_recording(box, {});
    const auto recording_since = Clock::now();
    CHECK(started.value("fps", 0) == 30);
    CHECK(started.value("display", "") == box.display());
    std::this_thread::sleep_for(4s);
    const auto stop_sent = Clock::now();
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped session: " << stopped.dump());
    CHECK(stopped["region"] == region_json(0, 0, screen_width, screen_height));
    CHECK(stopped.value("file", "") == started.value("file", ""));

    VideoReport report = check_session_file(stopped);
    check_recording(report, screen_width, screen_height, 30);
    INFO("file report:\n" << report.summary());
    // The file covers the time the session was recording, not what the frame count implies.
    const double wall = seconds_between(recording_since, stop_sent);
    CAPTURE(wall);
    CHECK(std::abs(report.duration - wall) <= 0.5);
    REQUIRE(stopped.contains("duration"));
    CHECK(std::abs(stopped["duration"].get<double>() - report.duration) <= 0.1);
    CHECK(stopped.value("encoder", "") == "x264");
    CHECK(stopped.value("bytes", 0) == static_cast<int64_t>(fs::file_size(stopped["file"])));

    // Every frame is a whole picture of the screen: each shows the number the fixture's pattern
    // stamped on the frame it drew, and looks like it (a torn or garbled frame would not).
    Process psnr({pattern_psnr_bin().string(), stopped["file"]}, box.env(), box.new_file("psnr"),
                 box.new_file("psnr-err"));
    REQUIRE(psnr.wait_for(60s) == 0);
    const Json quality = Json::parse(psnr.out());
    INFO("pattern_psnr: " << quality.dump());
    CHECK(quality["stamped"] == quality["frames"]);
    CHECK(quality.value("worst_psnr_db", 0.0) > 30);
    CHECK(quality.value("distinct", 0) > quality.value("frames", 0) / 2);  // not a still picture
}

TEST_CASE("recording: status while recording shows the state and frames captured growing",
          "[recording]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const auto unix_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    const int64_t start_sent = unix_ms();
    const std::string id = start_recording(box, {"--region", "320x240+0+0"})["id"];

    std::this_thread::sleep_for(1s);
    CtlResult first = recctl(box, {"status", id});
    std::this_thread::sleep_for(1s);
    CtlResult second = recctl(box, {"status", id});
    INFO(first.describe() << "\n" << second.describe());
    REQUIRE(first.code == 0);
    REQUIRE(second.code == 0);
    const Json& a = first.json["session"];
    const Json& b = second.json["session"];
    CHECK(a.value("state", "") == "recording");
    CHECK(b.value("state", "") == "recording");
    // Grabs: pictures taken, and those that found nothing changed (a still part of the screen).
    const auto grabs = [](const Json& session) {
        return session["frames"].value("captured", int64_t{-1}) +
               session["frames"].value("unchanged", int64_t{-1});
    };
    CHECK(a["frames"].value("captured", 0) > 0);
    // When the first picture came, on the clock the caller reads: after the start was asked for.
    const int64_t first_frame = a.value("first_frame_unix_ms", int64_t{0});
    CHECK(first_frame >= start_sent);
    CHECK(first_frame <= unix_ms());
    CHECK(b.value("first_frame_unix_ms", int64_t{0}) == first_frame);
    // About 30 more grabs a second later; at least half of that shows capture is running.
    CHECK(grabs(b) - grabs(a) >= 15);
    CHECK(b.value("duration", 0.0) > a.value("duration", 0.0));

    // Without an id: the daemon and every session.
    CtlResult all = recctl(box, {"status"});
    INFO(all.describe());
    REQUIRE(all.code == 0);
    CHECK(all.json["daemon"].value("protocol", 0) == 1);
    CHECK(all.json["daemon"].value("pid", 0) == recd.process().pid());
    REQUIRE(all.json["sessions"].is_array());
    CHECK(all.json["sessions"].size() == 1);

    CtlResult list = recctl(box, {"list"});
    INFO(list.describe());
    REQUIRE(list.code == 0);
    REQUIRE(list.json["sessions"].is_array());
    REQUIRE(list.json["sessions"].size() == 1);
    CHECK(list.json["sessions"][0].value("id", "") == id);

    stop_recording(box, id);
}

TEST_CASE("recording: a region gives a file of the region's size", "[recording]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "320x240+100+50"});
    CHECK(started["region"] == region_json(100, 50, 320, 240));
    std::this_thread::sleep_for(3s);
    Json stopped = stop_recording(box, started["id"]);
    CHECK(stopped["region"] == region_json(100, 50, 320, 240));
    check_recording(check_session_file(stopped), 320, 240, 30);
}

TEST_CASE("recording: an odd-sized region is recorded with even dimensions", "[recording]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json started = start_recording(box, {"--region", "321x241+11+7"});
    std::this_thread::sleep_for(2500ms);
    Json stopped = stop_recording(box, started["id"]);
    INFO("stopped session: " << stopped.dump());
    const int width = stopped["region"].value("width", 0);
    const int height = stopped["region"].value("height", 0);
    CHECK(width % 2 == 0);
    CHECK(height % 2 == 0);
    CHECK(std::abs(width - 321) <= 1);
    CHECK(std::abs(height - 241) <= 1);
    check_recording(check_session_file(stopped), width, height, 30);
}

TEST_CASE("recording: two concurrent sessions each produce a valid file of their own size",
          "[recording]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    Json left = start_recording(box, {"--region", "320x240+0+0", "--name", "left"});
    Json right = start_recording(box, {"--region", "480x270+600+300", "--name", "right"});
    CHECK(left["id"] != right["id"]);
    CHECK(left["file"] != right["file"]);
    CHECK(left.value("name", "") == "left");
    std::this_thread::sleep_for(3s);

    // Which one? recd must not guess.
    CtlResult ambiguous = recctl(box, {"stop"});
    INFO(ambiguous.describe());
    CHECK(ambiguous.code == 1);
    CHECK(ambiguous.json["error"].value("code", "") == "AMBIGUOUS");

    CtlResult stop = recctl(box, {"stop", "--all"});
    INFO(stop.describe());
    REQUIRE(stop.code == 0);
    REQUIRE(stop.json["sessions"].is_array());
    REQUIRE(stop.json["sessions"].size() == 2);
    for (const Json& session : stop.json["sessions"]) {
        INFO("session: " << session.dump());
        CHECK(session.value("state", "") == "stopped");
        const bool is_left = session["id"] == left["id"];
        check_recording(check_session_file(session), is_left ? 320 : 480, is_left ? 240 : 270, 30);
    }
}
