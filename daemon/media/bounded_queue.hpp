#pragma once
// A bounded multi-producer queue between a capture thread and an encode thread.
// The producer never blocks: when the queue is full the overflow policy decides which item is
// lost, and the loss is counted (read by status from any thread). The consumer blocks in pop()
// until an item arrives or the queue is closed and empty. A producer that has a buffer of its
// own upstream (a shared-memory ring) may instead wait for room before taking the next item.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace rec {

enum class Overflow {
    drop_newest,  // keep what is queued, refuse the new item (video: the timeline repeats)
    drop_oldest,  // make room by discarding the oldest queued item
};

template <typename T>
class BoundedQueue {
public:
    BoundedQueue(size_t capacity, Overflow policy) : capacity_(capacity), policy_(policy) {}

    // Producer thread. Returns false if an item was lost (the new one or the oldest) or the
    // queue is closed.
    bool push(T item) {
        std::unique_lock lock(mutex_);
        if (closed_) return false;
        bool lost = false;
        if (items_.size() >= capacity_) {
            ++dropped_;
            lost = true;
            if (policy_ == Overflow::drop_newest) return false;
            items_.pop_front();
        }
        items_.push_back(std::move(item));
        lock.unlock();
        ready_.notify_one();
        return !lost;
    }

    // Consumer thread. Empty optional once closed and drained.
    std::optional<T> pop() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        lock.unlock();
        room_.notify_all();
        return item;
    }

    // Consumer thread: like pop(), but gives up after `timeout` (empty optional then too;
    // finished() tells the two apart).
    template <typename Rep, typename Period>
    std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mutex_);
        ready_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        lock.unlock();
        room_.notify_all();
        return item;
    }

    // Producer thread: true once a push would not overflow (or the queue is closed), false if
    // `timeout` passed first.
    template <typename Rep, typename Period>
    bool wait_for_room(std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mutex_);
        return room_.wait_for(lock, timeout, [&] { return closed_ || items_.size() < capacity_; });
    }

    // Closed and drained: pop() and pop_for() will never return an item again.
    bool finished() const {
        std::lock_guard lock(mutex_);
        return closed_ && items_.empty();
    }

    // Any thread: no more pushes; pop() returns what is left, then nothing.
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
        room_.notify_all();
    }

    // Any thread: drops everything queued (an abort that skips the drain).
    void clear() {
        {
            std::lock_guard lock(mutex_);
            items_.clear();
        }
        room_.notify_all();
    }

    uint64_t dropped() const { return dropped_.load(); }

private:
    const size_t capacity_;
    const Overflow policy_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable room_;  // wait_for_room()
    std::deque<T> items_;
    bool closed_ = false;
    std::atomic<uint64_t> dropped_{0};
};

}  // namespace rec
