#pragma once
// PulseAudio capture through libpulse's asynchronous API on its own threaded mainloop (the
// track's acap thread). System sound records the monitor of the default sink and follows the
// default when it changes; the microphone records the default source; either can name a
// device instead. A server that goes away or a device that vanishes is retried every second:
// the track's timeline fills the gap with silence.
#include <pulse/pulseaudio.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "../../common/ipc/protocol.hpp"
#include "audio_source.hpp"

namespace rec {

class PulseAudioSource final : public AudioSource {
public:
    // `device` empty: the default (sink monitor for system, source for mic).
    PulseAudioSource(AudioKind kind, std::string device);
    ~PulseAudioSource() override;

    void start(ChunkFn on_chunk) override;
    void stop() override;
    std::string device() const override;
    bool connected() const override { return connected_.load(); }

private:
    // All below run on the mainloop thread (or with its lock held).
    void connect_context();
    void connect_stream();
    void on_context_state();
    void on_stream_state();
    void on_read(size_t bytes);
    void on_timing();
    void ask_if_monitor();
    void on_server_info(const pa_server_info* info);
    void drop_stream();
    void retry_later();

    const AudioKind kind_;
    const std::string requested_;  // the device asked for; empty follows the default
    ChunkFn on_chunk_;
    pa_threaded_mainloop* loop_ = nullptr;
    pa_context* context_ = nullptr;
    pa_stream* stream_ = nullptr;
    pa_time_event* retry_ = nullptr;
    std::string default_device_;    // the default the current stream follows
    bool started_ = false;          // start() succeeded: from now on failures are retried
    bool failed_to_start_ = false;  // the first connection failed
    bool timed_out_ = false;        // start() waited long enough
    bool stopping_ = false;
    std::atomic<bool> connected_{false};
    // A timing snapshot of the stream: the byte at stream index `index` was captured (for a
    // sink's monitor: is heard) at `time`. Chunks are stamped from anchor_ at the nominal rate:
    // of the snapshots of the last floor_window (recent_), the one that puts the stream earliest.
    struct Anchor {
        int64_t index = 0;
        TimePoint time;
        TimePoint origin() const;  // when index 0 was captured, by this snapshot
    };
    std::optional<Anchor> anchor_;
    std::deque<Anchor> recent_;
    bool monitor_ = true;            // the stream records a sink's monitor (as far as known yet)
    bool timing_requested_ = false;  // a timing update is on its way
    bool flowing_ = false;           // data has arrived on the current stream
    mutable std::mutex device_mutex_;
    std::string device_;
};

// The sinks and sources of the audio server, for `recctl devices`. Blocks (worker pool).
// Throws rec::Error(AUDIO_UNAVAILABLE).
ipc::Json list_pulse_devices();

}  // namespace rec
