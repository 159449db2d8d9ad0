// Shared-memory sources when things go wrong (issue 9): a producer killed mid-stream, rings whose
// headers lie or that are spoiled while recorded (made by hand in /dev/shm, as a broken or
// hostile producer would), and recd lagging (SIGSTOP) so that the producer overwrites frames.
// recd must end only the session concerned, with a clear error, and keep its files playable.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <functional>
#include <thread>

#include "common/shm/ring_layout.hpp"
#include "harness.hpp"
#include "recording_checks.hpp"
#include "shm_harness.hpp"

using namespace rec::test;
namespace shm = rec::shm;

namespace {

// A segment made by hand as a broken or hostile producer would, with a header that starts out
// as a correct producer's (64x48 I420, 4 slots) for the test to spoil.
class HandmadeRing {
public:
    HandmadeRing(const RingName& ring, mode_t mode = 0600)
        : path_("/" + ring.segment().filename().string()) {
        const auto layout = *shm::frame_layout(4, 64, 48);
        shm::RingHeader& h = header_;
        h.magic = shm::ring_magic;
        h.version = shm::ring_version;
        h.header_bytes = sizeof(shm::RingHeader);
        h.width = 64, h.height = 48, h.format = 4, h.capacity = 4, h.planes = layout.planes;
        for (int i = 0; i < 4; ++i)
            h.plane_offset[i] = layout.offset[i], h.plane_stride[i] = layout.stride[i];
        h.frame_bytes = layout.frame_bytes;
        h.slot_bytes = shm::slot_bytes_for(layout.frame_bytes);
        h.slots_offset = sizeof(shm::RingHeader);
        h.segment_bytes = sizeof(shm::RingHeader) + 4 * h.slot_bytes;
        h.producer_pid = getpid();
        h.state = static_cast<uint64_t>(shm::RingState::live);
        h.heartbeat_ns =
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        size_ = h.segment_bytes;
        mode_ = mode;
    }
    shm::RingHeader& header() { return header_; }
    void set_size(size_t bytes) { size_ = bytes; }
    // Creates the segment with the header as it is now.
    void publish() {
        const int fd = shm_open(path_.c_str(), O_CREAT | O_EXCL | O_RDWR, mode_);
        REQUIRE(fd >= 0);
        REQUIRE(fchmod(fd, mode_) == 0);
        REQUIRE(ftruncate(fd, static_cast<off_t>(size_)) == 0);
        REQUIRE(pwrite(fd, &header_, std::min(size_, sizeof header_), 0) >= 0);
        close(fd);
    }

private:
    std::string path_;
    shm::RingHeader header_{};
    size_t size_ = 0;
    mode_t mode_ = 0600;
};

}  // namespace

TEST_CASE(
    "shm: a producer killed mid-stream fails the session with SOURCE_LOST, its file plays "
    "to the kill",
    "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("kill");
    auto producer = start_producer(box, ring);
    const std::string id = start_recording(box, {"--source", ring.source()})["id"];
    std::this_thread::sleep_for(2s);
    const auto killed = std::chrono::steady_clock::now();
    producer->signal(SIGKILL);
    const Json failed = wait_for_state(box, id, "failed", 5s);
    const double noticed = seconds_between(killed, std::chrono::steady_clock::now());
    INFO("session: " << failed.dump());
    REQUIRE(failed.value("state", "") == "failed");
    CHECK(noticed < 3);
    CHECK(error_code(failed) == "SOURCE_LOST");
    CHECK_THAT(failed["error"].value("message", ""), Catch::Contains("exited"));
    CHECK(failed["producer"].value("state", "") == "lost");
    const VideoReport report = check_session_file(failed);
    INFO(report.summary());
    CHECK(report.decode_errors == 0);
    CHECK(report.duration_in_header);
    CHECK(report.duration > 1.5);
    CHECK(report.duration < 2.8);
    check_consecutive(session_numbers(failed));
    CHECK(recd.process().running());
}

TEST_CASE("shm: rings whose headers lie are refused with SOURCE_UNAVAILABLE saying what is wrong",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    struct Lie {
        const char* what;
        std::function<void(HandmadeRing&)> make;
        const char* says;
        mode_t mode = 0600;
    };
    const Lie lies[] = {
        {"magic", [](HandmadeRing& r) { r.header().magic = 0x4242424242424242; },
         "not a recd frame ring"},
        {"version", [](HandmadeRing& r) { r.header().version = 7; }, "version 7"},
        {"segment smaller than claimed",
         [](HandmadeRing& r) { r.set_size(r.header().segment_bytes / 2); }, "smaller than the"},
        {"capacity that overflows", [](HandmadeRing& r) { r.header().capacity = 0xffffffff; },
         "1..1024"},
        {"frame size that lies", [](HandmadeRing& r) { r.header().frame_bytes = 1ull << 40; },
         "frame_bytes"},
        {"odd width", [](HandmadeRing& r) { r.header().width = 65; }, "even"},
        {"other users may write it", [](HandmadeRing&) {}, "writable by other users", 0666},
    };
    for (const auto& lie : lies) {
        INFO(lie.what);
        RingName ring("lie");
        HandmadeRing handmade(ring, lie.mode);
        lie.make(handmade);
        handmade.publish();
        const CtlResult start = recctl(box, {"start", "--source", ring.source()});
        INFO(start.describe());
        CHECK(start.code == 1);
        CHECK(start.json["error"].value("code", "") == "SOURCE_UNAVAILABLE");
        CHECK_THAT(start.json["error"].value("message", ""), Catch::Contains(lie.says));
    }
    CHECK(RawClient::pings(box.socket()));
    // A waiting session whose ring turns up malformed fails with it instead of waiting on.
    RingName ring("lie-wait");
    const CtlResult start = recctl(box, {"start", "--source", ring.source(), "--wait"});
    INFO(start.describe());
    REQUIRE(start.code == 0);
    const std::string id = start.json["session"].value("id", "");
    HandmadeRing handmade(ring);
    handmade.header().version = 9;
    handmade.publish();
    const Json failed = wait_for_state(box, id, "failed", 3s);
    INFO("session: " << failed.dump());
    CHECK(error_code(failed) == "SOURCE_UNAVAILABLE");
    CHECK_THAT(failed["error"].value("message", ""), Catch::Contains("version 9"));
    CHECK_FALSE(failed.contains("file"));
}

TEST_CASE(
    "shm: a ring spoiled while recorded (counter back, segment truncated) fails only its "
    "session",
    "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName back("back"), cut("cut"), good("good");
    auto producer_back = start_producer(box, back);
    auto producer_cut = start_producer(box, cut);
    auto producer_good = start_producer(box, good);
    const std::string id_back = start_recording(box, {"--source", back.source()})["id"];
    const std::string id_cut = start_recording(box, {"--source", cut.source()})["id"];
    const std::string id_good = start_recording(box, {"--source", good.source()})["id"];
    std::this_thread::sleep_for(1s);

    // The producers are stopped first so that only the test writes the rings.
    producer_back->signal(SIGSTOP);
    producer_cut->signal(SIGSTOP);
    const int fd_back = shm_open(("/" + back.segment().filename().string()).c_str(), O_RDWR, 0);
    REQUIRE(fd_back >= 0);
    const uint64_t one = 1;
    REQUIRE(pwrite(fd_back, &one, sizeof one, offsetof(shm::RingHeader, write_seq)) == 8);
    close(fd_back);
    const int fd_cut = shm_open(("/" + cut.segment().filename().string()).c_str(), O_RDWR, 0);
    REQUIRE(fd_cut >= 0);
    REQUIRE(ftruncate(fd_cut, 0) == 0);
    close(fd_cut);

    const Json failed_back = wait_for_state(box, id_back, "failed", 3s);
    INFO("back: " << failed_back.dump());
    CHECK(error_code(failed_back) == "SOURCE_LOST");
    CHECK_THAT(failed_back["error"].value("message", ""), Catch::Contains("backwards"));
    const Json failed_cut = wait_for_state(box, id_cut, "failed", 3s);
    INFO("cut: " << failed_cut.dump());
    CHECK(error_code(failed_cut) == "SOURCE_LOST");
    CHECK_THAT(failed_cut["error"].value("message", ""), Catch::Contains("shrank"));
    check_recording(check_session_file(failed_back), 640, 480, 30);
    check_recording(check_session_file(failed_cut), 640, 480, 30);

    CHECK(recd.process().running());
    const Json still = wait_for_state(box, id_good, "recording", 0ms);
    CHECK(still.value("state", "") == "recording");
    check_recording(check_session_file(stop_recording(box, id_good)), 640, 480, 30);
}

TEST_CASE("shm: frames the producer overwrites while recd is stopped (SIGSTOP) are counted",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("overwrite");
    auto producer = start_producer(box, ring, {"--capacity", "8"});
    const std::string id = start_recording(box, {"--source", ring.source()})["id"];
    std::this_thread::sleep_for(1s);
    const auto stopped_at = std::chrono::steady_clock::now();
    recd.process().signal(SIGSTOP);
    std::this_thread::sleep_for(1500ms);
    recd.process().signal(SIGCONT);
    const double paused = seconds_between(stopped_at, std::chrono::steady_clock::now());
    std::this_thread::sleep_for(1s);
    const Json stopped = stop_recording(box, id);
    INFO("session: " << stopped.dump());
    // 1.5 s at 30 fps is 45 frames, of which the ring kept the last 8.
    const int64_t overwritten = stopped["frames"].value("overwritten", int64_t{-1});
    CAPTURE(paused);
    CHECK(overwritten >= 30);
    CHECK(overwritten <= static_cast<int64_t>(paused * 30) + 5);
    const VideoReport report = check_session_file(stopped);
    check_recording(report, 640, 480, 30);
    CHECK(report.duration > 3.0);  // the stop left a still picture, not a hole in time
    // What the file misses is exactly what was counted.
    const auto numbers = session_numbers(stopped);
    int64_t missing = 0;
    for (size_t i = 1; i < numbers.size(); ++i) missing += numbers[i] - numbers[i - 1] - 1;
    CHECK(missing == overwritten + stopped["frames"].value("dropped", int64_t{0}));
}
