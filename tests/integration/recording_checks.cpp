#include "recording_checks.hpp"

#include <catch2/catch.hpp>
#include <cmath>

namespace rec::test {

void check_recording(const VideoReport& report, int width, int height, int fps, FrameRate rate) {
    INFO("file report:\n" << report.summary());
    REQUIRE(report.error.empty());
    CHECK(report.codec == "h264");
    CHECK(report.container.find("matroska") != std::string::npos);
    CHECK(report.width == width);
    CHECK(report.height == height);
    CHECK(std::abs(report.frame_rate - fps) < 0.1);

    REQUIRE(report.decoded_frames > 0);
    CHECK(report.decode_errors == 0);
    CHECK(report.decoded_frames == report.packets());
    CHECK(report.dts_strictly_increasing);
    CHECK(report.pts_strictly_increasing);
    const double tick = static_cast<double>(report.time_base_num) / report.time_base_den;
    const double frame = 1.0 / fps;
    const double expected_frames = fps * report.duration;
    if (rate == FrameRate::constant) {
        // Every step is one frame, give or take the rounding to the time base.
        CHECK(report.max_step_error <= tick + 1e-6);
        CHECK(std::abs(report.decoded_frames - expected_frames) <= 0.02 * expected_frames);
    } else {
        // A frame for each picture that changed, and at least one a second; never more than
        // the frame rate allows.
        CHECK(report.max_step_error <= 1.0 + frame + tick);
        CHECK(report.decoded_frames <= 1.02 * expected_frames + 1);
    }

    // A keyframe at least every 2 s, measured in time, including from the last one to the end.
    const double late = rate == FrameRate::constant ? tick : late_grab_seconds;
    CHECK(report.starts_with_keyframe);
    CHECK(report.max_keyframe_gap <= 2.0 + frame + late);
    CHECK(report.trailing_keyframe_gap <= 2.0 + frame + late);

    // Finalized: the header carries the duration the frames add up to.
    CHECK(report.duration_in_header);
    CHECK(std::abs(report.container_duration - report.duration) <= 2 * frame);
}

VideoReport check_session_file(const Json& session) {
    INFO("session: " << session.dump());
    REQUIRE(session.contains("file"));
    REQUIRE(session["file"].is_string());
    const std::filesystem::path file = session["file"].get<std::string>();
    REQUIRE(std::filesystem::exists(file));
    CHECK(file.extension() == ".mkv");
    return check_video(file);
}

Json start_recording(Sandbox& box, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"start"};
    argv.insert(argv.end(), args.begin(), args.end());
    CtlResult start = recctl(box, argv);
    INFO(start.describe());
    REQUIRE(start.code == 0);
    REQUIRE(start.json.is_object());
    CHECK(start.json.value("ok", false));
    REQUIRE(start.json.contains("session"));
    const Json& session = start.json["session"];
    CHECK(session.value("state", "") == "recording");
    REQUIRE(session.contains("id"));
    REQUIRE(session["id"].is_string());
    return session;
}

Json stop_recording(Sandbox& box, const std::string& id) {
    CtlResult stop = recctl(box, {"stop", id});
    INFO(stop.describe());
    REQUIRE(stop.code == 0);
    REQUIRE(stop.json.is_object());
    REQUIRE(stop.json.contains("session"));
    const Json& session = stop.json["session"];
    CHECK(session.value("id", "") == id);
    CHECK(session.value("state", "") == "stopped");
    return session;
}

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

}  // namespace rec::test
