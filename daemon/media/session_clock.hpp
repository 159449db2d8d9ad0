#pragma once
// A session's media time: where a capture instant falls in the file. Media time 0 is the epoch
// (set by the first video frame); paused spans are cut out, and nothing after the stop counts.
// Every stream of a session converts its capture times here, which is what keeps them aligned
// across pauses. Thread-safe: the io thread pauses and resumes, pipeline threads convert.
#include <mutex>
#include <optional>
#include <vector>

#include "../../common/clock.hpp"

namespace rec {

class SessionClock {
public:
    // venc thread, first frame: the instant media time 0 stands for. Later calls are ignored.
    void set_epoch(TimePoint epoch);
    bool has_epoch() const;

    // io thread. pause() while paused and resume() while running do nothing; return whether
    // they changed anything.
    bool pause(TimePoint now);
    bool resume(TimePoint now);
    bool paused() const;
    // Any thread, once: no instant after `now` belongs to the recording.
    void stop(TimePoint now);

    // Media time of capture instant `t`; nothing if it is before the epoch, inside a pause or
    // after the stop.
    std::optional<Seconds> media_time(TimePoint t) const;
    // The first stretch of [from, to) that belongs to the recording (it starts at or after the
    // epoch, after a pause that has ended, and ends at a pause or the stop), with its start's
    // media time and the run of the recording it is in; nothing if none of it does. An audio
    // chunk keeps just that part, cut to the sample.
    struct Stretch {
        TimePoint begin, end;
        Seconds media;
        size_t run = 0;  // 0 before the first pause, n after the nth resume
    };
    std::optional<Stretch> recorded(TimePoint from, TimePoint to) const;
    // The media time the recording ends at, once stopped and the epoch is known.
    std::optional<Seconds> end() const;

private:
    struct Pause {
        TimePoint begin;
        std::optional<TimePoint> end;  // open while paused
    };

    // With mutex_ held: the pause containing `t`, if any; the paused time that ended by `t`.
    const Pause* pause_at(TimePoint t) const;
    Clock::duration paused_before(TimePoint t) const;

    mutable std::mutex mutex_;
    std::optional<TimePoint> epoch_;
    std::optional<TimePoint> stop_;
    std::vector<Pause> pauses_;
};

}  // namespace rec
