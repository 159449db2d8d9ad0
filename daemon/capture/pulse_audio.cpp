#include "pulse_audio.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "../../common/error.hpp"
#include "../../common/log.hpp"

namespace rec {
namespace {

constexpr pa_sample_spec sample_spec{PA_SAMPLE_FLOAT32LE, 48000, 2};
constexpr size_t frame_bytes = sizeof(float) * 2;
// 20 ms fragments: a timestamp every 20 ms is plenty for the drift controller, and the
// wakeups stay few.
constexpr uint32_t fragment_bytes = 48000 / 50 * frame_bytes;
constexpr double byte_rate = 48000.0 * frame_bytes;
// How often a timing snapshot is asked for (see on_read, on_timing): they are filtered, and
// more are better. (A monitor's, asked every 200 ms, sampled its sink's block cycle at nearly
// the same phase for seconds: the stamps wandered by milliseconds.)
constexpr auto timing_interval = std::chrono::milliseconds(50);
// Chunks are stamped from the snapshots of this long (see on_timing).
constexpr auto floor_window = std::chrono::seconds(1);
// A local audio server answers in milliseconds; one that has not after 3 s is not there.
constexpr pa_usec_t connect_timeout_usec = 3'000'000;
// A lost server or device is looked for again every second ("reconnects within 5 s").
constexpr pa_usec_t retry_usec = 1'000'000;

class LoopLock {
public:
    explicit LoopLock(pa_threaded_mainloop* loop) : loop_(loop) { pa_threaded_mainloop_lock(loop); }
    ~LoopLock() { pa_threaded_mainloop_unlock(loop_); }

private:
    pa_threaded_mainloop* loop_;
};

const char* kind_name(AudioKind kind) { return kind == AudioKind::system ? "system" : "mic"; }

// A one-shot timer on `api` calling `fn(user)` after `usec`.
pa_time_event* after(pa_mainloop_api* api, pa_usec_t usec, pa_time_event_cb_t fn, void* user) {
    timeval tv{};
    pa_timeval_add(pa_gettimeofday(&tv), usec);
    return api->time_new(api, &tv, fn, user);
}

}  // namespace

PulseAudioSource::PulseAudioSource(AudioKind kind, std::string device)
    : kind_(kind), requested_(std::move(device)) {}

PulseAudioSource::~PulseAudioSource() { stop(); }

std::string PulseAudioSource::device() const {
    std::lock_guard lock(device_mutex_);
    return device_;
}

void PulseAudioSource::start(ChunkFn on_chunk) {
    on_chunk_ = std::move(on_chunk);
    loop_ = pa_threaded_mainloop_new();
    pa_threaded_mainloop_start(loop_);
    std::string failure;
    {
        LoopLock lock(loop_);
        auto* api = pa_threaded_mainloop_get_api(loop_);
        pa_mainloop_api_once(
            api,
            [](pa_mainloop_api*, void* user) {
                auto kind = static_cast<PulseAudioSource*>(user)->kind_;
                set_thread_name(std::string("acap-") + kind_name(kind));
            },
            this);
        auto* timer = after(
            api, connect_timeout_usec,
            [](pa_mainloop_api*, pa_time_event*, const timeval*, void* user) {
                auto* self = static_cast<PulseAudioSource*>(user);
                self->timed_out_ = true;
                pa_threaded_mainloop_signal(self->loop_, 0);
            },
            this);
        connect_context();
        while (!failed_to_start_ && !timed_out_ &&
               pa_context_get_state(context_) != PA_CONTEXT_READY)
            pa_threaded_mainloop_wait(loop_);
        started_ = pa_context_get_state(context_) == PA_CONTEXT_READY;
        // Then the stream, so the device is known from the first moment (status, sidecar);
        // a device that is not there yet is retried in the background.
        while (started_ && !connected_ && !timed_out_ && !retry_) pa_threaded_mainloop_wait(loop_);
        api->time_free(timer);
        if (!started_)
            failure = pa_context_get_state(context_) == PA_CONTEXT_FAILED
                          ? pa_strerror(pa_context_errno(context_))
                          : "no answer within 3 s";
    }
    if (!failure.empty()) {
        stop();
        throw Error(ErrorCode::audio_unavailable,
                    fmt::format("cannot reach the PulseAudio server ({}) for {} audio", failure,
                                kind_name(kind_)));
    }
}

void PulseAudioSource::stop() {
    if (!loop_) return;
    {
        LoopLock lock(loop_);
        stopping_ = true;
        if (retry_) pa_threaded_mainloop_get_api(loop_)->time_free(retry_);
        retry_ = nullptr;
        drop_stream();
        if (context_) {
            pa_context_disconnect(context_);
            pa_context_unref(context_);
            context_ = nullptr;
        }
    }
    pa_threaded_mainloop_stop(loop_);
    pa_threaded_mainloop_free(loop_);
    loop_ = nullptr;
}

void PulseAudioSource::connect_context() {
    context_ = pa_context_new(pa_threaded_mainloop_get_api(loop_), "recd");
    pa_context_set_state_callback(
        context_,
        [](pa_context*, void* user) { static_cast<PulseAudioSource*>(user)->on_context_state(); },
        this);
    // No autospawn: recd records the session's audio server, it never starts one.
    pa_context_connect(context_, nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr);
}

void PulseAudioSource::on_context_state() {
    switch (pa_context_get_state(context_)) {
        case PA_CONTEXT_READY:
            pa_context_set_subscribe_callback(
                context_,
                [](pa_context* c, pa_subscription_event_type_t, uint32_t, void* user) {
                    // The server's defaults may have changed: look again.
                    pa_operation_unref(pa_context_get_server_info(
                        c,
                        [](pa_context*, const pa_server_info* info, void* user) {
                            static_cast<PulseAudioSource*>(user)->on_server_info(info);
                        },
                        user));
                },
                this);
            pa_operation_unref(
                pa_context_subscribe(context_, PA_SUBSCRIPTION_MASK_SERVER, nullptr, nullptr));
            pa_operation_unref(pa_context_get_server_info(
                context_,
                [](pa_context*, const pa_server_info* info, void* user) {
                    static_cast<PulseAudioSource*>(user)->on_server_info(info);
                },
                this));
            break;
        case PA_CONTEXT_FAILED:
        case PA_CONTEXT_TERMINATED:
            if (!started_) {
                failed_to_start_ = true;  // start() reports it
            } else if (!stopping_) {
                if (connected_)
                    spdlog::warn("{} audio: lost the PulseAudio server ({}); retrying every second",
                                 kind_name(kind_), pa_strerror(pa_context_errno(context_)));
                connected_ = false;
                retry_later();
            }
            break;
        default:
            break;
    }
    pa_threaded_mainloop_signal(loop_, 0);
}

// Called when connected and whenever the server's defaults change.
void PulseAudioSource::on_server_info(const pa_server_info* info) {
    if (!info || stopping_) return;
    const char* name =
        kind_ == AudioKind::system ? info->default_sink_name : info->default_source_name;
    const std::string current = name ? name : "";
    const bool follows_default = requested_.empty();
    if (stream_ && (!follows_default || current == default_device_)) return;
    if (stream_) spdlog::info("{} audio: the default device is now {}", kind_name(kind_), current);
    default_device_ = current;
    drop_stream();
    connect_stream();
}

void PulseAudioSource::connect_stream() {
    stream_ = pa_stream_new(context_, kind_name(kind_), &sample_spec, nullptr);
    if (!stream_) return retry_later();
    pa_stream_set_state_callback(
        stream_,
        [](pa_stream*, void* user) { static_cast<PulseAudioSource*>(user)->on_stream_state(); },
        this);
    pa_stream_set_read_callback(
        stream_,
        [](pa_stream*, size_t bytes, void* user) {
            static_cast<PulseAudioSource*>(user)->on_read(bytes);
        },
        this);
    // Moved to another device: its latency differs, so chunks wait for a snapshot of the new one.
    pa_stream_set_moved_callback(
        stream_,
        [](pa_stream*, void* user) {
            auto* self = static_cast<PulseAudioSource*>(user);
            self->anchor_.reset();
            self->recent_.clear();
            self->on_stream_state();
        },
        this);
    pa_stream_set_latency_update_callback(
        stream_, [](pa_stream*, void* user) { static_cast<PulseAudioSource*>(user)->on_timing(); },
        this);
    anchor_.reset();
    recent_.clear();
    monitor_ = true;  // until ask_if_monitor() knows
    timing_requested_ = false;
    flowing_ = false;
    pa_buffer_attr attr{};
    attr.maxlength = static_cast<uint32_t>(-1);
    attr.fragsize = fragment_bytes;
    const char* device = !requested_.empty()          ? requested_.c_str()
                         : kind_ == AudioKind::system ? "@DEFAULT_MONITOR@"
                                                      : nullptr;
    // A named device is held to: if it vanishes the stream fails and is retried by name,
    // rather than silently moved to another device.
    auto flags =
        static_cast<pa_stream_flags_t>(PA_STREAM_ADJUST_LATENCY | PA_STREAM_AUTO_TIMING_UPDATE |
                                       (requested_.empty() ? 0 : PA_STREAM_DONT_MOVE));
    if (pa_stream_connect_record(stream_, device, &attr, flags) < 0) retry_later();
}

void PulseAudioSource::on_stream_state() {
    switch (pa_stream_get_state(stream_)) {
        case PA_STREAM_READY: {
            const char* name = pa_stream_get_device_name(stream_);
            {
                std::lock_guard lock(device_mutex_);
                device_ = name ? name : "";
            }
            if (!connected_) spdlog::info("{} audio: recording {}", kind_name(kind_), device());
            connected_ = true;
            ask_if_monitor();
            break;
        }
        case PA_STREAM_FAILED:
        case PA_STREAM_TERMINATED:
            if (stopping_) break;
            if (connected_)
                spdlog::warn("{} audio: lost {} ({}); retrying every second", kind_name(kind_),
                             device(), pa_strerror(pa_context_errno(context_)));
            connected_ = false;
            retry_later();
            break;
        default:
            break;
    }
    pa_threaded_mainloop_signal(loop_, 0);  // start() may be waiting for the stream
}

// Each chunk is stamped with the instant its first sample was captured, from a timing snapshot:
// the server's write index at the snapshot, when that was taken (now minus the transport time:
// the snapshot's reply has just arrived), and the source's latency. Not from
// pa_stream_get_latency(): its interpolation smooths the server clock over seconds and wanders
// by milliseconds while it does, and the read time adds this thread's scheduling jitter.
// A source's snapshots err one way: each is late by 0-4 ms (the latency reported lags the index
// it is reported with), with a floor that holds to ~0.1 ms over minutes; so its chunks are
// stamped from the snapshot of the last second that places the stream earliest (on_timing).
// A monitor's err the other way, early by up to a block of its sink (5 ms on a null sink while
// its latency settles, ~0.2 ms after), with a ceiling as steady; rarely one comes late (this
// thread scheduled late). Its chunks are stamped from the second-latest-placing snapshot of the
// last second. Snapshots come every 50 ms; between them chunks are placed at the nominal rate.
void PulseAudioSource::on_read(size_t) {
    const void* data = nullptr;
    size_t bytes = 0;
    while (stream_ && pa_stream_peek(stream_, &data, &bytes) == 0 && bytes > 0) {
        flowing_ = true;
        const pa_timing_info* timing = pa_stream_get_timing_info(stream_);
        // A hole (data == nullptr) is skipped: the timeline sees the gap. So is data read before
        // the stream's first snapshot: it cannot be placed.
        if (data && anchor_ && timing && !timing->read_index_corrupt) {
            const auto ahead = std::chrono::duration<double>(
                static_cast<double>(timing->read_index - anchor_->index) / byte_rate);
            on_chunk_(static_cast<const float*>(data), static_cast<int64_t>(bytes / frame_bytes),
                      anchor_->time + std::chrono::duration_cast<Clock::duration>(ahead));
        }
        pa_stream_drop(stream_);
    }
    if (!timing_requested_ && stream_ &&
        (recent_.empty() || Clock::now() - recent_.back().time > timing_interval)) {
        if (pa_operation* op = pa_stream_update_timing_info(stream_, nullptr, nullptr)) {
            pa_operation_unref(op);
            timing_requested_ = true;
        }
    }
}

// Mainloop thread, right after a timing reply (ours or libpulse's automatic ones).
void PulseAudioSource::on_timing() {
    timing_requested_ = false;
    const pa_timing_info* timing = pa_stream_get_timing_info(stream_);
    // A snapshot from before the first data describes a stream still starting (its first
    // blocks arrive in a burst): it misplaced the first chunks by up to 8 ms, which the clock
    // fit then took seconds to forget. Chunks wait for one taken while data flows.
    if (!timing || timing->write_index_corrupt || !flowing_) return;
    // A monitor's sample is heard sink_usec after the sink handed it over (0 for other sources).
    const auto usec = static_cast<int64_t>(timing->transport_usec + timing->source_usec) -
                      static_cast<int64_t>(timing->sink_usec);
    const Anchor latest{timing->write_index, Clock::now() - std::chrono::microseconds(usec)};
    while (!recent_.empty() && latest.time - recent_.front().time > floor_window)
        recent_.pop_front();
    recent_.push_back(latest);
    const auto earlier = [](const Anchor& a, const Anchor& b) { return a.origin() < b.origin(); };
    if (!monitor_) {
        anchor_ = *std::min_element(recent_.begin(), recent_.end(), earlier);
        return;
    }
    // The two latest-placing, latest first; the second of them when there are two.
    std::array<Anchor, 2> latest_two;
    const auto end =
        std::partial_sort_copy(recent_.begin(), recent_.end(), latest_two.begin(), latest_two.end(),
                               [&](const auto& a, const auto& b) { return earlier(b, a); });
    anchor_ = *std::prev(end);
}

// Mainloop thread, once the stream is ready: whether its source is a sink's monitor (see on_read).
void PulseAudioSource::ask_if_monitor() {
    const auto on_info = [](pa_context*, const pa_source_info* info, int eol, void* user) {
        if (eol == 0 && info)
            static_cast<PulseAudioSource*>(user)->monitor_ =
                info->monitor_of_sink != PA_INVALID_INDEX;
    };
    if (pa_operation* op = pa_context_get_source_info_by_index(
            context_, pa_stream_get_device_index(stream_), on_info, this))
        pa_operation_unref(op);
}

TimePoint PulseAudioSource::Anchor::origin() const {
    return time - std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(index) / byte_rate));
}

void PulseAudioSource::drop_stream() {
    if (!stream_) return;
    pa_stream_set_state_callback(stream_, nullptr, nullptr);
    pa_stream_set_read_callback(stream_, nullptr, nullptr);
    pa_stream_set_moved_callback(stream_, nullptr, nullptr);
    pa_stream_set_latency_update_callback(stream_, nullptr, nullptr);
    pa_stream_disconnect(stream_);
    pa_stream_unref(stream_);
    stream_ = nullptr;
    connected_ = false;
}

// Retries from a timer rather than from inside the failing object's own callback.
void PulseAudioSource::retry_later() {
    if (stopping_ || retry_ || !started_) return;
    retry_ = after(
        pa_threaded_mainloop_get_api(loop_), retry_usec,
        [](pa_mainloop_api* api, pa_time_event* event, const timeval*, void* user) {
            auto* self = static_cast<PulseAudioSource*>(user);
            api->time_free(event);
            self->retry_ = nullptr;
            self->drop_stream();
            if (pa_context_get_state(self->context_) == PA_CONTEXT_READY) {
                self->connect_stream();
                return;
            }
            pa_context_disconnect(self->context_);
            pa_context_unref(self->context_);
            self->connect_context();
        },
        this);
}

}  // namespace rec
