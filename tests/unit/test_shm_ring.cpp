// The shared-memory frame ring (common/shm/): the producer's FrameRing and recd's RingReader
// through real POSIX shared memory: frames and timestamps read back in order, overwrites
// counted, torn frames never returned, and hostile headers and segments refused with a reason.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/shm/frame_ring.hpp"
#include "common/shm/ring_reader.hpp"

using namespace rec::shm;
using namespace std::chrono_literals;

namespace {

// Unique per process and call: ctest runs test cases in parallel processes.
std::string unique_name(const std::string& tag) {
    static int n = 0;
    return "unit-" + std::to_string(getpid()) + "-" + tag + "-" + std::to_string(n++);
}

RingSpec spec(const std::string& tag, uint32_t capacity = 4, uint32_t width = 64,
              uint32_t height = 48, PixelFormat format = PixelFormat::bgra) {
    return {unique_name(tag), width, height, format, capacity, 30};
}

std::unique_ptr<RingReader> open_reader(const std::string& name) {
    auto opened = RingReader::open(name);
    INFO(opened.why);
    REQUIRE(opened.status == OpenStatus::ok);
    return std::move(opened.reader);
}

// A frame filled with one byte value, so a torn copy (two frames mixed) shows.
std::vector<uint8_t> filled(const FrameRing& ring, uint8_t value) {
    return std::vector<uint8_t>(ring.frame_bytes(), value);
}

bool uniform(const std::vector<uint8_t>& frame, uint8_t value) {
    for (uint8_t b : frame)
        if (b != value) return false;
    return true;
}

// A segment made by hand (as a hostile or broken producer would), removed at the end.
class Segment {
public:
    Segment(const std::string& name, size_t bytes, mode_t mode = 0600)
        : name_(segment_name(name, geteuid())), bytes_(bytes) {
        const int fd = shm_open(("/" + name_).c_str(), O_CREAT | O_EXCL | O_RDWR, mode);
        REQUIRE(fd >= 0);
        REQUIRE(fchmod(fd, mode) == 0);
        REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
        data_ =
            static_cast<uint8_t*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        close(fd);
        REQUIRE(data_ != MAP_FAILED);
    }
    ~Segment() {
        munmap(data_, bytes_);
        shm_unlink(("/" + name_).c_str());
    }
    RingHeader& header() { return *reinterpret_cast<RingHeader*>(data_); }

private:
    std::string name_;
    size_t bytes_;
    uint8_t* data_;
};

// The header a correct producer writes for a width x height ring of `capacity` frames.
RingHeader good_header(uint32_t width = 64, uint32_t height = 48,
                       PixelFormat format = PixelFormat::i420, uint32_t capacity = 4) {
    const auto layout = *frame_layout(static_cast<uint32_t>(format), width, height);
    RingHeader h{};
    h.magic = ring_magic;
    h.version = ring_version;
    h.header_bytes = sizeof(RingHeader);
    h.width = width;
    h.height = height;
    h.format = static_cast<uint32_t>(format);
    h.capacity = capacity;
    h.planes = layout.planes;
    for (int i = 0; i < 4; ++i) {
        h.plane_offset[i] = layout.offset[i];
        h.plane_stride[i] = layout.stride[i];
    }
    h.frame_bytes = layout.frame_bytes;
    h.slot_bytes = slot_bytes_for(layout.frame_bytes);
    h.slots_offset = sizeof(RingHeader);
    h.segment_bytes = sizeof(RingHeader) + h.slot_bytes * capacity;
    h.producer_pid = getpid();
    h.state = static_cast<uint64_t>(RingState::live);
    return h;
}

}  // namespace

TEST_CASE("shm ring: frames are read back in order with their timestamps", "[shm]") {
    const auto s = spec("order");
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    CHECK(reader->geometry().width == 64);
    CHECK(reader->geometry().format == PixelFormat::bgra);
    const auto t0 = now();
    for (int k = 0; k < 3; ++k) ring.write(filled(ring, uint8_t(10 + k)).data(), t0 + k * 33ms);
    std::vector<uint8_t> out(ring.frame_bytes());
    for (int k = 0; k < 3; ++k) {
        const auto frame = reader->read(out.data());
        REQUIRE(frame.status == ReadStatus::frame);
        CHECK(frame.seq == uint64_t(k));
        CHECK(frame.timestamp_ns == to_ns(t0 + k * 33ms));
        CHECK(uniform(out, uint8_t(10 + k)));
    }
    CHECK(reader->read(out.data()).status == ReadStatus::none);
    CHECK(reader->overwritten() == 0);
    const auto producer = reader->producer();
    CHECK(producer.readable);
    CHECK(producer.written == 3);
    CHECK(producer.state == RingState::live);
}

TEST_CASE("shm ring: a reader that lags loses the oldest frames and counts them", "[shm]") {
    const auto s = spec("lag", 4);
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    for (int k = 0; k < 10; ++k) ring.write(filled(ring, uint8_t(k)).data());
    std::vector<uint8_t> out(ring.frame_bytes());
    for (int k = 6; k < 10; ++k) {  // the ring holds the newest 4
        const auto frame = reader->read(out.data());
        REQUIRE(frame.status == ReadStatus::frame);
        CHECK(frame.seq == uint64_t(k));
        CHECK(uniform(out, uint8_t(k)));
    }
    CHECK(reader->overwritten() == 6);
    CHECK(reader->read(out.data()).status == ReadStatus::none);
}

TEST_CASE("shm ring: skip_to_newest reads only what is published afterwards", "[shm]") {
    const auto s = spec("newest");
    auto ring = FrameRing::create(s);
    for (int k = 0; k < 3; ++k) ring.write(filled(ring, uint8_t(k)).data());
    auto reader = open_reader(s.name);
    reader->skip_to_newest();
    std::vector<uint8_t> out(ring.frame_bytes());
    CHECK(reader->read(out.data()).status == ReadStatus::none);
    ring.write(filled(ring, 7).data());
    CHECK(reader->read(out.data()).seq == 3);
    CHECK(reader->overwritten() == 0);
}

TEST_CASE(
    "shm ring: a frame whose slot is being rewritten is skipped and counted, never "
    "returned half-written",
    "[shm]") {
    const auto s = spec("torn", 4);
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    for (int k = 0; k < 4; ++k) ring.write(filled(ring, uint8_t(k)).data());
    // Frame 4 goes into frame 0's slot: half of it written when the reader comes.
    uint8_t* slot = ring.begin_frame();
    std::memset(slot, 4, ring.frame_bytes() / 2);
    std::vector<uint8_t> out(ring.frame_bytes());
    auto frame = reader->read(out.data());
    REQUIRE(frame.status == ReadStatus::frame);
    CHECK(frame.seq == 1);  // frame 0 is gone: its slot holds half of frame 4
    CHECK(uniform(out, 1));
    CHECK(reader->overwritten() == 1);
    for (int k = 2; k < 4; ++k) CHECK(reader->read(out.data()).seq == uint64_t(k));
    CHECK(reader->read(out.data()).status == ReadStatus::none);  // 4 is not committed yet
    std::memset(slot, 4, ring.frame_bytes());
    ring.commit_frame();
    frame = reader->read(out.data());
    CHECK(frame.seq == 4);
    CHECK(uniform(out, 4));
}

TEST_CASE("shm ring: under a producer writing flat out, every frame read is whole and in order",
          "[shm]") {
    // Big frames and two slots: the producer rewrites the slot being copied all the time.
    const auto s = spec("race", 2, 1280, 720);
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    std::atomic<bool> done{false};
    std::thread producer([&] {
        std::vector<uint8_t> frame(ring.frame_bytes());
        for (uint64_t k = 0; !done; ++k) {
            std::memset(frame.data(), int(k & 0xff), frame.size());
            ring.write(frame.data());
        }
    });
    std::vector<uint8_t> out(ring.frame_bytes());
    uint64_t read = 0, last = 0, torn = 0;
    const auto until = std::chrono::steady_clock::now() + 500ms;
    while (std::chrono::steady_clock::now() < until) {
        const auto frame = reader->read(out.data());
        REQUIRE(frame.status != ReadStatus::broken);
        if (frame.status != ReadStatus::frame) continue;
        if (!uniform(out, uint8_t(frame.seq & 0xff))) ++torn;
        if (read) CHECK(frame.seq > last);
        last = frame.seq;
        ++read;
    }
    done = true;
    producer.join();
    while (reader->read(out.data()).status == ReadStatus::frame) ++read;
    CAPTURE(read, reader->overwritten());
    CHECK(torn == 0);
    CHECK(read > 10);
    CHECK(reader->overwritten() > 0);  // the producer outran the copies
    CHECK(read + reader->overwritten() == ring.frames_written());
}

TEST_CASE(
    "shm ring: close ends the ring and frees the name, and a dead producer's ring is replaced",
    "[shm]") {
    const auto s = spec("close");
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    ring.write(filled(ring, 1).data());
    ring.close();
    CHECK(reader->producer().state == RingState::closed);
    std::vector<uint8_t> out(ring.frame_bytes());
    CHECK(reader->read(out.data()).seq == 0);  // what was published is still read
    CHECK(RingReader::open(s.name).status == OpenStatus::missing);

    // A live producer's ring is not taken over; a leftover of a dead one is.
    auto again = FrameRing::create(s);
    CHECK_THROWS_WITH(FrameRing::create(s), Catch::Contains("in use by process"));
    {
        Segment leftover(s.name + "-dead", sizeof(RingHeader) + 4 * slot_bytes_for(64 * 48 * 4));
        auto h = good_header(64, 48, PixelFormat::bgra);
        h.producer_pid = 999999999;  // no such process
        leftover.header() = h;
        auto replaced = FrameRing::create({s.name + "-dead", 64, 48, PixelFormat::bgra, 4, 0});
        CHECK(open_reader(s.name + "-dead")->geometry().producer_pid == getpid());
    }
}

TEST_CASE("shm ring: the producer refuses a bad name, size or capacity", "[shm]") {
    CHECK_THROWS_WITH(FrameRing::create({"../etc", 64, 48, PixelFormat::bgra, 4, 0}),
                      Catch::Contains("ring name must be"));
    CHECK_THROWS_WITH(FrameRing::create({unique_name("odd"), 63, 48, PixelFormat::bgra, 4, 0}),
                      Catch::Contains("even"));
    CHECK_THROWS_WITH(FrameRing::create({unique_name("cap"), 64, 48, PixelFormat::bgra, 0, 0}),
                      Catch::Contains("capacity must be 1..1024"));
    CHECK_THROWS_WITH(FrameRing::create({unique_name("big"), 8192, 8192, PixelFormat::bgra, 64, 0}),
                      Catch::Contains("MiB"));
}

TEST_CASE("shm ring: validate_header accepts a correct header of every pixel format", "[shm]") {
    for (auto format :
         {PixelFormat::bgra, PixelFormat::rgb24, PixelFormat::nv12, PixelFormat::i420}) {
        const auto h = good_header(640, 480, format, 8);
        RingGeometry g;
        CHECK(validate_header(h, h.segment_bytes, g).empty());
        CHECK(g.layout.frame_bytes == h.frame_bytes);
        CHECK(g.format == format);
    }
    // NV12 and I420 planes: Y, then chroma at half resolution.
    const auto i420 = *frame_layout(4, 640, 480);
    CHECK(i420.offset[1] == 640 * 480);
    CHECK(i420.offset[2] == 640 * 480 + 320 * 240);
    CHECK(i420.stride[1] == 320);
    CHECK(frame_layout(3, 640, 480)->stride[1] == 640);
}

TEST_CASE("shm ring: validate_header refuses every lie with what is wrong", "[shm]") {
    struct Lie {
        const char* what;
        std::function<void(RingHeader&, uint64_t&)> make;
        const char* says;
    };
    const Lie lies[] = {
        {"magic", [](RingHeader& h, uint64_t&) { h.magic = 0x1234; }, "not a recd frame ring"},
        {"version", [](RingHeader& h, uint64_t&) { h.version = 2; }, "version 2"},
        {"header size", [](RingHeader& h, uint64_t&) { h.header_bytes = 128; }, "header_bytes"},
        {"format 0", [](RingHeader& h, uint64_t&) { h.format = 0; }, "pixel format 0"},
        {"format 5", [](RingHeader& h, uint64_t&) { h.format = 5; }, "pixel format 5"},
        {"odd width", [](RingHeader& h, uint64_t&) { h.width = 63; }, "must be even"},
        {"zero height", [](RingHeader& h, uint64_t&) { h.height = 0; }, "frame size"},
        {"huge width", [](RingHeader& h, uint64_t&) { h.width = 0xfffffffe; }, "2..8192"},
        {"capacity 0", [](RingHeader& h, uint64_t&) { h.capacity = 0; }, "capacity 0"},
        {"huge capacity", [](RingHeader& h, uint64_t&) { h.capacity = 0xffffffff; }, "1..1024"},
        {"planes", [](RingHeader& h, uint64_t&) { h.planes = 1; }, "1 planes"},
        {"plane offset", [](RingHeader& h, uint64_t&) { h.plane_offset[2] = 1u << 31; }, "plane 2"},
        {"plane stride", [](RingHeader& h, uint64_t&) { h.plane_stride[0] = 4096; }, "plane 0"},
        {"frame size", [](RingHeader& h, uint64_t&) { h.frame_bytes = ~0ull; }, "frame_bytes"},
        {"slot size", [](RingHeader& h, uint64_t&) { h.slot_bytes = 64; }, "slot_bytes"},
        {"slots offset", [](RingHeader& h, uint64_t&) { h.slots_offset = 1ull << 62; },
         "slots_offset"},
        {"segment size", [](RingHeader& h, uint64_t&) { h.segment_bytes *= 2; }, "segment_bytes"},
        {"small segment", [](RingHeader&, uint64_t& size) { size -= 1; }, "smaller than the"},
        {"tiny segment", [](RingHeader&, uint64_t& size) { size = 100; },
         "smaller than a ring header"},
        {"too big a ring",
         [](RingHeader& h, uint64_t& size) {
             h = good_header(8192, 8192, PixelFormat::bgra, 1024);
             size = h.segment_bytes;
         },
         "at most 4096 MiB"},
    };
    for (const auto& lie : lies) {
        INFO(lie.what);
        auto h = good_header();
        uint64_t size = h.segment_bytes;
        lie.make(h, size);
        RingGeometry g;
        const auto why = validate_header(h, size, g);
        CHECK_THAT(why, Catch::Contains(lie.says));
    }
}

TEST_CASE("shm ring: open refuses a malformed, foreign or unfinished segment with the reason",
          "[shm]") {
    const auto name = unique_name("open");
    CHECK(RingReader::open(name).status == OpenStatus::missing);
    CHECK(RingReader::open("../../etc/passwd").status == OpenStatus::invalid);
    const size_t bytes = good_header().segment_bytes;
    {
        Segment segment(name, bytes);
        CHECK(RingReader::open(name).status == OpenStatus::not_ready);  // all zero: creating
        auto h = good_header();
        h.magic = 0x4141414141414141;
        segment.header() = h;
        auto opened = RingReader::open(name);
        CHECK(opened.status == OpenStatus::invalid);
        CHECK_THAT(opened.why, Catch::Contains("not a recd frame ring"));
        h = good_header();
        h.capacity = 8;  // the header claims more slots than the segment has
        h.segment_bytes = sizeof(RingHeader) + 8 * h.slot_bytes;
        segment.header() = h;
        opened = RingReader::open(name);
        CHECK(opened.status == OpenStatus::invalid);
        CHECK_THAT(opened.why, Catch::Contains("smaller than the"));
        segment.header() = good_header();
        segment.header().state = static_cast<uint64_t>(RingState::closed);
        CHECK(RingReader::open(name).status == OpenStatus::gone);
        segment.header() = good_header();
        CHECK(RingReader::open(name).status == OpenStatus::ok);
    }
    {
        Segment shared(name, bytes, 0666);
        shared.header() = good_header();
        auto opened = RingReader::open(name);
        CHECK(opened.status == OpenStatus::invalid);
        CHECK_THAT(opened.why, Catch::Contains("writable by other users"));
    }
}

TEST_CASE("shm ring: a segment truncated under the reader fails the read instead of crashing",
          "[shm]") {
    const auto s = spec("shrink");
    auto ring = FrameRing::create(s);
    auto reader = open_reader(s.name);
    ring.write(filled(ring, 1).data());
    const auto segment = "/" + segment_name(s.name, geteuid());
    const int fd = shm_open(segment.c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    struct stat st {};
    REQUIRE(fstat(fd, &st) == 0);
    REQUIRE(ftruncate(fd, 0) == 0);  // every page of the reader's mapping is gone (SIGBUS)
    std::vector<uint8_t> out(ring.frame_bytes());
    CHECK(reader->read(out.data()).status == ReadStatus::broken);
    CHECK_THAT(reader->error(), Catch::Contains("shrank"));
    CHECK_FALSE(reader->producer().readable);
    REQUIRE(ftruncate(fd, st.st_size) == 0);  // so that the producer can end its ring
    close(fd);
}
