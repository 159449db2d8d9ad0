#include "audio_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace rec {
namespace {

// An offset beyond 50 ms is a discontinuity, corrected at once (the and DESIGN's figure:
// below it a jump would be heard as a glitch more than the offset is seen).
constexpr double max_step_seconds = 0.050;
// Offsets are measured per chunk (~20 ms) and carry a few ms of timing jitter; this smoothing
// (time constant ~0.4 s) keeps that jitter out of the resampling ratio.
constexpr double smoothing = 0.05;
// PI gains: P corrects an offset in ~5 s, I learns a constant drift; together critically
// damped (natural period ~60 s), so a 0.1 % clock error peaks at ~4 ms before it is absorbed.
constexpr double gain_p = 0.2;   // 1/s
constexpr double gain_i = 0.01;  // 1/s^2
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
        if (offset < 0) p.silence = std::llround(-offset);
        else p.skip = std::min<int64_t>(frames, std::llround(offset));
        silence_total_ += p.silence;
        smoothed_ = 0;
        aligned_ = true;
        return p;
    }
    const double dt = static_cast<double>(frames) / rate_;
    smoothed_ += smoothing * (offset - smoothed_);
    integral_ += smoothed_ * dt;
    correction_ = std::clamp(-(gain_p * smoothed_ + gain_i * integral_), -max_correction * rate_,
                             max_correction * rate_);
    carry_ += correction_ * dt;
    p.compensation = static_cast<int>(std::trunc(carry_));
    carry_ -= p.compensation;
    return p;
}

}  // namespace rec
