// The drift controller (daemon/media/audio_timeline.*) against simulated devices: a device
// whose clock runs fast or slow delivers chunks (20 ms, or 0.3-1.3 ms as a pipe source does)
// stamped with jittery times; the test
// plays the resampler (output advances by the chunk plus the compensation asked for) and
// checks where the samples land against where they belong.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>

#include "daemon/media/audio_timeline.hpp"

namespace {

constexpr int rate = 48000;
constexpr int64_t chunk = 960;  // 20 ms

struct Run {
    double max_offset_ms = 0;  // after settling
    double final_offset_ms = 0;
    int64_t silence = 0, skipped = 0;
};

// `skew`: the device clock's error (0.001 = 0.1 % fast); `jitter_ms`: timestamp noise, white
// plus `wander_ms` that comes and goes over seconds (as libpulse's latency interpolation does);
// chunks of `min_frames`..`max_frames`.
Run simulate(double skew, double jitter_ms, double seconds, double settle_seconds = 60,
             int64_t min_frames = chunk, int64_t max_frames = chunk, double wander_ms = 0) {
    rec::AudioTimeline timeline(rate);
    std::mt19937 random(42);
    std::uniform_real_distribution<double> noise(-jitter_ms / 1000, jitter_ms / 1000);
    std::uniform_int_distribution<int64_t> length(min_frames, max_frames);
    double position = 0;  // output frames written
    Run run;
    for (int64_t input = 0, frames = 0; input / (rate * (1 + skew)) < seconds; input += frames) {
        frames = length(random);
        const double truth = input / (rate * (1 + skew));  // when its first sample was captured
        const double wander = wander_ms / 1000 * std::sin(2 * std::numbers::pi * truth / 8);
        const auto p = timeline.place(truth + noise(random) + wander, frames, position);
        position += p.silence + (frames - p.skip) + p.compensation;
        run.silence += p.silence;
        run.skipped += p.skip;
        const double offset_ms =
            (position - (truth + frames / (rate * (1 + skew))) * rate) / rate * 1000;
        if (truth > settle_seconds)
            run.max_offset_ms = std::max(run.max_offset_ms, std::abs(offset_ms));
        run.final_offset_ms = offset_ms;
    }
    return run;
}

}  // namespace

TEST_CASE("audio timeline: a perfect device stays aligned with no correction", "[audio]") {
    auto run = simulate(0, 0, 600, 0);
    CHECK(run.max_offset_ms < 0.1);
    CHECK(run.silence == 0);
    CHECK(run.skipped == 0);
}

TEST_CASE("audio timeline: a clock 0.1 % fast or slow is held within a few ms for an hour",
          "[audio]") {
    for (double skew : {0.001, -0.001, 0.0003, -0.0003}) {
        INFO("skew " << skew);
        auto run = simulate(skew, 3, 3600, 0);
        // Never stepped: beyond aligning the first chunk to its (jittery) stamp, the drift is
        // absorbed smoothly, no silence inserted or samples dropped.
        CHECK(run.silence + run.skipped <= 0.003 * rate);
        CHECK(run.max_offset_ms < 8);  // the whole hour, settling included
        auto settled = simulate(skew, 3, 3600, 120);
        CHECK(settled.max_offset_ms < 3);
        CHECK(std::abs(settled.final_offset_ms) < 2);
    }
}

// A pipe source hands over whatever its FIFO holds, ~300 chunks a second: the clock fit must
// weigh samples, not chunks, or it forgets within seconds and follows every wander of the
// stamps (2.5 ms here, against 0.5 ms).
TEST_CASE("audio timeline: tiny chunks are held as well as 20 ms ones", "[audio]") {
    for (double skew : {0.001, -0.001}) {
        INFO("skew " << skew);
        for (auto [min_frames, max_frames] :
             {std::pair<int64_t, int64_t>{16, 64}, {chunk, chunk}}) {
            INFO("chunks of " << min_frames << ".." << max_frames << " frames");
            CHECK(simulate(skew, 1, 600, 30, min_frames, max_frames, 2).max_offset_ms < 1);
        }
    }
}

TEST_CASE("audio timeline: the first chunk is aligned exactly, late or early", "[audio]") {
    rec::AudioTimeline late(rate);
    auto p = late.place(0.5, chunk, 0);  // audio starts 0.5 s after the picture
    CHECK(p.silence == rate / 2);
    CHECK(p.skip == 0);
    rec::AudioTimeline early(rate);
    p = early.place(0.0, chunk, 480);  // 10 ms already written: trim, even under 50 ms
    CHECK(p.skip == 480);
    CHECK(p.silence == 0);
}

TEST_CASE("audio timeline: a gap over 50 ms becomes silence, an overlap is trimmed", "[audio]") {
    rec::AudioTimeline t(rate);
    t.place(0, chunk, 0);
    auto p = t.place(0.020, chunk, chunk);  // on time
    CHECK(p.silence == 0);
    p = t.place(0.540, chunk, 2 * chunk);  // 500 ms of nothing (source suspended)
    CHECK(p.silence == 0.500 * rate);
    CHECK(t.silence_frames() == 0.500 * rate);
    p = t.place(0.400, 0.200 * rate, 0.580 * rate);  // its first 180 ms are already covered
    CHECK(p.skip == 0.180 * rate);
    p = t.place(0.400, chunk, 0.580 * rate);  // all of it: the whole chunk goes
    CHECK(p.skip == chunk);
}

// Silence was filled over a stretch whose samples then arrive after all (the machine stalled):
// 60 ms of overlap, 20 ms chunks. Every chunk that is wholly covered goes; the one that ends past
// the written position is trimmed to it exactly, not left 40 ms off for the smooth correction.
TEST_CASE("audio timeline: an overlap longer than a chunk is trimmed over several chunks",
          "[audio]") {
    rec::AudioTimeline t(rate);
    t.place(0, chunk, 0);
    const double position = 0.080 * rate;  // written up to 80 ms; samples resume at 20 ms
    for (double start : {0.020, 0.040}) {
        INFO("chunk at " << start);
        const auto p = t.place(start, chunk, position);
        CHECK(p.skip == chunk);
    }
    const auto p = t.place(0.060, chunk, position);
    CHECK(p.skip == 0.020 * rate);
    CHECK(p.compensation == 0);
    CHECK(t.offset_ms() == 0);
}

TEST_CASE("audio timeline: offsets under 50 ms are corrected smoothly, not stepped", "[audio]") {
    rec::AudioTimeline t(rate);
    t.place(0, chunk, 0);
    double position = chunk;
    int max_step = 0;
    // Audio suddenly 30 ms late (a latency change): no silence or skip, steered back within a
    // minute.
    for (int i = 1; i < 50 * 60; ++i) {
        const auto p = t.place(i * 0.020 - 0.030, chunk, position);
        CHECK(p.silence == 0);
        CHECK(p.skip == 0);
        max_step = std::max(max_step, std::abs(p.compensation));
        position += chunk + p.compensation;
    }
    CHECK(std::abs(position - (50 * 60 * 0.020 - 0.030) * rate) < 0.001 * rate);
    CHECK(max_step <= chunk / 100 + 1);  // at most 1 % stretch of any chunk
}
