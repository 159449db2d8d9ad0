#pragma once
// Encodes one audio track: interleaved float stereo at 48 kHz in, AAC or Opus packets out.
// libswresample converts to the codec's sample format and applies the drift controller's
// compensation; a FIFO cuts the stream into the codec's frame size. Built on a worker thread
// when a session starts, then used only by that track's aenc thread.
#include <string>

#include "../media/av_ptr.hpp"
#include "video_encoder.hpp"  // PacketSink

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>
}

namespace rec {

constexpr int audio_rate = 48000;
constexpr int audio_channels = 2;

struct SwrContextFree {
    void operator()(SwrContext* s) const { swr_free(&s); }
};
struct AudioFifoFree {
    void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};

class AudioEncoder {
public:
    // `codec`: "aac" or "opus". Throws rec::Error(ENCODER_UNAVAILABLE).
    explicit AudioEncoder(const std::string& codec);

    const AVCodecContext& context() const { return *codec_; }

    // Appends `frames` interleaved stereo frames (nullptr: silence), stretched by
    // `compensation` output frames. Returns false if encoding or the sink failed.
    bool write(const float* samples, int64_t frames, int compensation, const PacketSink& sink);
    bool flush(const PacketSink& sink);
    // Output frames produced so far, including those still inside the resampler.
    double position() const;
    const std::string& error() const { return error_; }

private:
    bool reserve(FramePtr& frame, int samples);
    bool drain(bool final, const PacketSink& sink);
    bool send(const AVFrame* frame, const PacketSink& sink);

    CodecContextPtr codec_;
    std::unique_ptr<SwrContext, SwrContextFree> swr_;
    std::unique_ptr<AVAudioFifo, AudioFifoFree> fifo_;
    FramePtr frame_;    // one codec frame, sent to the encoder
    FramePtr convert_;  // the resampler's output, before the FIFO
    PacketPtr packet_;
    int64_t converted_ = 0;  // output frames out of the resampler
    int64_t next_pts_ = 0;   // in samples
    std::string error_;
};

}  // namespace rec
