#include "timeline.hpp"

#include <cmath>

namespace rec {

std::optional<VideoTimeline::Slot> VideoTimeline::place(TimePoint time) {
    if (!start_) start_ = time;
    const double elapsed = Seconds(time - *start_).count();
    const auto pts = static_cast<int64_t>(std::llround(elapsed * fps_));
    if (pts <= last_pts_) return std::nullopt;
    Slot slot{pts, pts - last_pts_ - 1};
    last_pts_ = pts;
    return slot;
}

}  // namespace rec
