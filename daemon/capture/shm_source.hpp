#pragma once
// Records another program's frames: a shared-memory frame ring (common/shm/) that a producer
// (a camera grabber, a simulator, recd-shm-push) writes and recd reads. The producer sets the
// pace: grab() waits for its next frame and stamps it with the producer's own timestamp, so
// the file's timeline is the producer's. Nothing the producer writes is trusted (RingReader).
//
// The producer's life: it may start after the session (wait), end the ring on purpose (the
// session stops: GrabStatus::ended), or vanish (killed, crashed: its pid is gone and it wrote
// nothing for a second, or it wrote nothing at all for 10 s): the session then fails with
// SOURCE_LOST, or with `wait` waits for a producer to create the ring again and records on.
//
// Threads: built on a worker thread; wait_ready() and grab() on the session's vcap thread;
// interrupt() and describe() on any thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "../../common/shm/ring_reader.hpp"
#include "screen_source.hpp"

namespace rec {

struct ShmTarget {
    std::string name;   // the ring's name (valid_ring_name)
    bool wait = false;  // the producer may be absent: at the start, and after it goes away
};

class ShmSource final : public ScreenSource {
public:
    // Opens the ring. Throws rec::Error(SOURCE_UNAVAILABLE): no such ring or its producer is
    // gone (unless `wait`), or it is malformed (always; the message says which field is wrong).
    explicit ShmSource(ShmTarget target);

    ipc::Region region() const override;
    AVPixelFormat pixel_format() const override;
    GrabStatus grab(VideoFrame& out) override;
    std::string error() const override;
    void interrupt() override;
    bool ready() const override;
    GrabStatus wait_ready() override;
    bool self_paced() const override { return true; }
    ErrorCode lost_code() const override { return ErrorCode::source_lost; }
    void describe(ipc::Json& status) const override;

private:
    enum class Producer { waiting, live, closed, lost };
    enum class Attach { attached, absent, invalid };

    Attach try_attach();
    GrabStatus wait_for_ring();
    GrabStatus read_frame(VideoFrame& out, bool& got);
    TimePoint stamp(int64_t timestamp_ns);
    GrabStatus check_producer();
    GrabStatus producer_left(Producer how, const std::string& why);
    GrabStatus lose(Producer state);
    bool sleep_for(std::chrono::milliseconds time);
    void set_producer(Producer state);

    const ShmTarget target_;
    // vcap thread (the constructor before it): the ring being read, null while waiting for a
    // producer.
    std::unique_ptr<shm::RingReader> reader_;
    BufferPoolPtr pool_;
    size_t pool_bytes_ = 0;
    TimePoint attached_at_{};  // when reader_ was opened
    TimePoint last_check_{};   // when the producer's liveness was last checked

    mutable std::mutex mutex_;  // guards what other threads read, below
    std::condition_variable wake_;
    // Fixed by the first ring (the encoder converts from it): written by the vcap thread, read
    // by the venc thread too (a new encoder after a failure). Unlocked reads on the vcap thread.
    std::optional<shm::PixelFormat> format_;
    bool interrupted_ = false;
    Producer producer_ = Producer::waiting;
    shm::RingGeometry geometry_;
    std::string error_;
    std::atomic<uint64_t> overwritten_before_{0};  // by rings read before the current one
    std::atomic<uint64_t> overwritten_{0};         // in total, updated after every read
    std::atomic<uint64_t> restamped_{0};           // impossible timestamps replaced
};

}  // namespace rec
