#pragma once
// Holds one audio track to the session's media time. Used by that track's aenc thread only.
//
// Each chunk arrives with the media time of its first sample (from the device's read time minus
// its latency); the track's output position says where that sample would land in the file. The
// difference is the track's offset from the picture:
//   - more than max_step (50 ms) behind: a gap (suspended source, server stall) -> silence;
//   - more than max_step ahead: an overlap -> the chunk's first samples are dropped;
//   - otherwise it is drift of the device clock against the steady clock, corrected smoothly by
//     stretching or squeezing the resampling by at most max_correction: the fitted clock's rate
//     fed forward, plus a proportional pull towards the fitted position.
// Read times jitter by milliseconds (scheduling, latency interpolation). The controller does
// not steer on them: it steers on the device clock fitted to them, a least-squares line of
// read time against samples delivered (forgetting over ~30 s), which is smooth yet follows a
// real clock's drift.
#include <cstdint>

namespace rec {

class AudioTimeline {
public:
    explicit AudioTimeline(int rate) : rate_(rate) {}

    struct Placement {
        int64_t silence = 0;  // output frames of silence to write before the chunk
        int64_t skip = 0;     // frames to drop from the chunk's front
        // Output frames to add (+) or remove (-) while resampling this chunk.
        int compensation = 0;
    };

    // `start`: media time (s) of the chunk's first sample; `frames`: its length; `position`:
    // output frames already written, including what the resampler holds.
    Placement place(double start, int64_t frames, double position);

    // Forget the offset history: the next chunk is aligned exactly (a new device or stream).
    void reset() { aligned_ = false; }

    // The device clock: start times fitted against samples delivered since the last alignment.
    // Each chunk weighs its length in seconds and the fit forgets by time, not by chunk count:
    // sources deliver anything from 5 ms (a pipe source) to 20 ms fragments.
    class ClockFit {
    public:
        void reset() { *this = ClockFit{}; }
        // `delivered`: seconds of samples delivered before the chunk; `start`: its read time;
        // `length`: its seconds of samples.
        void add(double delivered, double start, double length);
        double at(double delivered) const;  // the fitted start time
        double slope() const;               // fitted read seconds per second of samples delivered
        bool ready() const { return weight_ > 0.5; }  // 0.5 s of samples

    private:
        double weight_ = 0, x_ = 0, y_ = 0, xx_ = 0, xy_ = 0;  // decayed sums
    };

    double offset_ms() const { return smoothed_ / rate_ * 1000; }  // + means audio late
    double correction_ppm() const { return correction_ / rate_ * 1e6; }
    int64_t silence_frames() const { return silence_total_; }

private:
    const int rate_;
    bool aligned_ = false;
    ClockFit fit_;
    int64_t delivered_ = 0;  // input frames since the last alignment
    double smoothed_ = 0;    // offset in frames from the fitted clock
    double correction_ = 0;  // frames per second being added (+) or removed (-)
    double carry_ = 0;       // fraction of a frame of correction not yet applied
    int64_t silence_total_ = 0;
};

}  // namespace rec
