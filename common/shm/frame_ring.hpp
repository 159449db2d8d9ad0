#pragma once
// The producer's side of a shared-memory frame ring (layout: ring_layout.hpp): any program
// publishes frames here and `recctl start --source shm:NAME` records them. Header-only, no
// FFmpeg: the standard library, Boost.Interprocess and POSIX. Installed as
// <recd/shm/frame_ring.hpp>.
//
//   auto ring = rec::shm::FrameRing::create({"cam1", 640, 480, rec::shm::PixelFormat::bgra});
//   ring.write(pixels);                      // stamped now, on recd's clock
//   ring.write(pixels, capture_instant);     // or the producer's own steady-clock instant
//
// write() never blocks and never waits for recd: when recd lags, the oldest frame is
// overwritten, and recd counts it (status frames.overwritten). One producer per ring, one
// thread at a time per FrameRing; recd only reads (its mapping is read-only).
// A producer that stops writing for a while without ending should call heartbeat() at least
// every few seconds: recd takes a ring silent for 10 s whose producer it cannot see as gone.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "ring_layout.hpp"

namespace rec::shm {

// recd's clock (rec::Clock in common/clock.hpp): std::chrono::steady_clock, which is
// CLOCK_MONOTONIC on Linux, the same in every process. Frame timestamps must be on it.
using Clock = std::chrono::steady_clock;

inline Clock::time_point now() { return Clock::now(); }

inline int64_t to_ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct RingSpec {
    std::string name;                // 1..64 of A-Z a-z 0-9 . _ -, not starting with '.'
    uint32_t width = 0, height = 0;  // even, 2..8192
    PixelFormat format = PixelFormat::bgra;
    // Frames the ring holds: how long recd may lag before frames are overwritten. 8 is a quarter
    // of a second at 30 fps, which covers an encoder's keyframe or a busy moment.
    uint32_t capacity = 8;
    uint32_t fps = 0;  // nominal rate, shown by recd; 0 if unknown
};

class FrameRing {
public:
    // Creates ring `spec.name` for this user. A ring of that name left by a producer that is
    // gone (crashed, killed) is replaced; one whose producer is alive is not. Throws
    // std::runtime_error saying what is wrong.
    static FrameRing create(const RingSpec& spec) {
        if (!valid_ring_name(spec.name))
            throw std::runtime_error(
                "ring name must be 1..64 of A-Z a-z 0-9 . _ - and not start "
                "with '.', got \"" +
                spec.name + "\"");
        const auto layout =
            frame_layout(static_cast<uint32_t>(spec.format), spec.width, spec.height);
        if (!layout)
            throw std::runtime_error("frame size must be even, 2.." + std::to_string(max_side) +
                                     " on each side, got " + std::to_string(spec.width) + "x" +
                                     std::to_string(spec.height));
        if (spec.capacity < 1 || spec.capacity > max_capacity)
            throw std::runtime_error("capacity must be 1.." + std::to_string(max_capacity) +
                                     " frames, got " + std::to_string(spec.capacity));
        const uint64_t slot = slot_bytes_for(layout->frame_bytes);
        const uint64_t total = sizeof(RingHeader) + slot * spec.capacity;
        if (total > max_segment_bytes)
            throw std::runtime_error("a ring of " + std::to_string(spec.capacity) +
                                     " such frames needs " + std::to_string(total >> 20) +
                                     " MiB; at most " + std::to_string(max_segment_bytes >> 20) +
                                     " MiB: use a smaller capacity");
        const std::string segment = segment_name(spec.name, geteuid());
        remove_stale(segment, spec.name);
        return FrameRing(spec, *layout, segment, slot, total);
    }

    FrameRing(FrameRing&& other) noexcept
        : segment_(std::move(other.segment_)),
          region_(std::move(other.region_)),
          layout_(other.layout_),
          capacity_(other.capacity_),
          slot_bytes_(other.slot_bytes_),
          next_(other.next_),
          open_(std::exchange(other.open_, false)) {}
    FrameRing& operator=(FrameRing&&) = delete;
    FrameRing(const FrameRing&) = delete;
    FrameRing& operator=(const FrameRing&) = delete;
    ~FrameRing() { close(); }

    const FrameLayout& layout() const { return layout_; }
    size_t frame_bytes() const { return layout_.frame_bytes; }
    uint64_t frames_written() const { return next_; }

    // Publishes one frame of frame_bytes() bytes in layout(), taken at `time` (default: now).
    void write(const void* data, Clock::time_point time = now()) {
        std::memcpy(begin_frame(), data, layout_.frame_bytes);
        commit_frame(time);
    }

    // Zero-copy: draw straight into the slot returned (frame_bytes() bytes, layout()), then
    // commit_frame(). Until the commit recd skips this slot; no other call in between.
    uint8_t* begin_frame() {
        auto* slot = slot_at(next_);
        std::atomic_ref<uint64_t> lock(slot->lock);
        lock.store(lock.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // odd
        std::atomic_thread_fence(std::memory_order_release);
        return reinterpret_cast<uint8_t*>(slot) + sizeof(SlotHeader);
    }

    void commit_frame(Clock::time_point time = now()) {
        auto* slot = slot_at(next_);
        std::atomic_ref<uint64_t>(slot->frame_seq).store(next_, std::memory_order_relaxed);
        std::atomic_ref<int64_t>(slot->timestamp_ns).store(to_ns(time), std::memory_order_relaxed);
        std::atomic_ref<uint64_t> lock(slot->lock);
        lock.store(lock.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // even
        ++next_;
        std::atomic_ref<uint64_t>(header()->write_seq).store(next_, std::memory_order_release);
        heartbeat();
    }

    // Tells recd the producer is alive while it has no frame to give.
    void heartbeat() {
        std::atomic_ref<uint64_t>(header()->heartbeat_ns)
            .store(static_cast<uint64_t>(to_ns(now())), std::memory_order_relaxed);
    }

    // Ends the ring: recd finalizes its recording (the session stops, not fails) and the name
    // is free for the next producer. Also done by the destructor.
    void close() {
        if (!open_) return;
        open_ = false;
        std::atomic_ref<uint64_t>(header()->state)
            .store(static_cast<uint64_t>(RingState::closed), std::memory_order_release);
        boost::interprocess::shared_memory_object::remove(segment_.c_str());
    }

private:
    FrameRing(const RingSpec& spec, const FrameLayout& layout, const std::string& segment,
              uint64_t slot_bytes, uint64_t total)
        : segment_(segment), layout_(layout), capacity_(spec.capacity), slot_bytes_(slot_bytes) {
        namespace bip = boost::interprocess;
        bip::permissions owner_only;
        owner_only.set_permissions(0600);
        try {
            bip::shared_memory_object shm(bip::create_only, segment.c_str(), bip::read_write,
                                          owner_only);
            shm.truncate(static_cast<bip::offset_t>(total));  // zero-filled: state "creating"
            region_ = bip::mapped_region(shm, bip::read_write);
        } catch (const bip::interprocess_exception& e) {
            bip::shared_memory_object::remove(segment.c_str());
            throw std::runtime_error("cannot create ring \"" + spec.name + "\" (/dev/shm/" +
                                     segment + "): " + e.what());
        }
        open_ = true;
        fill_header(spec, total);
    }

    void fill_header(const RingSpec& spec, uint64_t total) {
        RingHeader* h = header();
        h->version = ring_version;
        h->header_bytes = sizeof(RingHeader);
        h->width = spec.width;
        h->height = spec.height;
        h->format = static_cast<uint32_t>(spec.format);
        h->capacity = spec.capacity;
        h->planes = layout_.planes;
        for (int i = 0; i < 4; ++i) {
            h->plane_offset[i] = layout_.offset[i];
            h->plane_stride[i] = layout_.stride[i];
        }
        h->frame_bytes = layout_.frame_bytes;
        h->slot_bytes = slot_bytes_;
        h->slots_offset = sizeof(RingHeader);
        h->segment_bytes = total;
        std::random_device random;
        h->instance = (uint64_t{random()} << 32) ^ random() ^ static_cast<uint64_t>(getpid());
        h->producer_pid = getpid();
        h->fps_num = spec.fps;
        h->fps_den = spec.fps ? 1 : 0;
        heartbeat();
        std::atomic_ref<uint64_t>(h->magic).store(ring_magic, std::memory_order_relaxed);
        std::atomic_ref<uint64_t>(h->state).store(static_cast<uint64_t>(RingState::live),
                                                  std::memory_order_release);
    }

    // A ring of that name already exists: replace it if its producer is gone or ended it,
    // refuse if it looks alive (two producers on one ring would interleave their frames).
    static void remove_stale(const std::string& segment, const std::string& name) {
        namespace bip = boost::interprocess;
        try {
            bip::shared_memory_object old(bip::open_only, segment.c_str(), bip::read_only);
            bip::offset_t size = 0;
            if (old.get_size(size) && size >= static_cast<bip::offset_t>(sizeof(RingHeader))) {
                bip::mapped_region view(old, bip::read_only, 0, sizeof(RingHeader));
                RingHeader h;
                std::memcpy(&h, view.get_address(), sizeof h);
                const bool alive =
                    h.magic == ring_magic && h.state == static_cast<uint64_t>(RingState::live) &&
                    h.producer_pid > 0 &&
                    (kill(static_cast<pid_t>(h.producer_pid), 0) == 0 || errno == EPERM);
                if (alive)
                    throw std::runtime_error("ring \"" + name + "\" is in use by process " +
                                             std::to_string(h.producer_pid));
            }
        } catch (const bip::interprocess_exception&) {
            return;  // no such ring (or unreadable: create_only then says why)
        }
        bip::shared_memory_object::remove(segment.c_str());
    }

    RingHeader* header() { return static_cast<RingHeader*>(region_.get_address()); }
    SlotHeader* slot_at(uint64_t seq) {
        return reinterpret_cast<SlotHeader*>(static_cast<uint8_t*>(region_.get_address()) +
                                             sizeof(RingHeader) + (seq % capacity_) * slot_bytes_);
    }

    std::string segment_;
    boost::interprocess::mapped_region region_;
    FrameLayout layout_;
    uint32_t capacity_;
    uint64_t slot_bytes_;
    uint64_t next_ = 0;  // the next frame's number
    bool open_ = false;
};

}  // namespace rec::shm
