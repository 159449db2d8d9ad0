#pragma once
// One audio track of a session:
//   [acap] AudioSource -> BoundedQueue<AudioChunk> -> [aenc] AudioTimeline -> AudioEncoder -> Muxer
// Built on a worker thread by Session::start(); start() launches the aenc thread; request_stop()
// and status() may be called from any thread; wait() joins (the session's venc thread calls it
// before finalizing the file). The muxer and the clock belong to the session and outlive this.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../common/error.hpp"
#include "../common/ipc/protocol.hpp"
#include "capture/audio_source.hpp"
#include "media/audio_timeline.hpp"
#include "media/av_ptr.hpp"
#include "media/bounded_queue.hpp"
#include "media/session_clock.hpp"

namespace rec {

class AudioEncoder;
class Segmenter;

struct AudioChunk {
    std::vector<float> samples;  // interleaved stereo, 48 kHz
    TimePoint time;              // capture instant of the first sample
};

using FailFn = std::function<void(ErrorCode, const std::string&)>;

class AudioTrack {
public:
    // Opens the encoder and connects the source; chunks queue up until start().
    // Throws rec::Error (AUDIO_UNAVAILABLE, ENCODER_UNAVAILABLE).
    AudioTrack(AudioKind kind, const std::string& device, const std::string& codec,
               SessionClock& clock);
    ~AudioTrack();

    const char* title() const { return kind_ == AudioKind::system ? "system" : "mic"; }
    const AudioEncoder& encoder() const { return *encoder_; }

    void start(Segmenter& output, int stream, FailFn on_fail);
    void request_stop() { queue_.close(); }
    void wait();
    ipc::Json status() const;

private:
    void encode_loop();
    void encode();
    bool place(const AudioChunk& chunk);
    bool fill_gap();
    bool write(const float* samples, int64_t frames, int compensation);

    const AudioKind kind_;
    SessionClock& clock_;
    std::unique_ptr<AudioSource> source_;
    std::unique_ptr<AudioEncoder> encoder_;
    BoundedQueue<AudioChunk> queue_;
    AudioTimeline timeline_;
    size_t run_ = 0;  // the recording's run (SessionClock::Stretch) of the last chunk placed
    Segmenter* output_ = nullptr;
    std::function<bool(AVPacket&)> sink_;  // into the output, on this track's stream
    FailFn on_fail_;
    std::thread thread_;
    // Published by the aenc thread for status().
    std::atomic<int64_t> written_{0}, silence_{0};
    std::atomic<bool> stopped_{false};
    std::atomic<bool> capture_failed_{false};  // set by the acap thread, read by aenc
    std::atomic<double> offset_ms_{0}, correction_ppm_{0};
};

}  // namespace rec
