#pragma once
// The contract every audio capture implements (pulse_audio, later wasapi_audio).
// The source runs its own capture thread; it hands each block of samples to `ChunkFn` on that
// thread, which must not block (it pushes into a bounded queue). start() and stop() are called
// from one controlling thread (worker pool or the session's threads).
#include <functional>
#include <string>

#include "../../common/clock.hpp"

namespace rec {

// `samples`: interleaved float stereo at 48 kHz; `time`: steady-clock instant of the first
// sample's capture (read time minus the device's latency).
using ChunkFn = std::function<void(const float* samples, int64_t frames, TimePoint time)>;

enum class AudioKind { system, mic };

class AudioSource {
public:
    virtual ~AudioSource() = default;
    // Connects. Throws rec::Error(AUDIO_UNAVAILABLE) if the audio server cannot be reached.
    // Once started, a lost server or device is reconnected by the source itself.
    virtual void start(ChunkFn on_chunk) = 0;
    virtual void stop() = 0;
    // The device being recorded ("" while disconnected) and whether chunks are flowing.
    virtual std::string device() const = 0;
    virtual bool connected() const = 0;
};

}  // namespace rec
