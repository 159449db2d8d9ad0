#pragma once
// The fallback for an endpoint whose stream Windows will not convert (Capture::open_mix_format in
// wasapi_audio.cpp): libswresample turns the mix format (float, int16, int32 or 24 valid bits in
// 32, any channels, any rate) into what the source delivers, float stereo at 48 kHz, and moves
// each packet's stamp back by the output the resampler still holds. Owned by the acap thread's
// Capture and used on that thread alone.
#include <windows.h>
// WAVEFORMATEX and WAVEFORMATEXTENSIBLE; after windows.h, whose types it uses.
#include <mmreg.h>

#include <memory>
#include <vector>

#include "audio_source.hpp"

struct SwrContext;

namespace rec {

class WasapiConverter {
public:
    WasapiConverter();

    // What the source delivers, as a wave format: what Capture::open asks Windows for first.
    static WAVEFORMATEXTENSIBLE output_format();

    // Prepares for `mix` (as GetMixFormat gives it: WAVEFORMATEXTENSIBLE when its cbSize says
    // so). False when swresample cannot read it; the converter then stays inactive.
    bool open(const WAVEFORMATEX& mix);
    // The stream is gone (Capture::disconnect): inactive until the next open().
    void close();
    bool active() const { return swr_ != nullptr; }
    // Bytes per frame of what the stream delivers: the mix format's while active, else
    // output_format()'s. Sizes the zeros that stand for a silent packet.
    UINT32 block_align() const { return block_align_; }

    // While active: converts a packet of `frames` mix-format frames whose first was captured at
    // `time` and hands what comes out to `on_chunk`, stamped as the output's first frame.
    void convert(const BYTE* data, UINT32 frames, TimePoint time, const ChunkFn& on_chunk);

private:
    struct SwrFree {
        void operator()(SwrContext* s) const;
    };

    std::unique_ptr<SwrContext, SwrFree> swr_;
    UINT32 block_align_;
    std::vector<float> converted_;
};

}  // namespace rec
