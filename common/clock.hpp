#pragma once
// The one clock of recd: every frame and audio chunk is stamped with it at capture.
#include <chrono>

namespace rec {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::duration<double>;

}  // namespace rec
