// Disk guard (issue 4), on a small tmpfs of the test's own: refusing to start below min_free_mb,
// stopping cleanly with DISK_FULL when free space falls below it while recording, and a disk
// that really fills up (ENOSPC) failing the session with a clear message and a file that plays
// up to the last write. A private screen of noise makes megabytes a second to fill it quickly.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "harness.hpp"
#include "outputs_harness.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double frame = 1.0 / 30;
const std::string no_audio = "system = false\nmic = false\n";

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string listing(const fs::path& dir) {
    std::string all;
    for (const auto& e : dir_entries(dir)) all += e + " ";
    return all;
}

// Records the noise screen onto `disk` until the session ends by itself (at most 20 s).
Json record_until_it_ends(Sandbox& box, const NoiseScreen& noise) {
    Json started = start_recording(box, {"--display", noise.display()});
    Json ended = wait_for_session(box, started["id"], session_ended, 20s);
    INFO("session: " << ended.dump());
    REQUIRE(session_ended(ended));
    return ended;
}

// The guard stopped the session before the disk was full: DISK_FULL naming min_free_mb, the file
// finalized and clean, recd still serving (and refusing a new start, as the space is still low).
void check_clean_guard_stop(Sandbox& box, const Tmpfs& disk, const Json& ended) {
    INFO("session: " << ended.dump() << "\nfree bytes: " << disk.free_bytes()
                     << "\non the tmpfs: " << listing(disk.dir()));
    CHECK(ended.value("state", "") == "failed");
    CHECK(ended["error"].value("code", "") == "DISK_FULL");
    CHECK(contains(ended["error"].value("message", ""), "min_free_mb"));
    CHECK(disk.free_bytes() > 0);  // stopped before the disk was full
    REQUIRE(ended["files"].size() == 1);
    CHECK(ended["files"][0].value("end_reason", "") == "failed: DISK_FULL");
    CHECK_FALSE(ended["files"][0].contains("error"));  // the file itself was finished fine

    const fs::path file = ended.value("file", "");
    MediaReport m = check_media(file);
    INFO(m.summary());
    REQUIRE(m.error.empty());
    CHECK(m.total_errors() == 0);
    CHECK(m.duration_in_header);  // finalized, not cut off
    REQUIRE(m.video());
    // What was written (the closed file's duration runs to its last frame's timestamp).
    CHECK(std::abs(m.video()->duration() - ended["files"][0].value("duration", 0.0)) <=
          1.5 * frame);
    CHECK(m.video()->duration() > 0.5);
    Json car = read_json(file.string() + ".json");
    INFO("sidecar: " << car.dump());
    CHECK(car.value("end_reason", "") == "failed: DISK_FULL");

    CHECK(recctl(box, {"ping"}).code == 0);
    CtlResult again = recctl(box, {"start", "--region", "320x240+0+0"});
    INFO(again.describe());
    CHECK(again.code == 1);
    CHECK(again.json["error"].value("code", "") == "DISK_FULL");
}

}  // namespace

TEST_CASE("disk guard: a start with less than min_free_mb free fails with DISK_FULL",
          "[outputs][disk]") {
    Sandbox box;
    Tmpfs disk(box.dir() / "disk", "8m");
    write_output_config(
        box, OutputConfig().directory(disk.dir()).output("min_free_mb = 100\n").audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    CtlResult start = recctl(box, {"start", "--region", "320x240+0+0"});
    INFO(start.describe());
    CHECK(start.code == 1);
    CHECK(start.json["error"].value("code", "") == "DISK_FULL");
    CHECK(contains(start.json["error"].value("message", ""), "min_free_mb"));
    INFO("on the tmpfs: " << listing(disk.dir()));
    CHECK(dir_entries(disk.dir()).empty());
    CHECK(recctl(box, {"ping"}).code == 0);
}

namespace {

// Records lossless noise (~10 MB/s) onto a tmpfs of `size` with `min_free_mb` kept free, until
// the guard stops it; then checks the stop was clean.
void guard_stop(const std::string& size, int min_free_mb) {
    Sandbox box;
    NoiseScreen noise(box, 640, 360);
    Tmpfs disk(box.dir() / "disk", size);
    write_output_config(box, OutputConfig()
                                 .directory(disk.dir())
                                 .output("min_free_mb = " + std::to_string(min_free_mb) + "\n")
                                 .video("quality = \"low\"\ncrf = 0\n")
                                 .audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    check_clean_guard_stop(box, disk, record_until_it_ends(box, noise));
}

}  // namespace

TEST_CASE("disk guard: free space falling below min_free_mb stops the recording cleanly",
          "[outputs][disk]") {
    guard_stop("24m", 10);  // about 14 MiB of recording
}

TEST_CASE("disk guard: min_free_mb = 2 on an 8 MiB disk stops cleanly before the disk is full",
          "[outputs][disk]") {
    guard_stop("8m", 2);
}

TEST_CASE("disk guard: a disk that fills up fails the session, the file plays to the last write",
          "[outputs][disk]") {
    Sandbox box;
    NoiseScreen noise(box, 640, 360);
    // No guard: about 3 MB/s fills 8 MiB in under 3 s and the writes fail with ENOSPC.
    Tmpfs disk(box.dir() / "disk", "8m");
    write_output_config(box, OutputConfig()
                                 .directory(disk.dir())
                                 .output("min_free_mb = 0\n")
                                 .video("quality = \"low\"\ncrf = 18\n")
                                 .audio(no_audio));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    EventLog events(box);
    Json ended = record_until_it_ends(box, noise);
    INFO("session: " << ended.dump() << "\non the tmpfs: " << listing(disk.dir()));
    CHECK(ended.value("state", "") == "failed");
    CHECK(ended["error"].value("code", "") == "DISK_FULL");
    CHECK(contains(ended["error"].value("message", ""), "No space left"));
    CHECK(recctl(box, {"ping"}).code == 0);
    // Scripts are told without polling: the session_failed event carries the same error.
    const Json failed = events.find("session_failed", ended.value("id", ""), 5s);
    INFO("session_failed event: " << failed.dump());
    REQUIRE(failed.is_object());
    CHECK(failed["status"]["error"].value("code", "") == "DISK_FULL");

    const fs::path file = ended.value("file", "");
    MediaReport m = check_media(file);
    INFO(m.summary());
    REQUIRE(m.error.empty());
    REQUIRE(m.video());
    const StreamReport& v = *m.video();
    // Only the packet the disk had no room for may be damaged; everything before it plays.
    CHECK(v.frames - v.clean_frames <= 2);
    CHECK(v.clean_frames * frame >= 1.5);
    CHECK(v.clean_frames * frame >= ended.value("duration", 0.0) - 1.0);
}
