#include "timeline.hpp"

#include <algorithm>
#include <cmath>

namespace rec {
namespace {

// The phase averages the first frames equally, then follows slowly (1/16 per frame: about half
// a second at 30 fps) so one late grab barely moves it.
constexpr int64_t phase_window = 16;
constexpr double max_phase = 0.45;  // slots

}  // namespace

std::optional<VideoTimeline::Slot> VideoTimeline::place(Seconds time) {
    const double elapsed = time.count() * fps_;  // in slots
    const auto pts = static_cast<int64_t>(std::llround(elapsed - phase_));
    if (pts <= last_pts_) return std::nullopt;
    Slot slot{pts, pts - last_pts_ - 1};
    last_pts_ = pts;
    placed_ = std::min(placed_ + 1, phase_window);
    phase_ = std::clamp(phase_ + ((elapsed - pts) - phase_) / placed_, -max_phase, max_phase);
    return slot;
}

}  // namespace rec
