#pragma once
// Maps capture times to constant-frame-rate slots (pts in 1/fps units). Used by the encode
// thread only. Time, not counting: a frame's slot is the slot nearest to its capture time, so a
// late or dropped grab leaves a hole that the caller fills by repeating the previous picture,
// and output time stays true to wall time.
// Grab latency jitters (a few ms); so that the first frame's jitter does not shift every later
// boundary, the slot grid follows the average offset of frames from their slots (the phase),
// bounded to less than half a slot: never more than half a frame away from wall time.
#include <cstdint>
#include <optional>

#include "../../common/clock.hpp"

namespace rec {

class VideoTimeline {
public:
    explicit VideoTimeline(int fps) : fps_(fps) {}

    struct Slot {
        int64_t pts;      // slot for this frame
        int64_t repeats;  // empty slots before it, to fill with the previous picture
    };

    // A frame at media time `time` (seconds since the session's epoch; see SessionClock): its
    // slot, or nothing when its slot is already taken (two grabs rounded to one slot; the
    // later one is skipped).
    std::optional<Slot> place(Seconds time);

    // Slots written so far; their count over fps is the recording's duration.
    int64_t slots() const { return last_pts_ + 1; }
    Seconds duration() const { return Seconds(static_cast<double>(slots()) / fps_); }

private:
    const int fps_;
    int64_t last_pts_ = -1;
    double phase_ = 0;    // slots; average of (capture time - slot time)
    int64_t placed_ = 0;  // frames placed, for the phase's running average
};

}  // namespace rec
