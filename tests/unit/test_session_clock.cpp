#include <catch2/catch.hpp>

#include "daemon/media/session_clock.hpp"

using namespace std::chrono_literals;
using rec::SessionClock;
using rec::TimePoint;

namespace {
const TimePoint t0 = TimePoint{} + 1h;
double media(const SessionClock& c, std::chrono::milliseconds at) {
    auto m = c.media_time(t0 + at);
    return m ? m->count() : -1;
}
}  // namespace

TEST_CASE("session clock: media time counts from the epoch and is nothing before it", "[clock]") {
    SessionClock c;
    CHECK_FALSE(c.media_time(t0));
    c.set_epoch(t0);
    c.set_epoch(t0 + 5s);  // only the first counts
    CHECK(media(c, 0ms) == Approx(0));
    CHECK(media(c, 1500ms) == Approx(1.5));
    CHECK_FALSE(c.media_time(t0 - 1ms));
}

TEST_CASE("session clock: paused spans are cut out and their instants dropped", "[clock]") {
    SessionClock c;
    c.set_epoch(t0);
    REQUIRE(c.pause(t0 + 2s));
    CHECK_FALSE(c.pause(t0 + 2500ms));  // already paused
    CHECK(c.paused());
    CHECK(media(c, 2100ms) == -1);
    REQUIRE(c.resume(t0 + 5s));
    CHECK_FALSE(c.resume(t0 + 6s));
    CHECK(media(c, 1999ms) == Approx(1.999));
    CHECK(media(c, 5s) == Approx(2.0));
    CHECK(media(c, 6s) == Approx(3.0));
    c.pause(t0 + 7s);
    c.resume(t0 + 8s);
    CHECK(media(c, 10s) == Approx(6.0));  // 10 - 3 - 1
}

TEST_CASE("session clock: nothing after the stop and the end is the stop's media time", "[clock]") {
    SessionClock c;
    c.set_epoch(t0);
    c.pause(t0 + 1s);
    c.resume(t0 + 2s);
    c.stop(t0 + 4s);
    CHECK(media(c, 3s) == Approx(2.0));
    CHECK(media(c, 4001ms) == -1);
    REQUIRE(c.end());
    CHECK(c.end()->count() == Approx(3.0));
}

TEST_CASE("session clock: a stop while paused ends where the pause began", "[clock]") {
    SessionClock c;
    c.set_epoch(t0);
    c.pause(t0 + 3s);
    c.stop(t0 + 9s);
    REQUIRE(c.end());
    CHECK(c.end()->count() == Approx(3.0));
}

TEST_CASE("session clock: the recorded stretch of a span is cut at the epoch, pauses and the stop",
          "[clock]") {
    SessionClock c;
    CHECK_FALSE(c.recorded(t0, t0 + 20ms));  // no epoch yet
    c.set_epoch(t0 + 10ms);
    const auto check = [&](std::chrono::milliseconds from, std::chrono::milliseconds to,
                           std::chrono::milliseconds begin, std::chrono::milliseconds end,
                           double media, size_t run) {
        const auto s = c.recorded(t0 + from, t0 + to);
        CAPTURE(from.count(), to.count());
        REQUIRE(s);
        CHECK(s->begin == t0 + begin);
        CHECK(s->end == t0 + end);
        CHECK(s->media.count() == Approx(media));
        CHECK(s->run == run);
    };
    check(0ms, 20ms, 10ms, 20ms, 0.0, 0);  // the part after the epoch
    CHECK_FALSE(c.recorded(t0, t0 + 5ms));
    c.pause(t0 + 1s);
    check(990ms, 1010ms, 990ms, 1s, 0.98, 0);           // up to the pause
    CHECK_FALSE(c.recorded(t0 + 1005ms, t0 + 1025ms));  // inside a pause still open
    c.resume(t0 + 2s);
    CHECK_FALSE(c.recorded(t0 + 1005ms, t0 + 1025ms));  // inside the pause
    check(1990ms, 2010ms, 2s, 2010ms, 0.99, 1);         // from the resume
    check(995ms, 2005ms, 995ms, 1s, 0.985, 0);          // the first stretch of several
    c.stop(t0 + 3s);
    check(2990ms, 3010ms, 2990ms, 3s, 1.98, 1);  // up to the stop
    CHECK_FALSE(c.recorded(t0 + 3s, t0 + 3020ms));
}
