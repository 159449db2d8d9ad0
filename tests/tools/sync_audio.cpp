#include "sync_audio.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "sync_signal.hpp"

namespace rec::sync {

namespace {

constexpr size_t frame_bytes = sizeof(float) * channels;
constexpr int64_t tone_frames = static_cast<int64_t>(tone_seconds * sample_rate);
// Origin estimates kept for the median: about 0.6 s of writes at one per 10 ms.
constexpr size_t origin_window = 63;

double seconds(Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Sample `i` of a tone that started at frame 0.
float tone_sample(int64_t i) {
    return static_cast<float>(std::sin(2 * M_PI * tone_hz * static_cast<double>(i) / sample_rate));
}

std::string fmt(const char* format, auto... args) {
    char line[256];
    std::snprintf(line, sizeof(line), format, args...);
    return line;
}

}  // namespace

// ---- TonePlayer

TonePlayer::TonePlayer(const std::string& sink, Logger log) : log_(std::move(log)) {
    loop_ = pa_threaded_mainloop_new();
    context_ = pa_context_new(pa_threaded_mainloop_get_api(loop_), "sync_tool");
    pa_context_set_state_callback(context_, on_context_state, this);
    pa_threaded_mainloop_lock(loop_);
    try {
        if (pa_context_connect(context_, nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr) < 0 ||
            pa_threaded_mainloop_start(loop_) < 0) {
            throw std::runtime_error(std::string("cannot connect to PulseAudio: ") +
                                     pa_strerror(pa_context_errno(context_)));
        }
        wait_until_ready(false);
        const pa_sample_spec spec{PA_SAMPLE_FLOAT32LE, sample_rate, channels};
        stream_ = pa_stream_new(context_, "sync tones", &spec, nullptr);
        pa_stream_set_state_callback(stream_, on_stream_state, this);
        pa_stream_set_write_callback(stream_, on_write, this);
        pa_stream_set_underflow_callback(stream_, on_underflow, this);
        // 50 ms ahead, refilled every 10 ms: tones are placed with a fresh origin estimate and
        // a busy machine still does not underrun.
        pa_buffer_attr attr{};
        attr.maxlength = static_cast<uint32_t>(-1);
        attr.tlength = static_cast<uint32_t>(pa_usec_to_bytes(50'000, &spec));
        attr.prebuf = static_cast<uint32_t>(-1);
        attr.minreq = static_cast<uint32_t>(pa_usec_to_bytes(10'000, &spec));
        attr.fragsize = static_cast<uint32_t>(-1);
        const auto flags = static_cast<pa_stream_flags_t>(
            PA_STREAM_INTERPOLATE_TIMING | PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_ADJUST_LATENCY);
        if (pa_stream_connect_playback(stream_, sink.empty() ? nullptr : sink.c_str(), &attr, flags,
                                       nullptr, nullptr) < 0) {
            throw std::runtime_error(std::string("cannot play on sink '") + sink +
                                     "': " + pa_strerror(pa_context_errno(context_)));
        }
        wait_until_ready(true);
    } catch (...) {
        pa_threaded_mainloop_unlock(loop_);
        close();
        throw;
    }
    pa_threaded_mainloop_unlock(loop_);
    settle();
}

// A null sink renders 2 s at a time until a stream asks for less, so playback may start seconds
// after the stream: wait until 300 ms have been played, then let the origin estimates refill.
void TonePlayer::settle() {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
        pa_usec_t played = 0;
        pa_threaded_mainloop_lock(loop_);
        const bool playing = pa_stream_get_time(stream_, &played) == 0 && played >= 300'000;
        if (playing) {
            origins_.clear();
            next_origin_ = 0;
        }
        pa_threaded_mainloop_unlock(loop_);
        if (playing) break;
        if (Clock::now() > deadline) {
            close();
            throw std::runtime_error("the sink does not play the stream");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
}

TonePlayer::~TonePlayer() { close(); }

void TonePlayer::close() {
    if (!loop_) return;
    pa_threaded_mainloop_lock(loop_);
    if (stream_) {
        pa_stream_disconnect(stream_);
        pa_stream_unref(stream_);
        stream_ = nullptr;
    }
    pa_context_disconnect(context_);
    pa_context_unref(context_);
    pa_threaded_mainloop_unlock(loop_);
    pa_threaded_mainloop_stop(loop_);
    pa_threaded_mainloop_free(loop_);
    loop_ = nullptr;
}

void TonePlayer::begin(Clock::time_point start) {
    pa_threaded_mainloop_lock(loop_);
    start_ = start;
    started_ = true;
    pa_threaded_mainloop_unlock(loop_);
}

// Called with the loop locked (constructor).
void TonePlayer::wait_until_ready(bool stream) {
    for (;;) {
        if (stream) {
            const pa_stream_state_t state = pa_stream_get_state(stream_);
            if (state == PA_STREAM_READY) return;
            if (!PA_STREAM_IS_GOOD(state)) {
                throw std::runtime_error(std::string("playback stream failed: ") +
                                         pa_strerror(pa_context_errno(context_)));
            }
        } else {
            const pa_context_state_t state = pa_context_get_state(context_);
            if (state == PA_CONTEXT_READY) return;
            if (!PA_CONTEXT_IS_GOOD(state)) {
                throw std::runtime_error(std::string("cannot connect to PulseAudio: ") +
                                         pa_strerror(pa_context_errno(context_)));
            }
        }
        pa_threaded_mainloop_wait(loop_);
    }
}

void TonePlayer::on_context_state(pa_context*, void* self) {
    pa_threaded_mainloop_signal(static_cast<TonePlayer*>(self)->loop_, 0);
}

void TonePlayer::on_stream_state(pa_stream*, void* self) {
    pa_threaded_mainloop_signal(static_cast<TonePlayer*>(self)->loop_, 0);
}

void TonePlayer::on_write(pa_stream*, size_t bytes, void* self) {
    static_cast<TonePlayer*>(self)->write(bytes);
}

void TonePlayer::on_underflow(pa_stream*, void* self) {
    auto* player = static_cast<TonePlayer*>(self);
    // The sink played silence it made up: positions heard from now on moved. Start over.
    player->origins_.clear();
    player->next_origin_ = 0;
    if (player->started_)
        player->log_(fmt("warning: playback underflow %d", ++player->underflows_));
}

// Mainloop thread: the steady time at which frame 0 is heard, from the server's latest timing
// report: at its timestamp the sink had taken read_index and not yet played sink_usec of it.
// The raw report, not libpulse's interpolation, whose smoothing wanders by milliseconds.
void TonePlayer::update_origin() {
    if (pa_operation* op = pa_stream_update_timing_info(stream_, nullptr, nullptr)) {
        pa_operation_unref(op);
    }
    const pa_timing_info* info = pa_stream_get_timing_info(stream_);
    if (!info || info->read_index_corrupt || !info->playing) return;
    const double stamp = static_cast<double>(info->timestamp.tv_sec) +
                         static_cast<double>(info->timestamp.tv_usec) / 1e6;
    if (stamp == last_stamp_) return;
    last_stamp_ = stamp;
    // The timestamp is wall-clock time; both clocks are slewed alike, so one offset converts.
    const double wall_to_steady =
        seconds(Clock::now()) -
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const double played = static_cast<double>(info->read_index) / (sample_rate * frame_bytes) -
                          static_cast<double>(info->sink_usec) / 1e6;
    const double origin = stamp + wall_to_steady - played;
    if (origins_.size() < origin_window) {
        origins_.push_back(origin);
    } else {
        origins_[next_origin_] = origin;
        next_origin_ = (next_origin_ + 1) % origin_window;
    }
    if (std::getenv("SYNC_DEBUG")) std::fprintf(stderr, "origin %.6f\n", origin);
}

// Mainloop thread: places every event whose first frame falls before `end` (the end of the
// block about to be written).
void TonePlayer::schedule_tones(int64_t end) {
    std::vector<double> sorted = origins_;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double origin = sorted[sorted.size() / 2];
    for (;;) {
        const double instant = seconds(start_) + event_time(next_event_);
        int64_t frame = std::llround((instant - origin) * sample_rate);
        if (frame >= end) return;
        const double ahead_ms = (instant - seconds(Clock::now())) * 1000;
        if (frame < written_) {
            log_(fmt("warning: tone %d is %.1f ms late", next_event_,
                     (written_ - frame) * 1000.0 / sample_rate));
            frame = written_;
        }
        tones_.push_back(frame);
        log_(fmt("tone %d frame=%lld scheduled_ahead_ms=%.1f", next_event_,
                 static_cast<long long>(frame), ahead_ms));
        ++next_event_;
    }
}

float TonePlayer::sample_at(int64_t position) {
    for (int64_t first : tones_) {
        if (position >= first && position < first + tone_frames) {
            return tone_sample(position - first);
        }
    }
    return 0.0f;
}

void TonePlayer::write(size_t bytes) {
    update_origin();
    void* data = nullptr;
    size_t size = bytes;
    if (bytes < frame_bytes || pa_stream_begin_write(stream_, &data, &size) < 0 || !data) return;
    const auto frames = static_cast<int64_t>(std::min(size, bytes) / frame_bytes);
    if (started_ && !origins_.empty()) schedule_tones(written_ + frames);
    auto* out = static_cast<float*>(data);
    for (int64_t i = 0; i < frames; ++i) {
        const float value = sample_at(written_ + i);
        for (int c = 0; c < channels; ++c) *out++ = value;
    }
    pa_stream_write(stream_, data, static_cast<size_t>(frames) * frame_bytes, nullptr, 0,
                    PA_SEEK_RELATIVE);
    written_ += frames;
    std::erase_if(tones_, [&](int64_t first) { return first + tone_frames <= written_; });
}

// ---- MicFeeder

MicFeeder::MicFeeder(std::string fifo, double skew, Logger log)
    : fifo_(std::move(fifo)), rate_(sample_rate * (1 + skew)), log_(std::move(log)) {}

MicFeeder::~MicFeeder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
}

void MicFeeder::begin(Clock::time_point start) {
    start_ = start;
    next_open_ = start;
    thread_ = std::thread([this] { run(); });
}

void MicFeeder::run() {
    // 5 ms of nominal audio per write: small enough that delivery in chunks adds little jitter,
    // and 1920 bytes, under PIPE_BUF, so every write is atomic.
    constexpr int64_t chunk_frames = 240;
    std::vector<float> chunk(chunk_frames * channels);
    std::vector<int64_t> tones;
    int next_event = 0;
    for (int64_t first = 0; !stop_; first += chunk_frames) {
        const int64_t end = first + chunk_frames;
        std::this_thread::sleep_until(
            start_ + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(end) / rate_)));
        for (;;) {
            const int64_t frame = std::llround(event_time(next_event) * rate_);
            if (frame >= end) break;
            tones.push_back(frame);
            log_(fmt("mic %d frame=%lld", next_event++, static_cast<long long>(frame)));
        }
        for (int64_t i = 0; i < chunk_frames; ++i) {
            float value = 0;
            for (int64_t t : tones) {
                if (first + i >= t && first + i < t + tone_frames)
                    value = tone_sample(first + i - t);
            }
            for (int c = 0; c < channels; ++c) chunk[i * channels + c] = value;
        }
        write_chunk(chunk);
        std::erase_if(tones, [&](int64_t t) { return t + tone_frames <= end; });
    }
}

bool MicFeeder::open_fifo() {
    const auto now = Clock::now();
    if (now < next_open_) return false;
    next_open_ = now + std::chrono::milliseconds(100);
    // Non-blocking: fails with ENXIO while no reader has the FIFO open, instead of waiting.
    fd_ = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) return false;
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISFIFO(st.st_mode)) {
        ::close(fd_);
        fd_ = -1;
        return false;
    }
    log_("mic: writing to " + fifo_);
    return true;
}

void MicFeeder::write_chunk(const std::vector<float>& chunk) {
    if (fd_ < 0 && !open_fifo()) {
        ++dropped_;
        return;
    }
    // A full FIFO (170 ms) means nobody records the source (module-pipe-source reads only while
    // a stream records it): the chunk is lost, as a sound card's samples are then. Anything
    // less is a reader that fell behind for a moment (a busy machine) and catches up, as it
    // would from a sound card's buffer.
    const size_t bytes = chunk.size() * sizeof(float);
    if (::write(fd_, chunk.data(), bytes) == static_cast<ssize_t>(bytes)) return;
    ++dropped_;
    if (errno != EAGAIN) {
        log_(std::string("mic: FIFO closed (") + std::strerror(errno) + "), reopening");
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace rec::sync
