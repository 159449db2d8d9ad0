#pragma once
// recd's side of a shared-memory frame ring (layout: ring_layout.hpp): opens a producer's ring
// read-only, checks every header field against the segment before using any, and copies frames
// out under the slots' seqlocks. A producer is another program, so nothing it writes is
// trusted: the geometry is read once, validated and kept (later changes to the header are
// ignored), every offset is computed by recd from that geometry, a torn or overwritten frame is
// skipped and counted, and a segment truncated under recd fails the read (bus_guard.hpp).
// Used by one thread at a time (daemon/capture/shm_source.cpp: the session's vcap thread).
#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ring_layout.hpp"

namespace rec::shm {

// What recd knows about a ring, from its validated header.
struct RingGeometry {
    uint32_t width = 0, height = 0;
    PixelFormat format = PixelFormat::bgra;
    uint32_t capacity = 0;
    FrameLayout layout;
    uint64_t slot_bytes = 0;
    uint64_t segment_bytes = 0;
    uint64_t instance = 0;
    int64_t producer_pid = 0;
    uint32_t fps_num = 0, fps_den = 0;
};

// Checks a copy of a ring's header against the size of its segment: empty when it describes a
// ring recd can read without leaving the segment, else what is wrong and what is allowed. Fills
// `out` when it is good. The state field is not looked at (open() does).
std::string validate_header(const RingHeader& header, uint64_t segment_size, RingGeometry& out);

enum class OpenStatus {
    ok,
    missing,    // no ring of that name
    not_ready,  // its producer is still creating it
    gone,       // its producer ended it or died: a leftover, not a ring to record
    invalid,    // not a ring recd can read (the reason says why)
};

enum class ReadStatus {
    frame,   // a whole frame was copied
    none,    // no frame published since the last one read
    broken,  // the ring is no longer readable (error() says why)
};

struct ProducerState {
    RingState state = RingState::creating;
    uint64_t written = 0;      // frames the producer published
    int64_t heartbeat_ns = 0;  // steady clock
    bool readable = false;     // false: the segment shrank under recd
};

class RingReader {
public:
    struct Opened {
        OpenStatus status = OpenStatus::missing;
        std::string why;  // for every status but ok
        std::unique_ptr<RingReader> reader;
    };
    // Opens ring `name` of this user read-only.
    static Opened open(std::string_view name);

    const RingGeometry& geometry() const { return geometry_; }

    struct Frame {
        ReadStatus status = ReadStatus::none;
        uint64_t seq = 0;
        int64_t timestamp_ns = 0;  // as the producer stamped it; not checked here
    };
    // Copies the oldest frame not yet read (geometry().layout.frame_bytes bytes) into `out`.
    // Frames the producer overwrote before they could be read are skipped and counted.
    Frame read(uint8_t* out);
    // From now on, only frames published after this call are read.
    void skip_to_newest();
    // Frames lost because the producer overwrote them before they were read.
    uint64_t overwritten() const { return overwritten_; }
    ProducerState producer() const;
    const std::string& error() const { return error_; }

private:
    RingReader(boost::interprocess::shared_memory_object shm, const RingGeometry& geometry);

    boost::interprocess::shared_memory_object shm_;
    boost::interprocess::mapped_region region_;
    RingGeometry geometry_;
    uint64_t next_ = 0;  // the next frame to read
    uint64_t overwritten_ = 0;
    std::string error_;
};

}  // namespace rec::shm
