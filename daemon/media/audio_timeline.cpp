#include "audio_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace rec {
namespace {

// An offset beyond 50 ms is a discontinuity, corrected at once (the and DESIGN's figure:
// below it a jump would be heard as a glitch more than the offset is seen).
constexpr double max_step_seconds = 0.050;
// Offsets from the fitted clock are smooth already; a light filter takes the rounding of chunk
// boundaries out.
constexpr double smoothing_seconds = 0.1;
// The clock fit forgets with a time constant of 30 s: long enough to average out read-time
// jitter to a few ppm, short enough to follow a clock that wanders.
constexpr double fit_seconds = 30;
// The fitted clock's slope is fed forward (a device 0.1 % fast has 0.1 % of its samples taken
// out from the moment the fit knows it), and what remains of the offset is steered out with a
// time constant of 0.5 s. No integral term: the fit already is the memory of lasting drift, and
// an integral that must learn it first makes a transient of milliseconds over tens of seconds.
constexpr double gain_p = 2.0;  // 1/s
// Real device clocks are within a few hundred ppm; 1 % bounds a wild estimate's audible pitch
// change. Anything beyond it shows up as offset and is stepped at max_step.
constexpr double max_correction = 0.01;

}  // namespace

AudioTimeline::Placement AudioTimeline::place(double start, int64_t frames, double position) {
    Placement p;
    const double offset = position - start * rate_;  // + : audio would land late
    const double max_step = max_step_seconds * rate_;
    if (!aligned_ || std::abs(offset) > max_step) {
        // Step to the exact position; the fit starts over (the device may have changed). An
        // overlap longer than the chunk drops all of it and stays unaligned, so the next chunk
        // steps too: otherwise the rest (under 50 ms after a 60 ms overlap, say) would be left
        // to the smooth correction, seconds at 1 %, with the sound that far off meanwhile.
        if (offset < 0)
            p.silence = std::llround(-offset);
        else
            p.skip = std::min<int64_t>(frames, std::llround(offset));
        silence_total_ += p.silence;
        smoothed_ = 0;
        aligned_ = p.skip < frames;
        fit_.reset();
        delivered_ = 0;
        if (!aligned_) return p;
    }
    const double delivered = static_cast<double>(delivered_) / rate_;
    const double dt = static_cast<double>(frames) / rate_;
    fit_.add(delivered, start, dt);
    delivered_ += frames;
    if (p.silence || p.skip) return p;
    const double fitted = fit_.ready() ? fit_.at(delivered) : start;
    smoothed_ +=
        (1 - std::exp(-dt / smoothing_seconds)) * ((position - fitted * rate_) - smoothed_);
    const double slope = fit_.ready() ? fit_.slope() : 1.0;  // real seconds per device second
    correction_ = std::clamp((slope - 1) * rate_ - gain_p * smoothed_, -max_correction * rate_,
                             max_correction * rate_);
    carry_ += correction_ * dt;
    p.compensation = static_cast<int>(std::trunc(carry_));
    carry_ -= p.compensation;
    return p;
}

void AudioTimeline::ClockFit::add(double x, double y, double w) {
    const double decay = std::exp(-w / fit_seconds);
    weight_ = weight_ * decay + w;
    x_ = x_ * decay + w * x;
    y_ = y_ * decay + w * y;
    xx_ = xx_ * decay + w * x * x;
    xy_ = xy_ * decay + w * x * y;
}

// A slight pull of the slope towards 1 (the nominal rate), worth a few chunks, keeps the first
// fits (0.5 s of samples) from tilting far on read-time jitter; after a few seconds it is
// nothing.
double AudioTimeline::ClockFit::slope() const {
    constexpr double prior = 0.02;  // s^3: 0.5 s of samples spread over +-0.35 s
    const double mean_x = x_ / weight_, mean_y = y_ / weight_;
    const double sxx = xx_ - weight_ * mean_x * mean_x;
    const double sxy = xy_ - weight_ * mean_x * mean_y;
    return (sxy + prior) / (sxx + prior);
}

double AudioTimeline::ClockFit::at(double x) const {
    return y_ / weight_ + slope() * (x - x_ / weight_);
}

}  // namespace rec
