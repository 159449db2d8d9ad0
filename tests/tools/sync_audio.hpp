#pragma once
// sync_tool's two sound outputs (tests/tools/sync_tool.cpp creates both on its main thread):
// TonePlayer plays the tones on a PulseAudio sink, MicFeeder writes them into the FIFO of a
// module-pipe-source at a skewed rate, standing in for a microphone with a wrong clock.
#include <pulse/pulseaudio.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace rec::sync {

using Clock = std::chrono::steady_clock;
using Logger = std::function<void(const std::string&)>;  // thread-safe line printer

// A continuous playback stream (silence between tones) on its own threaded mainloop. Each tone's
// first sample is placed at the stream position that the sink will play at the event's instant:
// from the server's timing reports, sample s is heard at origin + s/rate. The origin is
// re-estimated on every write and median-filtered: the sink's clock may run a little off the
// steady clock (a null sink gains ~50 ppm by rounding each block's length down to a
// microsecond), which the estimates follow, while the reports' jitter is filtered out.
class TonePlayer {
public:
    // Connects to $PULSE_SERVER (or the default server) and starts playing silence on `sink`
    // (empty: the default sink); returns once the stream's timing has settled. Throws
    // std::runtime_error when there is no server or no such sink.
    TonePlayer(const std::string& sink, Logger log);
    TonePlayer(const TonePlayer&) = delete;
    TonePlayer& operator=(const TonePlayer&) = delete;
    ~TonePlayer();

    // Tones from now on at start + event_time(k).
    void begin(Clock::time_point start);

private:
    static void on_context_state(pa_context* context, void* self);
    static void on_stream_state(pa_stream* stream, void* self);
    static void on_write(pa_stream* stream, size_t bytes, void* self);
    static void on_underflow(pa_stream* stream, void* self);
    void write(size_t bytes);
    void update_origin();
    void schedule_tones(int64_t end);
    float sample_at(int64_t position);
    void wait_until_ready(bool stream);
    void close();
    void settle();

    Logger log_;
    pa_threaded_mainloop* loop_ = nullptr;
    pa_context* context_ = nullptr;
    pa_stream* stream_ = nullptr;
    // Below: mainloop thread only (or with the loop locked).
    std::vector<double> origins_;  // recent estimates of when sample 0 is heard, steady seconds
    size_t next_origin_ = 0;
    double last_stamp_ = 0;  // timestamp of the timing report last used
    int64_t written_ = 0;    // frames written so far
    bool started_ = false;
    Clock::time_point start_;
    int next_event_ = 0;
    std::vector<int64_t> tones_;  // first frames of the tones placed and not yet fully written
    int underflows_ = 0;
};

// Writes float32le stereo at (1 + skew) x 48000 frames per real second into `fifo`, in 5 ms
// chunks each written once its last sample is "captured" (as a sound card delivers), with the
// tones at the frame of each event's instant on that clock. Survives the reader going away:
// the FIFO is reopened (module-pipe-source recreates it when loaded again).
class MicFeeder {
public:
    MicFeeder(std::string fifo, double skew, Logger log);
    MicFeeder(const MicFeeder&) = delete;
    MicFeeder& operator=(const MicFeeder&) = delete;
    ~MicFeeder();

    void begin(Clock::time_point start);  // starts the writer thread

private:
    void run();
    void write_chunk(const std::vector<float>& chunk);
    bool open_fifo();

    const std::string fifo_;
    const double rate_;  // frames per real second
    Logger log_;
    Clock::time_point start_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    int fd_ = -1;
    Clock::time_point next_open_;
    int64_t dropped_ = 0;  // chunks not written: no reader, or the reader is not reading
};

}  // namespace rec::sync
