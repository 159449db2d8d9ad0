#pragma once
// WASAPI capture in shared mode on its own thread (the track's acap thread, COM MTA). System
// sound records the loopback of the default playback endpoint and follows the default when it
// changes; the microphone records the default recording endpoint; either can name an endpoint id
// instead. A device that goes away is looked for again every second: the track's timeline fills
// the gap with silence. Windows-only (no Windows headers here: the state lives in the .cpp).
#include <memory>
#include <string>
#include <thread>

#include "audio_source.hpp"

namespace rec {

class WasapiAudioSource final : public AudioSource {
public:
    // `device` empty: the default endpoint (render for system, capture for mic); else an endpoint
    // id (IMMDevice::GetId, as the device listing gives it).
    WasapiAudioSource(AudioKind kind, std::string device);
    ~WasapiAudioSource() override;

    // Called from the controlling thread. start() waits for the acap thread's first connection.
    void start(ChunkFn on_chunk) override;
    void stop() override;
    std::string device() const override;
    bool connected() const override;

    // What the acap thread shares with the controlling thread (wasapi_audio.cpp).
    struct Shared;

private:
    std::unique_ptr<Shared> shared_;  // outlives the acap thread: stop() joins it first
    std::thread thread_;
};

}  // namespace rec
