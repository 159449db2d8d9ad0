// Shared-memory sources (issue 9): recd records rings that recd-shm-push (a real producer
// process) writes, through recctl, and every file is read back with libavcodec: which test-card
// frame each file frame shows, and where. What goes wrong (producers killed, hostile rings, recd
// lagging) is in test_shm_faults.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "harness.hpp"
#include "recording_checks.hpp"
#include "shm_harness.hpp"

using namespace rec::test;

namespace {

// The mean of a 8x8 block of a plane at (x, y) in that plane's own pixels.
double mean(const AVFrame& frame, int plane, int x, int y) {
    double sum = 0;
    for (int row = y; row < y + 8; ++row)
        for (int col = x; col < x + 8; ++col)
            sum += frame.data[plane][row * frame.linesize[plane] + col];
    return sum / 64;
}

}  // namespace

TEST_CASE("shm: a running producer's frames are recorded at its size, in order, none lost",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("first");
    auto producer = start_producer(box, ring);  // 640x480 BGRA at 30 fps
    const Json started = start_recording(box, {"--source", ring.source()});
    const std::string id = started["id"];
    CHECK(started.value("source", "") == ring.source());
    CHECK_FALSE(started.contains("display"));
    CHECK(started["producer"].value("state", "") == "live");
    CHECK(started["producer"].value("format", "") == "bgra");
    CHECK(started["producer"].value("pid", 0) == producer->pid());
    CHECK(started["audio"].empty());  // a ring's session records no audio by default
    std::this_thread::sleep_for(3s);

    const CtlResult list = recctl(box, {"list"});
    REQUIRE(list.code == 0);
    CHECK(list.json["sessions"][0].value("source", "") == ring.source());
    const CtlResult table = recctl(box, {"list"}, false);
    CHECK_THAT(table.out, Catch::Contains("SOURCE") && Catch::Contains(ring.source()));

    const Json stopped = stop_recording(box, id);
    INFO("session: " << stopped.dump());
    CHECK(stopped["frames"].value("overwritten", -1) == 0);
    CHECK(stopped["frames"].value("dropped", -1) == 0);
    CHECK(stopped["region"] == Json({{"x", 0}, {"y", 0}, {"width", 640}, {"height", 480}}));
    const VideoReport report = check_session_file(stopped);
    check_recording(report, 640, 480, 30);
    CHECK(report.duration > 2.5);
    const auto numbers = session_numbers(stopped);
    check_consecutive(numbers);
    CHECK(numbers.size() >= 75);  // ~90 frames in 3 s, each of them
}

TEST_CASE("shm: BGRA, RGB24, NV12 and I420 rings are recorded at once, each with its colours",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const std::vector<std::string> formats = {"bgra", "rgb24", "nv12", "i420"};
    std::vector<std::unique_ptr<RingName>> rings;
    std::vector<std::unique_ptr<Process>> producers;
    std::vector<std::string> ids;
    for (const auto& format : formats) {
        rings.push_back(std::make_unique<RingName>(format));
        producers.push_back(start_producer(box, *rings.back(), {"--format", format}));
        const Json started = start_recording(box, {"--source", rings.back()->source()});
        CHECK(started["producer"].value("format", "") == format);
        ids.push_back(started["id"]);
    }
    std::this_thread::sleep_for(2s);
    for (size_t i = 0; i < formats.size(); ++i) {
        INFO("format " << formats[i]);
        const Json stopped = stop_recording(box, ids[i]);
        check_recording(check_session_file(stopped), 640, 480, 30);
        // The card's background at (x, y) is R = 255 x / 640, G = 255 y / 480, B = 128; in the
        // file, BT.601 video range. A point away from the moving bar, in every frame.
        int checked = 0;
        double worst[3] = {0, 0, 0};  // Y, U, V
        const auto frames =
            read_card_frames(stopped["file"].get<std::string>(), 30, [&](const AVFrame& f) {
                const int bar = card_number(f) * 8 % 624;
                const int x = bar > 320 ? 96 : 480, y = 320;
                const double r = x * 255.0 / 640, g = y * 255.0 / 480, b = 128;
                const double luma = 0.299 * r + 0.587 * g + 0.114 * b;
                const double expected[3] = {16 + luma * 219 / 255,
                                            128 + (b - luma) / 1.772 * 224 / 255,
                                            128 + (r - luma) / 1.402 * 224 / 255};
                const double got[3] = {mean(f, 0, x, y), mean(f, 1, x / 2, y / 2),
                                       mean(f, 2, x / 2, y / 2)};
                for (int c = 0; c < 3; ++c)
                    if (std::abs(got[c] - expected[c]) > std::abs(worst[c]))
                        worst[c] = got[c] - expected[c];
                ++checked;
            });
        check_consecutive(numbers_of(frames));
        CHECK(checked > 40);
        CAPTURE(worst[0], worst[1], worst[2]);
        // A wrong plane or channel order is off by 50 or more.
        CHECK(std::max({std::abs(worst[0]), std::abs(worst[1]), std::abs(worst[2])}) < 10);
    }
}

TEST_CASE(
    "shm: recd first: with --wait the session waits for its producer and records it from "
    "its first frame",
    "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("wait");
    const CtlResult start = recctl(box, {"start", "--source", ring.source(), "--wait"});
    INFO(start.describe());
    REQUIRE(start.code == 0);
    const Json waiting = start.json["session"];
    const std::string id = waiting["id"];
    CHECK(waiting.value("state", "") == "waiting");
    CHECK(waiting["producer"].value("state", "") == "waiting");
    CHECK_FALSE(waiting.contains("file"));
    CHECK_THAT(recctl(box, {"status", id}, false).out, Catch::Contains("waiting"));
    std::this_thread::sleep_for(500ms);
    CHECK(wait_for_state(box, id, "waiting", 0ms).value("state", "") == "waiting");

    auto producer = start_producer(box, ring, {"--frames", "45"});
    const Json recording = wait_for_state(box, id, "recording", 5s);
    INFO("session: " << recording.dump());
    CHECK(recording.value("state", "") == "recording");
    CHECK(recording["producer"].value("state", "") == "live");
    REQUIRE(producer->wait_for(10s) == 0);
    std::this_thread::sleep_for(300ms);
    // It ended its ring; with --wait the session waits for the next producer instead of ending.
    const Json after = wait_for_state(box, id, "recording", 0ms);
    CHECK(after.value("state", "") == "recording");
    CHECK(after["producer"].value("state", "") == "waiting");

    const Json stopped = stop_recording(box, id);
    check_recording(check_session_file(stopped), 640, 480, 30);
    const auto numbers = session_numbers(stopped);
    check_consecutive(numbers);
    CHECK(numbers.front() == 0);
    CHECK(numbers.back() == 44);
}

TEST_CASE("shm: with --wait a producer that dies and comes back is recorded on in the same file",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("return");
    auto first = start_producer(box, ring);
    const std::string id = start_recording(box, {"--source", ring.source(), "--wait"})["id"];
    std::this_thread::sleep_for(1s);
    first->signal(SIGKILL);
    REQUIRE(first->wait_for(5s).has_value());
    // The session, once its producer is "waiting" (or after 3 s).
    const auto waiting = [&] {
        const auto by = std::chrono::steady_clock::now() + 3s;
        Json session;
        do {
            session = wait_for_state(box, id, "recording", 0ms);
            if (session["producer"].value("state", "") == "waiting") break;
            std::this_thread::sleep_for(100ms);
        } while (std::chrono::steady_clock::now() < by);
        return session;
    };
    // Noticed within a second and a bit (its pid is gone, nothing written for 1 s).
    const Json session = waiting();
    INFO("session: " << session.dump());
    CHECK(session.value("state", "") == "recording");
    CHECK(session["producer"].value("state", "") == "waiting");

    auto second = start_producer(box, ring, {"--frames", "30"});  // replaces the leftover ring
    REQUIRE(second->wait_for(10s) == 0);
    // recd takes a ring's frames before it looks at its producer: once it waits again, the
    // second producer's last frames are read (a stop interrupts the reading of the ring, so
    // stopping at once could leave the last one or two in it).
    CHECK(waiting()["producer"].value("state", "") == "waiting");
    const Json stopped = stop_recording(box, id);
    CHECK(error_code(stopped).empty());
    const VideoReport report = check_session_file(stopped);
    check_recording(report, 640, 480, 30);
    const auto numbers = session_numbers(stopped);
    // The first producer's frames up to the kill, then the second's from its frame 0.
    REQUIRE(numbers.size() > 30);
    const std::vector<int> tail(numbers.end() - 30, numbers.end());
    check_consecutive(std::vector<int>(numbers.begin(), numbers.end() - 30));
    check_consecutive(tail);
    CHECK(tail.front() == 0);
    CHECK(tail.back() == 29);
    CHECK(report.duration > 2.5);  // the time between them holds the last picture
}

TEST_CASE("shm: without --wait a missing ring fails the start with SOURCE_UNAVAILABLE", "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("missing");
    const CtlResult start = recctl(box, {"start", "--source", ring.source()});
    INFO(start.describe());
    CHECK(start.code == 1);
    CHECK(start.json["error"].value("code", "") == "SOURCE_UNAVAILABLE");
    CHECK_THAT(start.json["error"].value("message", ""), Catch::Contains("no ring"));
    const CtlResult bad = recctl(box, {"start", "--source", "shm:../x"});
    CHECK(bad.json["error"].value("code", "") == "INVALID_ARGUMENT");
    const CtlResult region =
        recctl(box, {"start", "--source", ring.source(), "--region", "64x64+0+0"});
    CHECK(region.json["error"].value("code", "") == "INVALID_ARGUMENT");
    const CtlResult wait = recctl(box, {"start", "--source", "x11", "--wait"});
    CHECK(wait.json["error"].value("code", "") == "INVALID_ARGUMENT");
}

TEST_CASE("shm: a producer that ends its ring stops the session, with every frame in the file",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RingName ring("end");
    auto producer = start_producer(box, ring, {"--frames", "60"});
    const std::string id = start_recording(box, {"--source", ring.source()})["id"];
    REQUIRE(producer->wait_for(10s) == 0);
    const Json stopped = wait_for_state(box, id, "stopped", 5s);
    INFO("session: " << stopped.dump());
    CHECK(stopped.value("state", "") == "stopped");
    CHECK(error_code(stopped).empty());
    CHECK(stopped["producer"].value("state", "") == "closed");
    check_recording(check_session_file(stopped), 640, 480, 30);
    const auto numbers = session_numbers(stopped);
    check_consecutive(numbers);
    CHECK(numbers.back() == 59);
}

TEST_CASE("shm: frames are placed by their producer timestamps, not by when recd read them",
          "[shm]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    // Published three at a time (each stamped with its own instant, 33 ms apart): by arrival
    // two of every three would share a slot and be dropped.
    RingName burst("burst");
    auto burst_producer = start_producer(box, burst, {"--burst", "3"});
    // 10 fps into a 30 fps file: each frame stands for three slots, by its timestamp.
    RingName slow("slow");
    auto slow_producer = start_producer(box, slow, {"--fps", "10"});
    const std::string burst_id = start_recording(box, {"--source", burst.source()})["id"];
    const std::string slow_id = start_recording(box, {"--source", slow.source()})["id"];
    std::this_thread::sleep_for(3s);

    const Json burst_stopped = stop_recording(box, burst_id);
    INFO("burst: " << burst_stopped.dump());
    CHECK(burst_stopped["frames"].value("dropped", -1) == 0);
    check_recording(check_session_file(burst_stopped), 640, 480, 30);
    const auto burst_frames = read_card_frames(burst_stopped["file"].get<std::string>(), 30);
    const auto burst_numbers = numbers_of(burst_frames);
    check_consecutive(burst_numbers);
    CHECK(burst_numbers.size() >= 75);
    // One frame a slot: slot - number stays the same from frame to frame. It may step a few
    // times: a producer late under load starts its schedule over (and that time is real).
    int steps = 0;
    for (size_t i = 1; i < burst_frames.size(); ++i)
        if (burst_frames[i].pts - burst_frames[i].number !=
            burst_frames[i - 1].pts - burst_frames[i - 1].number)
            ++steps;
    CHECK(steps <= 3);

    const Json slow_stopped = stop_recording(box, slow_id);
    INFO("slow: " << slow_stopped.dump());
    check_recording(check_session_file(slow_stopped), 640, 480, 30);
    const auto slow_frames = read_card_frames(slow_stopped["file"].get<std::string>(), 30);
    check_consecutive(numbers_of(slow_frames));
    // Where each number first shows: three slots after the one before.
    std::vector<int64_t> first_slot;
    for (size_t i = 0; i < slow_frames.size(); ++i)
        if (i == 0 || slow_frames[i].number != slow_frames[i - 1].number)
            first_slot.push_back(slow_frames[i].pts);
    REQUIRE(first_slot.size() >= 25);
    int three = 0;
    for (size_t i = 1; i < first_slot.size(); ++i) three += first_slot[i] - first_slot[i - 1] == 3;
    CAPTURE(first_slot.size(), three);
    CHECK(three >= static_cast<int>(first_slot.size() - 1) * 9 / 10);
}
