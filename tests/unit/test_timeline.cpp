#include <catch2/catch.hpp>

#include "daemon/media/timeline.hpp"

using namespace std::chrono_literals;
using rec::VideoTimeline;

namespace {
rec::Seconds at(double ms) { return rec::Seconds(ms / 1000); }
}  // namespace

TEST_CASE("timeline: the first frame is slot 0, regular frames take consecutive slots",
          "[timeline]") {
    VideoTimeline t(30);
    for (int i = 0; i < 90; ++i) {
        // capture jitter of up to +-10 ms must not move a frame off its slot
        // the first frame (jitter -10 ms) sets the epoch: media times are relative to it
        auto slot = t.place(at(i * 1000.0 / 30 + (i % 3 - 1) * 10 + 10));
        REQUIRE(slot);
        CHECK(slot->pts == i);
        CHECK(slot->repeats == 0);
    }
    CHECK(t.slots() == 90);
    CHECK(t.duration().count() == Approx(3.0));
}

TEST_CASE("timeline: a late frame leaves empty slots to repeat, so time stays true", "[timeline]") {
    VideoTimeline t(10);  // 100 ms slots
    REQUIRE(t.place(at(0))->pts == 0);
    auto slot = t.place(at(410));  // 3 grabs missed
    REQUIRE(slot);
    CHECK(slot->pts == 4);
    CHECK(slot->repeats == 3);
    CHECK(t.slots() == 5);
}

TEST_CASE("timeline: two frames in one slot keep the first and skip the second", "[timeline]") {
    VideoTimeline t(10);
    t.place(at(0));
    REQUIRE(t.place(at(100))->pts == 1);
    CHECK_FALSE(t.place(at(120)));  // rounds to slot 1 again
    CHECK(t.place(at(210))->pts == 2);
}

TEST_CASE("timeline: a frame stamped before the previous is skipped", "[timeline]") {
    VideoTimeline t(30);
    t.place(at(0));
    t.place(at(100));
    CHECK_FALSE(t.place(at(50)));
    CHECK(t.slots() == 4);
}

TEST_CASE("timeline: pts follows elapsed time at any fps, over hours", "[timeline]") {
    for (int fps : {1, 24, 30, 60, 240}) {
        VideoTimeline t(fps);
        t.place(at(0));
        auto slot = t.place(at(3 * 3600 * 1000.0));  // three hours later
        REQUIRE(slot);
        CHECK(slot->pts == 3LL * 3600 * fps);
    }
}
