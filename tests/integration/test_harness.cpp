// Self-tests of the test tools, independent of recd: test_pattern behaves as the fixture expects,
// and the file checker accepts a good recording (ffmpeg's own x11grab of the fixture display) and
// notices one that was never finalized. If these fail, the recd tests' verdicts mean nothing.
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "harness.hpp"
#include "recording_checks.hpp"
#include "video_check.hpp"

using namespace rec::test;

namespace {

// ffmpeg recording the fixture display as recd would: H.264 with B-frames (so decode order differs
// from presentation order) in Matroska, CFR 30, a keyframe every 2 s.
std::vector<std::string> ffmpeg_x11grab(const Sandbox& box, const std::string& seconds,
                                        const fs::path& file) {
    const std::string size = std::to_string(screen_width) + "x" + std::to_string(screen_height);
    // clang-format off
    return {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-f", "x11grab", "-framerate", "30", "-video_size", size, "-i", box.display(),
            "-t", seconds, "-c:v", "libx264", "-preset", "veryfast", "-g", "60",
            "-pix_fmt", "yuv420p", "-fps_mode", "cfr", "-r", "30", "-y", file.string()};
    // clang-format on
}

bool wait_for_output(Process& process, const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (process.out().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

}  // namespace

TEST_CASE("harness: test_pattern draws on the fixture display and exits 0 on SIGTERM",
          "[harness]") {
    Sandbox box;
    Process pattern({test_pattern_bin().string(), "--display", box.display()}, box.env(),
                    box.new_file("pattern-out"), box.new_file("pattern-err"));
    INFO("stderr: " << pattern.err());
    REQUIRE(wait_for_output(pattern, "ready", 5s));
    pattern.signal(SIGTERM);
    CHECK(pattern.wait_for(5s) == 0);
}

TEST_CASE("harness: test_pattern fails with a message on a display that does not exist",
          "[harness]") {
    Sandbox box;
    Process pattern({test_pattern_bin().string(), "--display", unused_display()}, box.env(),
                    box.new_file("pattern-out"), box.new_file("pattern-err"));
    auto code = pattern.wait_for(5s);
    INFO("stderr: " << pattern.err());
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(pattern.err().find("cannot open display") != std::string::npos);
}

TEST_CASE("harness: the file checker accepts ffmpeg's x11grab recording of the fixture",
          "[harness]") {
    Sandbox box;
    const fs::path file = box.output_dir() / "x11grab.mkv";
    Process ffmpeg(ffmpeg_x11grab(box, "3", file), box.env(), box.new_file("ffmpeg-out"),
                   box.new_file("ffmpeg-err"));
    auto code = ffmpeg.wait_for(30s);
    INFO("ffmpeg stderr: " << ffmpeg.err());
    REQUIRE(code == 0);
    VideoReport report = check_video(file);
    check_recording(report, screen_width, screen_height, 30);
    CHECK(std::abs(report.duration - 3.0) <= 0.1);

    // The same file with a stretch of bytes in the middle overwritten must not pass as clean.
    const fs::path damaged = box.output_dir() / "damaged.mkv";
    fs::copy_file(file, damaged);
    {
        std::fstream out(damaged, std::ios::in | std::ios::out | std::ios::binary);
        out.seekp(static_cast<std::streamoff>(fs::file_size(damaged) / 2));
        const std::string garbage(4096, '\x5a');
        out.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    VideoReport bad = check_video(damaged);
    INFO("damaged file report:\n" << bad.summary());
    CHECK(bad.decode_errors > 0);
}

TEST_CASE("harness: the file checker notices a recording that was never finalized", "[harness]") {
    Sandbox box;
    const fs::path file = box.output_dir() / "killed.mkv";
    Process ffmpeg(ffmpeg_x11grab(box, "20", file), box.env(), box.new_file("ffmpeg-out"),
                   box.new_file("ffmpeg-err"));
    std::this_thread::sleep_for(2500ms);
    ffmpeg.signal(SIGKILL);
    REQUIRE(ffmpeg.wait_for(5s) == 128 + SIGKILL);
    REQUIRE(fs::exists(file));
    VideoReport report = check_video(file);
    INFO("file report:\n" << report.summary());
    CHECK_FALSE(report.duration_in_header);
}
