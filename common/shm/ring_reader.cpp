#include "ring_reader.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "bus_guard.hpp"

namespace rec::shm {
namespace {

namespace bip = boost::interprocess;

template <typename T>
T load(const T& field, std::memory_order order = std::memory_order_acquire) {
    // The mapping is read-only; an 8-byte atomic load only reads (a plain mov on x86-64).
    return std::atomic_ref<T>(const_cast<T&>(field)).load(order);
}

// One attempt to copy frame `next` out of the ring: the plain-memory part of
// RingReader::read(), run under run_guarded() (no allocation, nothing with a destructor).
struct ReadJob {
    // in
    const uint8_t* base;
    const RingGeometry* geometry;
    uint8_t* out;
    // in and out
    uint64_t next;
    // out
    ReadStatus status;
    uint64_t overwritten;
    uint64_t seq;
    int64_t timestamp_ns;
    const char* broken;  // a static text when status is broken
    uint64_t seen_write_seq;
};

// The producer may be writing any slot at any moment. A frame is taken only if its slot's lock
// was even before the copy and unchanged after it (the seqlock); otherwise the slot was being
// rewritten with a newer frame, so the one wanted is gone: counted, and the next one tried.
// Each pass either returns or moves past one frame, and at most capacity + 2 passes are made:
// a producer writing faster than recd can copy leaves the rest for the next call.
void read_job(void* arg) {
    auto& job = *static_cast<ReadJob*>(arg);
    const RingGeometry& g = *job.geometry;
    const auto* header = reinterpret_cast<const RingHeader*>(job.base);
    job.status = ReadStatus::none;
    for (uint32_t pass = 0; pass < g.capacity + 2; ++pass) {
        const uint64_t written = load(header->write_seq);
        job.seen_write_seq = written;
        if (written < job.next) {
            job.status = ReadStatus::broken;
            job.broken = "its frame counter went backwards";
            return;
        }
        if (written == job.next) return;
        if (written - job.next > g.capacity) {  // already overwritten, unread
            job.overwritten += written - g.capacity - job.next;
            job.next = written - g.capacity;
        }
        const auto* slot = reinterpret_cast<const SlotHeader*>(
            job.base + sizeof(RingHeader) + (job.next % g.capacity) * g.slot_bytes);
        const uint64_t before = load(slot->lock);
        if (before % 2 == 0) {
            const uint64_t seq = load(slot->frame_seq, std::memory_order_relaxed);
            const int64_t timestamp = load(slot->timestamp_ns, std::memory_order_relaxed);
            std::memcpy(job.out, reinterpret_cast<const uint8_t*>(slot) + sizeof(SlotHeader),
                        g.layout.frame_bytes);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (load(slot->lock, std::memory_order_relaxed) == before) {
                if (seq == job.next) {
                    job.status = ReadStatus::frame;
                    job.seq = seq;
                    job.timestamp_ns = timestamp;
                    ++job.next;
                    return;
                }
                // An honest producer fills a slot before it publishes the frame, so the slot
                // holds that frame or a later one of the same slot.
                if (seq < job.next || (seq - job.next) % g.capacity != 0) {
                    job.status = ReadStatus::broken;
                    job.broken = "a slot holds a frame other than the one published there";
                    return;
                }
            }
        }
        ++job.overwritten;  // being rewritten, torn, or already replaced by a newer frame
        ++job.next;
    }
}

struct ProducerJob {
    const RingHeader* header;
    ProducerState state;
};

void producer_job(void* arg) {
    auto& job = *static_cast<ProducerJob*>(arg);
    job.state.state = static_cast<RingState>(load(job.header->state));
    job.state.written = load(job.header->write_seq);
    job.state.heartbeat_ns =
        static_cast<int64_t>(load(job.header->heartbeat_ns, std::memory_order_relaxed));
    job.state.readable = true;
}

struct CopyJob {
    void* to;
    const void* from;
    size_t bytes;
};

void copy_job(void* arg) {
    auto& job = *static_cast<CopyJob*>(arg);
    std::memcpy(job.to, job.from, job.bytes);
}

std::string check_size(uint64_t segment_size, const RingHeader& h, const FrameLayout& layout,
                       uint64_t slot_bytes) {
    if (h.frame_bytes != layout.frame_bytes)
        return fmt::format("frame_bytes is {}; a {}x{} {} frame is {} bytes", h.frame_bytes,
                           h.width, h.height, to_string(static_cast<PixelFormat>(h.format)),
                           layout.frame_bytes);
    if (h.slot_bytes != slot_bytes)
        return fmt::format("slot_bytes is {}; slots of {}-byte frames are {} bytes", h.slot_bytes,
                           layout.frame_bytes, slot_bytes);
    if (h.slots_offset != sizeof(RingHeader))
        return fmt::format("slots_offset is {}; slots start at {}", h.slots_offset,
                           sizeof(RingHeader));
    const uint64_t total = sizeof(RingHeader) + slot_bytes * h.capacity;  // < 2^49: no overflow
    if (total > max_segment_bytes)
        return fmt::format("the ring would take {} MiB; at most {} MiB", total >> 20,
                           max_segment_bytes >> 20);
    if (h.segment_bytes != total)
        return fmt::format("segment_bytes is {}; {} slots of {} bytes after the header make {}",
                           h.segment_bytes, h.capacity, slot_bytes, total);
    if (segment_size < total)
        return fmt::format("the segment is {} bytes, smaller than the {} its header describes",
                           segment_size, total);
    return {};
}

}  // namespace

std::string validate_header(const RingHeader& h, uint64_t segment_size, RingGeometry& out) {
    if (segment_size < sizeof(RingHeader))
        return fmt::format("the segment is {} bytes, smaller than a ring header ({} bytes)",
                           segment_size, sizeof(RingHeader));
    if (h.magic != ring_magic)
        return fmt::format("not a recd frame ring (magic {:#018x}, expected {:#018x})", h.magic,
                           ring_magic);
    if (h.version != ring_version)
        return fmt::format("ring layout version {}; this recd reads version {}", h.version,
                           ring_version);
    if (h.header_bytes != sizeof(RingHeader))
        return fmt::format("header_bytes is {}; version {} headers are {} bytes", h.header_bytes,
                           ring_version, sizeof(RingHeader));
    if (h.format < 1 || h.format > 4)
        return fmt::format(
            "pixel format {} is unknown; allowed: 1 (bgra), 2 (rgb24), 3 (nv12), "
            "4 (i420)",
            h.format);
    const auto layout = frame_layout(h.format, h.width, h.height);
    if (!layout)
        return fmt::format("frame size {}x{}: width and height must be even, 2..{}", h.width,
                           h.height, max_side);
    if (h.capacity < 1 || h.capacity > max_capacity)
        return fmt::format("capacity {}: must be 1..{} frames", h.capacity, max_capacity);
    if (h.planes != layout->planes)
        return fmt::format("{} planes; {} has {}", h.planes,
                           to_string(static_cast<PixelFormat>(h.format)), layout->planes);
    for (uint32_t i = 0; i < layout->planes; ++i)
        if (h.plane_offset[i] != layout->offset[i] || h.plane_stride[i] != layout->stride[i])
            return fmt::format(
                "plane {} at offset {} with {} bytes per row; a packed {}x{} {} "
                "frame has it at {} with {}",
                i, h.plane_offset[i], h.plane_stride[i], h.width, h.height,
                to_string(static_cast<PixelFormat>(h.format)), layout->offset[i],
                layout->stride[i]);
    const uint64_t slot_bytes = slot_bytes_for(layout->frame_bytes);
    if (auto why = check_size(segment_size, h, *layout, slot_bytes); !why.empty()) return why;
    out = RingGeometry{h.width,         h.height,   static_cast<PixelFormat>(h.format),
                       h.capacity,      *layout,    slot_bytes,
                       h.segment_bytes, h.instance, h.producer_pid,
                       h.fps_num,       h.fps_den};
    return {};
}

RingReader::Opened RingReader::open(std::string_view name) {
    if (!valid_ring_name(name))
        return {OpenStatus::invalid,
                fmt::format("ring name must be 1..64 of A-Z a-z 0-9 . _ - and not start with "
                            "'.', got \"{}\"",
                            name),
                nullptr};
    const std::string segment = segment_name(name, geteuid());
    bip::shared_memory_object shm;
    try {
        shm = bip::shared_memory_object(bip::open_only, segment.c_str(), bip::read_only);
    } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::not_found_error)
            return {OpenStatus::missing,
                    fmt::format("no ring \"{}\" (/dev/shm/{}): is its producer running?", name,
                                segment),
                    nullptr};
        return {OpenStatus::invalid, fmt::format("cannot open /dev/shm/{}: {}", segment, e.what()),
                nullptr};
    }
    struct stat st {};
    if (fstat(shm.get_mapping_handle().handle, &st) != 0)
        return {OpenStatus::invalid, fmt::format("cannot stat /dev/shm/{}", segment), nullptr};
    if (st.st_uid != geteuid())
        return {OpenStatus::invalid,
                fmt::format("/dev/shm/{} belongs to uid {}, not to recd's user ({})", segment,
                            st.st_uid, geteuid()),
                nullptr};
    if (st.st_mode & 022)
        return {OpenStatus::invalid,
                fmt::format("/dev/shm/{} is writable by other users (mode {:o}); a ring must be "
                            "its owner's only (0600)",
                            segment, st.st_mode & 0777),
                nullptr};
    const auto size = static_cast<uint64_t>(st.st_size);
    const std::string creating =
        fmt::format("ring \"{}\": its producer is still creating it", name);
    if (size == 0) return {OpenStatus::not_ready, creating, nullptr};
    // The header is copied once and everything is decided on the copy: a producer that changes
    // it afterwards changes nothing recd uses.
    RingHeader header{};
    if (size >= sizeof(RingHeader)) {
        bip::mapped_region view(shm, bip::read_only, 0, sizeof(RingHeader));
        CopyJob copy{&header, view.get_address(), sizeof header};
        if (!run_guarded(&copy_job, &copy)) return {OpenStatus::not_ready, creating, nullptr};
        if (header.magic == 0) return {OpenStatus::not_ready, creating, nullptr};  // written last
    }
    RingGeometry geometry;
    if (auto why = validate_header(header, size, geometry); !why.empty())
        return {OpenStatus::invalid, fmt::format("ring \"{}\" is malformed: {}", name, why),
                nullptr};
    if (header.state == static_cast<uint64_t>(RingState::closed))
        return {OpenStatus::gone, fmt::format("ring \"{}\" was ended by its producer", name),
                nullptr};
    if (header.state != static_cast<uint64_t>(RingState::live))
        return {OpenStatus::not_ready, creating, nullptr};
    std::unique_ptr<RingReader> reader(new RingReader(std::move(shm), geometry));
    return {OpenStatus::ok, {}, std::move(reader)};
}

RingReader::RingReader(bip::shared_memory_object shm, const RingGeometry& geometry)
    : shm_(std::move(shm)),
      region_(shm_, bip::read_only, 0, geometry.segment_bytes),
      geometry_(geometry) {}

RingReader::Frame RingReader::read(uint8_t* out) {
    if (!error_.empty()) return {ReadStatus::broken};
    ReadJob job{};
    job.base = static_cast<const uint8_t*>(region_.get_address());
    job.geometry = &geometry_;
    job.out = out;
    job.next = next_;
    if (!run_guarded(&read_job, &job)) {
        error_ = "its segment shrank under recd (truncated by its producer?)";
        return {ReadStatus::broken};
    }
    next_ = job.next;
    overwritten_ += job.overwritten;
    if (job.status == ReadStatus::broken) {
        error_ = job.broken;
        return {ReadStatus::broken};
    }
    return {job.status, job.seq, job.timestamp_ns};
}

void RingReader::skip_to_newest() {
    const ProducerState p = producer();
    if (p.readable) next_ = p.written;
}

ProducerState RingReader::producer() const {
    ProducerJob job{static_cast<const RingHeader*>(region_.get_address()), {}};
    if (!run_guarded(&producer_job, &job)) return {};
    return job.state;
}

}  // namespace rec::shm
