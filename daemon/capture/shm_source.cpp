#include "shm_source.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <fstream>
#include <thread>

namespace rec {
namespace {

using namespace std::chrono_literals;

// How often a grab looks for a new frame while there is none. Frames carry the producer's
// timestamps, so this only delays a frame on its way to the encoder (5 ms against 33 ms between
// frames at 30 fps), and 200 looks a second cost a session about 0.1 % of a core.
constexpr auto poll_interval = 5ms;
// How often the producer's liveness is checked while no frame comes, and how often a missing
// ring is looked for: a lost producer is noticed within this, plus the grace below.
constexpr auto check_interval = 100ms;
// A producer whose pid no longer exists and that wrote nothing for this long is gone. Not at
// once: the pid may belong to another pid namespace (a container), where a live producer's pid
// looks gone to recd; its heartbeat then keeps it alive.
constexpr auto pid_grace = 1s;
// A producer that wrote nothing and called no heartbeat() for this long is hung, or it is the
// leftover of one that died and whose pid was reused: the same limit as a hung X server's.
constexpr auto silence_limit = 10s;
// Without `wait`, a ring its producer is still creating (the header not yet written) gets this
// long before the start fails: creation takes microseconds.
constexpr auto creation_grace = 1s;
// A frame stamped earlier than this before its ring was attached is taken as read now: an old
// or zero timestamp would otherwise fill the file with that much repeated picture up to the
// next frame. (Frames waiting in the ring while recd lags are recent: the ring keeps the newest.)
constexpr auto max_stamp_age = 10s;

// A process that has exited but is not yet reaped (a zombie: its parent has not waited for it)
// still answers kill(pid, 0); /proc says what it is.
bool process_exists(int64_t pid) {
    if (pid <= 0 || pid > INT32_MAX) return false;
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;  // unreadable: the heartbeat decides
    const auto end_of_name = line.rfind(')');
    return end_of_name == std::string::npos || end_of_name + 2 >= line.size() ||
           line[end_of_name + 2] != 'Z';
}

// Why the producer of a readable ring is gone, or "" while it is alive.
std::string why_gone(const shm::ProducerState& p, int64_t pid) {
    const auto silent = Clock::now() - TimePoint(std::chrono::nanoseconds(p.heartbeat_ns));
    if (silent > pid_grace && !process_exists(pid))
        return fmt::format("its producer (pid {}) exited without ending the ring", pid);
    if (silent > silence_limit)
        return fmt::format("its producer (pid {}) wrote nothing for {} s", pid,
                           std::chrono::duration_cast<std::chrono::seconds>(silent).count());
    return {};
}

AVPixelFormat av_format(shm::PixelFormat format) {
    switch (format) {
        case shm::PixelFormat::bgra:
            return AV_PIX_FMT_BGRA;
        case shm::PixelFormat::rgb24:
            return AV_PIX_FMT_RGB24;
        case shm::PixelFormat::nv12:
            return AV_PIX_FMT_NV12;
        case shm::PixelFormat::i420:
            return AV_PIX_FMT_YUV420P;
    }
    return AV_PIX_FMT_NONE;
}

}  // namespace

ShmSource::ShmSource(ShmTarget target) : target_(std::move(target)) {
    const auto deadline = Clock::now() + creation_grace;
    for (;;) {
        auto opened = shm::RingReader::open(target_.name);
        if (opened.status == shm::OpenStatus::not_ready && Clock::now() < deadline &&
            !target_.wait) {
            std::this_thread::sleep_for(10ms);
            continue;
        }
        if (opened.status == shm::OpenStatus::invalid)
            throw Error(ErrorCode::source_unavailable, opened.why);
        if (opened.status == shm::OpenStatus::ok) {
            reader_ = std::move(opened.reader);
            if (auto why = why_gone(reader_->producer(), reader_->geometry().producer_pid);
                !why.empty()) {
                reader_.reset();
                opened.why = fmt::format("ring \"{}\" is a leftover: {}", target_.name, why);
            }
        }
        if (!reader_) {
            if (target_.wait) return;  // wait_ready() looks for it
            throw Error(ErrorCode::source_unavailable, opened.why);
        }
        break;
    }
    // The ring was there before the session: what it holds is from before the start.
    reader_->skip_to_newest();
    const auto& g = reader_->geometry();
    std::lock_guard lock(mutex_);
    format_ = g.format;
    geometry_ = g;
    producer_ = Producer::live;
    attached_at_ = Clock::now();
}

// A ring first seen after the session started: all of its frames are read.
ShmSource::Attach ShmSource::try_attach() {
    auto opened = shm::RingReader::open(target_.name);
    if (opened.status == shm::OpenStatus::invalid) {
        std::lock_guard lock(mutex_);
        error_ = opened.why;
        return Attach::invalid;
    }
    if (opened.status != shm::OpenStatus::ok) return Attach::absent;
    const auto& g = opened.reader->geometry();
    if (!why_gone(opened.reader->producer(), g.producer_pid).empty()) return Attach::absent;
    if (format_ && *format_ != g.format) {
        std::lock_guard lock(mutex_);
        error_ = fmt::format("ring \"{}\" came back in {}; this session records {}", target_.name,
                             shm::to_string(g.format), shm::to_string(*format_));
        return Attach::invalid;
    }
    spdlog::info("shm:{}: producer pid {} attached: {}x{} {}, {} slots", target_.name,
                 g.producer_pid, g.width, g.height, shm::to_string(g.format), g.capacity);
    reader_ = std::move(opened.reader);
    std::lock_guard lock(mutex_);
    format_ = g.format;
    geometry_ = g;
    producer_ = Producer::live;
    attached_at_ = Clock::now();
    return Attach::attached;
}

// vcap thread: until a producer creates the ring.
GrabStatus ShmSource::wait_for_ring() {
    for (;;) {
        switch (try_attach()) {
            case Attach::attached:
                return GrabStatus::ok;
            case Attach::invalid:
                return lose(Producer::lost);
            case Attach::absent:
                break;
        }
        if (!sleep_for(check_interval)) return GrabStatus::interrupted;
    }
}

bool ShmSource::ready() const {
    std::lock_guard lock(mutex_);
    return format_.has_value();
}

GrabStatus ShmSource::wait_ready() { return reader_ ? GrabStatus::ok : wait_for_ring(); }

// vcap thread: the oldest frame not yet taken; waits for one while there is none (polling, see
// poll_interval), checking every check_interval that the producer is still there.
GrabStatus ShmSource::grab(VideoFrame& out) {
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (interrupted_) return GrabStatus::interrupted;
        }
        if (!reader_)
            if (const auto waited = wait_for_ring(); waited != GrabStatus::ok) return waited;
        bool got = false;
        if (const auto read = read_frame(out, got); read != GrabStatus::ok || got) return read;
        if (const auto checked = check_producer(); checked != GrabStatus::ok) return checked;
        if (reader_ && !sleep_for(poll_interval)) return GrabStatus::interrupted;
    }
}

// One frame out of the ring into a new buffer of the pool; `got` false when there was none.
GrabStatus ShmSource::read_frame(VideoFrame& out, bool& got) {
    const auto& g = reader_->geometry();
    if (pool_bytes_ != g.layout.frame_bytes) {
        // Frames still queued keep their old buffers: the pool goes when the last returns.
        pool_.reset(
            av_buffer_pool_init(g.layout.frame_bytes + AV_INPUT_BUFFER_PADDING_SIZE, nullptr));
        pool_bytes_ = g.layout.frame_bytes;
    }
    AVBufferRef* buffer = pool_ ? av_buffer_pool_get(pool_.get()) : nullptr;
    if (!buffer) {
        std::lock_guard lock(mutex_);
        error_ = "out of memory for a frame";
        return GrabStatus::lost;
    }
    const auto frame = reader_->read(buffer->data);
    overwritten_ = overwritten_before_ + reader_->overwritten();
    if (frame.status != shm::ReadStatus::frame) {
        av_buffer_unref(&buffer);
        if (frame.status == shm::ReadStatus::none) return GrabStatus::ok;
        {
            std::lock_guard lock(mutex_);
            error_ =
                fmt::format("ring \"{}\" became unreadable: {}", target_.name, reader_->error());
        }
        return lose(Producer::lost);
    }
    FramePtr picture(av_frame_alloc());
    if (!picture) {
        av_buffer_unref(&buffer);
        return GrabStatus::ok;  // try again: a frame is not worth the session
    }
    picture->buf[0] = buffer;
    picture->format = av_format(g.format);
    picture->width = static_cast<int>(g.width);
    picture->height = static_cast<int>(g.height);
    for (uint32_t i = 0; i < g.layout.planes; ++i) {
        picture->data[i] = buffer->data + g.layout.offset[i];
        picture->linesize[i] = static_cast<int>(g.layout.stride[i]);
    }
    out = VideoFrame{std::move(picture), stamp(frame.timestamp_ns)};
    got = true;
    return GrabStatus::ok;
}

// The frame's time: the producer's timestamp, unless it cannot be true (later than now, or
// long before the ring was attached), then the time recd read it.
TimePoint ShmSource::stamp(int64_t timestamp_ns) {
    const auto now = Clock::now();
    const TimePoint time{std::chrono::nanoseconds(timestamp_ns)};
    if (time <= now && time >= attached_at_ - max_stamp_age) return time;
    if (restamped_++ == 0)
        spdlog::warn(
            "shm:{}: frame stamped {:.3f} s from now; frames are stamped on the steady "
            "clock (CLOCK_MONOTONIC): taken as read now (counted in producer.restamped)",
            target_.name, std::chrono::duration<double>(time - now).count());
    return now;
}

// vcap thread, while no frame comes: is the producer still there?
GrabStatus ShmSource::check_producer() {
    const auto now = Clock::now();
    if (now - last_check_ < check_interval) return GrabStatus::ok;
    last_check_ = now;
    const auto p = reader_->producer();
    if (!p.readable) {
        {
            std::lock_guard lock(mutex_);
            error_ = fmt::format("ring \"{}\" shrank under recd (truncated by its producer?)",
                                 target_.name);
        }
        return lose(Producer::lost);
    }
    if (p.state == shm::RingState::closed) return producer_left(Producer::closed, "ended the ring");
    if (auto why = why_gone(p, reader_->geometry().producer_pid); !why.empty())
        return producer_left(Producer::lost, why);
    return GrabStatus::ok;
}

// The producer ended the ring or vanished: with `wait` the session waits for the next one (ok),
// else it stops (ended) or fails (lost).
GrabStatus ShmSource::producer_left(Producer how, const std::string& why) {
    overwritten_before_ += reader_->overwritten();
    const auto pid = reader_->geometry().producer_pid;
    reader_.reset();
    if (target_.wait) {
        spdlog::warn("shm:{}: producer pid {} {}; waiting for it to come back", target_.name, pid,
                     why);
        set_producer(Producer::waiting);
        return GrabStatus::ok;
    }
    if (how == Producer::closed) {
        spdlog::info("shm:{}: producer pid {} ended the ring", target_.name, pid);
        set_producer(Producer::closed);
        return GrabStatus::ended;
    }
    {
        std::lock_guard lock(mutex_);
        error_ = fmt::format("ring \"{}\": {}", target_.name, why);
    }
    return lose(Producer::lost);
}

GrabStatus ShmSource::lose(Producer state) {
    reader_.reset();
    set_producer(state);
    return GrabStatus::lost;
}

void ShmSource::set_producer(Producer state) {
    std::lock_guard lock(mutex_);
    producer_ = state;
}

// False when interrupted.
bool ShmSource::sleep_for(std::chrono::milliseconds time) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, time, [&] { return interrupted_; });
}

void ShmSource::interrupt() {
    {
        std::lock_guard lock(mutex_);
        interrupted_ = true;
    }
    wake_.notify_all();
}

ipc::Region ShmSource::region() const {
    std::lock_guard lock(mutex_);
    return {0, 0, static_cast<int>(geometry_.width), static_cast<int>(geometry_.height)};
}

AVPixelFormat ShmSource::pixel_format() const {
    std::lock_guard lock(mutex_);
    return format_ ? av_format(*format_) : AV_PIX_FMT_NONE;
}

std::string ShmSource::error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

void ShmSource::describe(ipc::Json& status) const {
    static constexpr const char* states[] = {"waiting", "live", "closed", "lost"};
    std::lock_guard lock(mutex_);
    ipc::Json producer = {{"state", states[static_cast<int>(producer_)]}};
    if (geometry_.width) {
        producer.update({{"pid", geometry_.producer_pid},
                         {"width", geometry_.width},
                         {"height", geometry_.height},
                         {"format", shm::to_string(geometry_.format)},
                         {"capacity", geometry_.capacity},
                         {"restamped", restamped_.load()}});
        if (geometry_.fps_den) producer["fps"] = double(geometry_.fps_num) / geometry_.fps_den;
    }
    status["source"] = "shm:" + target_.name;
    status["producer"] = std::move(producer);
    status["frames"]["overwritten"] = overwritten_.load();
}

}  // namespace rec
