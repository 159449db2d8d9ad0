#pragma once
// What flows from a capture thread to an encode thread. The AVFrame's buffers are reference
// counted: the capture side allocates from its pool, the encode side releases them.
#include "../../common/clock.hpp"
#include "av_ptr.hpp"

namespace rec {

struct VideoFrame {
    FramePtr frame;  // packed BGR0/BGRA, the region's size
    TimePoint time;  // steady_clock: the instant the picture shows (mid-grab)
};

}  // namespace rec
