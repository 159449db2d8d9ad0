#include "session_clock.hpp"

#include <algorithm>

namespace rec {

void SessionClock::set_epoch(TimePoint epoch) {
    std::lock_guard lock(mutex_);
    if (!epoch_) epoch_ = epoch;
}

bool SessionClock::has_epoch() const {
    std::lock_guard lock(mutex_);
    return epoch_.has_value();
}

bool SessionClock::pause(TimePoint now) {
    std::lock_guard lock(mutex_);
    if (!pauses_.empty() && !pauses_.back().end) return false;
    pauses_.push_back({now, std::nullopt});
    return true;
}

bool SessionClock::resume(TimePoint now) {
    std::lock_guard lock(mutex_);
    if (pauses_.empty() || pauses_.back().end) return false;
    pauses_.back().end = now;
    return true;
}

bool SessionClock::paused() const {
    std::lock_guard lock(mutex_);
    return !pauses_.empty() && !pauses_.back().end;
}

void SessionClock::stop(TimePoint now) {
    std::lock_guard lock(mutex_);
    if (!stop_) stop_ = now;
}

std::optional<Seconds> SessionClock::media_time(TimePoint t) const {
    std::lock_guard lock(mutex_);
    if (!epoch_ || t < *epoch_ || (stop_ && t > *stop_) || pause_at(t)) return std::nullopt;
    return Seconds(t - *epoch_ - paused_before(t));
}

std::optional<SessionClock::Stretch> SessionClock::recorded(TimePoint from, TimePoint to) const {
    std::lock_guard lock(mutex_);
    if (!epoch_) return std::nullopt;
    TimePoint begin = std::max(from, *epoch_);
    while (const Pause* pause = pause_at(begin)) {
        if (!pause->end) return std::nullopt;
        begin = *pause->end;
    }
    TimePoint end = stop_ ? std::min(to, *stop_) : to;
    size_t run = 0;
    for (const auto& p : pauses_) {
        if (p.begin > begin) end = std::min(end, p.begin);
        if (p.end && *p.end <= begin) ++run;
    }
    if (begin >= end) return std::nullopt;
    return Stretch{begin, end, Seconds(begin - *epoch_ - paused_before(begin)), run};
}

std::optional<Seconds> SessionClock::end() const {
    std::lock_guard lock(mutex_);
    if (!stop_ || !epoch_) return std::nullopt;
    // A stop while paused ends the recording where the pause began.
    const auto* pause = pause_at(*stop_);
    const TimePoint t = std::max(*epoch_, pause ? pause->begin : *stop_);
    return Seconds(t - *epoch_ - paused_before(t));
}

const SessionClock::Pause* SessionClock::pause_at(TimePoint t) const {
    for (const auto& p : pauses_)
        if (p.begin <= t && (!p.end || t < *p.end)) return &p;
    return nullptr;
}

Clock::duration SessionClock::paused_before(TimePoint t) const {
    Clock::duration total{0};
    for (const auto& p : pauses_)
        if (p.end && *p.end <= t && *p.end > *epoch_) total += *p.end - std::max(p.begin, *epoch_);
    return total;
}

}  // namespace rec
