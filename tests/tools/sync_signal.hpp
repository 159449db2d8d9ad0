#pragma once
// The sync signal: what sync_tool emits and sync_analysis looks for. Both include this file so
// they cannot disagree.
//
// Events: the first 1 s after sync_tool's start, then periods of 0.25 s + (k mod 7) x 13 ms. The
// varying period keeps events from phase-locking with 30 fps frames (13 ms is not a multiple of
// a frame) and gives the sequence a signature, which the analyzer uses to pair flashes with tones
// even when they are seconds apart. Four events a second: a drift fitted over 30 s of events
// with ~0.7 ms of noise each has a standard error of ~0.5 ms/min (against ~1 ms/min at one a
// second), which is what lets a 30 s run judge a 1 ms/min target.
//
// Flash: the window jumps from black to white and fades, level(d) = 255 - 2.5 d/ms, for 80 ms;
// then stays at 55 until 100 ms; then black. The first frame that shows a flash thus tells by its
// brightness how long after the flash it was grabbed: the flash's instant is known to a fraction
// of a millisecond rather than to a frame (33 ms), which is what makes a drift of 1 ms/min
// measurable in a 30 s recording. The ramp spans more than two frames at 30 fps so that a grab
// that comes late (a busy machine: frames 40-50 ms apart) still lands on it: the analysis then
// measures where the recorder put that picture in time, not how far apart its grabs were.
//
// Tone: a 1 kHz full-scale sine from phase 0 for 50 ms, in both channels.
#include <cmath>

namespace rec::sync {

inline constexpr int sample_rate = 48000;
inline constexpr int channels = 2;
inline constexpr double tone_hz = 1000.0;
inline constexpr double tone_seconds = 0.050;
inline constexpr double flash_seconds = 0.100;
inline constexpr double event_period = 0.25;  // the shortest; > flash_seconds + tone_seconds

// Seconds from sync_tool's start to event k (k = 0, 1, ...).
inline double event_time(int k) {
    double t = 1.0;
    for (int j = 0; j < k; ++j) t += event_period + (j % 7) * 0.013;
    return t;
}

inline constexpr double ramp_top = 255;        // level at the flash's instant
inline constexpr double ramp_per_ms = 2.5;     // levels lost per millisecond
inline constexpr double ramp_ms = 80;          // length of the ramp; > two frames at 30 fps
inline constexpr double flash_floor = 55;      // level after the ramp, until flash_seconds
inline constexpr double timed_min_level = 65;  // below this a level is not on the ramp

// The window's grey level (0..255) `ms` milliseconds after the flash's instant.
inline double flash_level(double ms) {
    if (ms < 0 || ms >= flash_seconds * 1000) return 0;
    if (ms < ramp_ms) return ramp_top - ramp_per_ms * ms;
    return flash_floor;
}

// The inverse on the ramp: milliseconds since the flash for a frame of grey `level`, or a
// negative value when the level is off the ramp (the frame came too late to tell).
inline double ms_since_flash(double level) {
    if (level < timed_min_level) return -1;
    return std::fmax(0.0, (ramp_top - level) / ramp_per_ms);
}

}  // namespace rec::sync
