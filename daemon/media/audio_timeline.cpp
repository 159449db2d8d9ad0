#include "audio_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace rec {
namespace {

// An offset beyond 50 ms is a discontinuity, corrected at once (the and DESIGN's figure:
// below it a jump would be heard as a glitch more than the offset is seen).
constexpr double max_step_seconds = 0.050;
// Offsets from the fitted clock are smooth already; a light filter (time constant ~0.1 s)
// takes the rounding of chunk boundaries out.
constexpr double smoothing = 0.2;
// The clock fit forgets with a time constant of ~30 s of 20 ms chunks: long enough to average
// out read-time jitter to a few ppm, short enough to follow a clock that wanders.
constexpr double fit_decay = 1 - 1.0 / 1500;
// PI gains: P corrects an offset in ~1 s, I learns a constant drift; together critically
// damped (natural frequency 0.4 rad/s: settled within ~15 s), so a 0.1 % clock error peaks
// at ~1 ms before it is absorbed. The ratio then moves by at most a few hundred ppm with the
// timestamps' jitter: far below an audible pitch change.
constexpr double gain_p = 0.8;   // 1/s
constexpr double gain_i = 0.16;  // 1/s^2
// Real device clocks are within a few hundred ppm; 1 % bounds a wild estimate's audible pitch
// change. Anything beyond it shows up as offset and is stepped at max_step.
constexpr double max_correction = 0.01;

}  // namespace

AudioTimeline::Placement AudioTimeline::place(double start, int64_t frames, double position) {
    Placement p;
    const double offset = position - start * rate_;  // + : audio would land late
    const double max_step = max_step_seconds * rate_;
    if (!aligned_ || std::abs(offset) > max_step) {
        // Step to the exact position; the drift learnt so far (integral_) stays valid.
        if (offset < 0)
            p.silence = std::llround(-offset);
        else
            p.skip = std::min<int64_t>(frames, std::llround(offset));
        silence_total_ += p.silence;
        smoothed_ = 0;
        aligned_ = true;
        fit_.reset();
        delivered_ = 0;
    }
    const double delivered = static_cast<double>(delivered_) / rate_;
    fit_.add(delivered, start);
    delivered_ += frames;
    if (p.silence || p.skip) return p;
    const double fitted = fit_.ready() ? fit_.at(delivered) : start;
    const double dt = static_cast<double>(frames) / rate_;
    smoothed_ += smoothing * ((position - fitted * rate_) - smoothed_);
    integral_ += smoothed_ * dt;
    correction_ = std::clamp(-(gain_p * smoothed_ + gain_i * integral_), -max_correction * rate_,
                             max_correction * rate_);
    carry_ += correction_ * dt;
    p.compensation = static_cast<int>(std::trunc(carry_));
    carry_ -= p.compensation;
    return p;
}

void AudioTimeline::ClockFit::add(double x, double y) {
    weight_ = weight_ * fit_decay + 1;
    x_ = x_ * fit_decay + x;
    y_ = y_ * fit_decay + y;
    xx_ = xx_ * fit_decay + x * x;
    xy_ = xy_ * fit_decay + x * y;
}

// The slope is pulled towards 1 (the nominal rate) by a prior worth ~10 s of chunks: a fit over
// the first seconds cannot tilt on read-time jitter, a fit over the full window barely feels it
// (the PI controller's integral takes up what it leaves).
double AudioTimeline::ClockFit::at(double x) const {
    constexpr double prior = 500 * 25.0 / 3;  // 500 chunks spread evenly over +-5 s
    const double mean_x = x_ / weight_, mean_y = y_ / weight_;
    const double sxx = xx_ - weight_ * mean_x * mean_x;
    const double sxy = xy_ - weight_ * mean_x * mean_y;
    return mean_y + (sxy + prior) / (sxx + prior) * (x - mean_x);
}

}  // namespace rec
