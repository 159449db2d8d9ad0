#pragma once
// The shared-memory frame ring's layout: what a producer (frame_ring.hpp) writes and recd
// (ring_reader.hpp) reads. Header-only and self-contained (the standard library only), so that
// producers can include it without recd's other headers; installed as <recd/shm/ring_layout.hpp>.
//
// One POSIX shared-memory segment per ring, /dev/shm/recd-<uid>-<NAME>:
//
//   offset 0    RingHeader (256 bytes): geometry, producer pid, counters
//   offset 256  slot 0: SlotHeader (64 bytes), then one frame (frame_bytes), padded to 64 bytes
//               slot 1 ... slot capacity-1, each slot_bytes apart
//
// Frame n (n = 0, 1, 2, ...) goes into slot n % capacity: the producer never waits, and when
// the reader lags the oldest frame is overwritten (the reader counts what it missed from the
// frame numbers). Every slot is a seqlock: its `lock` is odd while the producer writes it, and
// the reader accepts a copy only if `lock` was even and unchanged across the copy.
// Integers are the machine's (little-endian on every platform recd runs on); the counters are
// 8-byte aligned and accessed atomically (std::atomic_ref).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rec::shm {

// "RECDRING" read as a little-endian integer.
inline constexpr uint64_t ring_magic = 0x474e495244434552ULL;
inline constexpr uint32_t ring_version = 1;

// Bounds recd accepts (and the producer refuses to exceed): larger than any camera or screen,
// small enough that no size computed from them overflows 64 bits (8192 * 8192 * 4 * 1024 is
// 2^38).
inline constexpr uint32_t max_side = 8192;
inline constexpr uint32_t max_capacity = 1024;
// A ring bigger than this is a mistake (a capacity meant for a smaller picture): 4 GiB is 16 s
// of 4K BGRA at 60 fps.
inline constexpr uint64_t max_segment_bytes = 4ULL << 30;

enum class PixelFormat : uint32_t {
    bgra = 1,   // packed B, G, R, A bytes (what X11 and most GPU readbacks give)
    rgb24 = 2,  // packed R, G, B bytes
    nv12 = 3,   // Y plane, then interleaved U/V plane at half resolution (cameras, decoders)
    i420 = 4,   // Y plane, U plane, V plane, both at half resolution (YUV 4:2:0 planar)
};

inline std::optional<PixelFormat> parse_pixel_format(std::string_view text) {
    if (text == "bgra") return PixelFormat::bgra;
    if (text == "rgb24") return PixelFormat::rgb24;
    if (text == "nv12") return PixelFormat::nv12;
    if (text == "i420" || text == "yuv420p") return PixelFormat::i420;
    return std::nullopt;
}

inline const char* to_string(PixelFormat format) {
    switch (format) {
        case PixelFormat::bgra:
            return "bgra";
        case PixelFormat::rgb24:
            return "rgb24";
        case PixelFormat::nv12:
            return "nv12";
        case PixelFormat::i420:
            return "i420";
    }
    return "unknown";
}

// Where each plane of one frame lies inside its slot's data: tightly packed, no row padding.
struct FrameLayout {
    uint32_t planes = 0;
    uint32_t offset[4] = {};
    uint32_t stride[4] = {};  // bytes per row
    uint32_t rows[4] = {};
    uint64_t frame_bytes = 0;
};

// The layout of a width x height frame, or nothing when the format is unknown or the size is
// not even and within 2..max_side (4:2:0 video needs even sizes; so does the encoder).
inline std::optional<FrameLayout> frame_layout(uint32_t format, uint32_t width, uint32_t height) {
    if (width < 2 || height < 2 || width > max_side || height > max_side || width % 2 || height % 2)
        return std::nullopt;
    FrameLayout l;
    const uint32_t w = width, h = height;
    switch (static_cast<PixelFormat>(format)) {
        case PixelFormat::bgra:
            l = {1, {0}, {w * 4}, {h}, uint64_t{w} * 4 * h};
            break;
        case PixelFormat::rgb24:
            l = {1, {0}, {w * 3}, {h}, uint64_t{w} * 3 * h};
            break;
        case PixelFormat::nv12:
            l = {2, {0, w * h}, {w, w}, {h, h / 2}, uint64_t{w} * h * 3 / 2};
            break;
        case PixelFormat::i420:
            l = {3,
                 {0, w * h, w * h + (w / 2) * (h / 2)},
                 {w, w / 2, w / 2},
                 {h, h / 2, h / 2},
                 uint64_t{w} * h * 3 / 2};
            break;
        default:
            return std::nullopt;
    }
    return l;
}

struct RingHeader {
    uint64_t magic;         // ring_magic, written last at creation (with state)
    uint32_t version;       // ring_version
    uint32_t header_bytes;  // sizeof(RingHeader)
    uint32_t width, height;
    uint32_t format;  // PixelFormat
    uint32_t capacity;
    uint32_t planes;  // FrameLayout, repeated for readers in other languages; recd recomputes
    uint32_t reserved0;
    uint32_t plane_offset[4];
    uint32_t plane_stride[4];
    uint64_t frame_bytes;
    uint64_t slot_bytes;     // distance between slots: SlotHeader + frame, rounded up to 64
    uint64_t slots_offset;   // where slot 0 starts: header_bytes
    uint64_t segment_bytes;  // the whole segment
    uint64_t instance;       // random per creation: tells a re-created ring from the old one
    int64_t producer_pid;
    uint32_t fps_num, fps_den;  // the producer's nominal rate; 0/0 when unknown. Informational
    // Atomics from here (std::atomic_ref): written by the producer while recd reads them.
    uint64_t state;         // RingState
    uint64_t write_seq;     // frames published: frame n is complete once write_seq > n
    uint64_t heartbeat_ns;  // steady clock of the producer's last write or heartbeat()
    uint8_t reserved[104];
};
static_assert(sizeof(RingHeader) == 256);
static_assert(offsetof(RingHeader, state) % 8 == 0 && offsetof(RingHeader, write_seq) % 8 == 0 &&
              offsetof(RingHeader, heartbeat_ns) % 8 == 0);

enum class RingState : uint64_t {
    creating = 0,  // the producer is still filling in the header (the segment starts zeroed)
    live = 1,
    closed = 2,  // the producer ended on purpose (FrameRing::close()): no frame will follow
};

struct SlotHeader {
    uint64_t lock;         // seqlock: odd while the producer writes this slot
    uint64_t frame_seq;    // which frame the slot holds
    int64_t timestamp_ns;  // the frame's instant on the steady clock (CLOCK_MONOTONIC)
    uint8_t reserved[40];
};
static_assert(sizeof(SlotHeader) == 64);

inline constexpr uint64_t round_up_64(uint64_t n) { return (n + 63) / 64 * 64; }

inline uint64_t slot_bytes_for(uint64_t frame_bytes) {
    return round_up_64(sizeof(SlotHeader) + frame_bytes);
}

// NAME: 1..64 of A-Z a-z 0-9 . _ -, not starting with '.' (the rule of session names).
inline bool valid_ring_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// The segment's name for ring NAME of user `uid`: one namespace per user, so another user's
// ring of the same name is never found (and theirs never read by this user's recd).
inline std::string segment_name(std::string_view name, unsigned uid) {
    return "recd-" + std::to_string(uid) + "-" + std::string(name);
}

}  // namespace rec::shm
