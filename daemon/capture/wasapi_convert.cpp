#include "wasapi_convert.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <bit>
#include <chrono>

namespace rec {
namespace {

constexpr int out_rate = 48000;
constexpr int out_channels = 2;

// KSDATAFORMAT_SUBTYPE_IEEE_FLOAT / _PCM, spelled out so that no GUID library (ksuser, uuid) has
// to be linked for two constants.
constexpr GUID float_subtype{0x00000003, 0x0000, 0x0010, {0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}};
constexpr GUID pcm_subtype{0x00000001, 0x0000, 0x0010, {0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}};

Clock::duration frames_to_duration(int64_t frames, int rate) {
    return std::chrono::duration_cast<Clock::duration>(Seconds(static_cast<double>(frames) / rate));
}

// What swresample calls a mix format's samples; `sub`: its WAVEFORMATEXTENSIBLE subtype if any.
AVSampleFormat sample_format(const WAVEFORMATEX& f, const GUID* sub) {
    const bool is_float =
        sub ? IsEqualGUID(*sub, float_subtype) : f.wFormatTag == WAVE_FORMAT_IEEE_FLOAT;
    const bool is_pcm = sub ? IsEqualGUID(*sub, pcm_subtype) : f.wFormatTag == WAVE_FORMAT_PCM;
    if (is_float && f.wBitsPerSample == 32) return AV_SAMPLE_FMT_FLT;
    if (is_pcm && f.wBitsPerSample == 16) return AV_SAMPLE_FMT_S16;
    if (is_pcm && f.wBitsPerSample == 32) return AV_SAMPLE_FMT_S32;  // also 24 valid bits
    return AV_SAMPLE_FMT_NONE;
}

}  // namespace

void WasapiConverter::SwrFree::operator()(SwrContext* s) const { swr_free(&s); }

WasapiConverter::WasapiConverter() : block_align_(sizeof(float) * out_channels) {}

WAVEFORMATEXTENSIBLE WasapiConverter::output_format() {
    WAVEFORMATEXTENSIBLE format{};
    format.Format = {WAVE_FORMAT_EXTENSIBLE,
                     out_channels,
                     out_rate,
                     out_rate * sizeof(float) * out_channels,
                     sizeof(float) * out_channels,
                     sizeof(float) * 8,
                     sizeof(WAVEFORMATEXTENSIBLE) - sizeof(WAVEFORMATEX)};
    format.Samples.wValidBitsPerSample = sizeof(float) * 8;
    format.dwChannelMask = SPEAKER_FRONT_LEFT | SPEAKER_FRONT_RIGHT;
    format.SubFormat = float_subtype;
    return format;
}

// 24 valid bits in 32 are MSB-aligned, so read as int32. swresample downmixes or upmixes by the
// channel mask (by the count where the mask does not match it) and resamples if the engine does
// not run at 48 kHz.
bool WasapiConverter::open(const WAVEFORMATEX& mix) {
    close();
    const bool extensible = mix.wFormatTag == WAVE_FORMAT_EXTENSIBLE &&
                            mix.cbSize >= sizeof(WAVEFORMATEXTENSIBLE) - sizeof(WAVEFORMATEX);
    const auto* ext = reinterpret_cast<const WAVEFORMATEXTENSIBLE*>(&mix);
    const AVSampleFormat format = sample_format(mix, extensible ? &ext->SubFormat : nullptr);
    AVChannelLayout in{}, out{};
    const DWORD mask = extensible ? ext->dwChannelMask : 0;
    if (std::popcount(mask) != mix.nChannels || av_channel_layout_from_mask(&in, mask) < 0)
        av_channel_layout_default(&in, mix.nChannels);
    av_channel_layout_default(&out, out_channels);
    SwrContext* swr = nullptr;
    if (format == AV_SAMPLE_FMT_NONE ||
        swr_alloc_set_opts2(&swr, &out, AV_SAMPLE_FMT_FLT, out_rate, &in, format,
                            static_cast<int>(mix.nSamplesPerSec), 0, nullptr) < 0)
        return false;
    swr_.reset(swr);
    if (swr_init(swr) < 0) {
        swr_.reset();
        return false;
    }
    block_align_ = mix.nBlockAlign;
    return true;
}

void WasapiConverter::close() {
    swr_.reset();
    block_align_ = sizeof(float) * out_channels;
}

void WasapiConverter::convert(const BYTE* data, UINT32 frames, TimePoint time,
                              const ChunkFn& on_chunk) {
    // Output frames still inside the resampler come out first, before this packet's.
    const int64_t delay = swr_get_delay(swr_.get(), out_rate);
    const int capacity = swr_get_out_samples(swr_.get(), static_cast<int>(frames));
    converted_.resize(static_cast<size_t>(std::max(capacity, 0)) * out_channels);
    auto* out = reinterpret_cast<uint8_t*>(converted_.data());
    const uint8_t* in = data;
    const int n = swr_convert(swr_.get(), &out, capacity, &in, static_cast<int>(frames));
    if (n > 0) on_chunk(converted_.data(), n, time - frames_to_duration(delay, out_rate));
}

}  // namespace rec
