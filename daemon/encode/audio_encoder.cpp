#include "audio_encoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "../../common/error.hpp"

namespace rec {
namespace {

struct Codec {
    const char* name;  // as the user says it
    const char* encoder;
    int64_t bit_rate;  // transparent for speech and system sounds at 48 kHz stereo
};
constexpr Codec codecs[] = {{"aac", "aac", 160'000}, {"opus", "libopus", 128'000}};

[[noreturn]] void unavailable(const std::string& what) {
    throw Error(ErrorCode::encoder_unavailable, what);
}

// Silence is written in blocks of 100 ms.
constexpr int64_t silence_block = audio_rate / 10;

}  // namespace

AudioEncoder::AudioEncoder(const std::string& name)
    : frame_(av_frame_alloc()), convert_(av_frame_alloc()), packet_(av_packet_alloc()) {
    const Codec* choice = nullptr;
    for (const auto& c : codecs)
        if (name == c.name) choice = &c;
    if (!choice) unavailable("audio codec must be aac or opus, got \"" + name + "\"");
    const AVCodec* codec = avcodec_find_encoder_by_name(choice->encoder);
    if (!codec) unavailable(fmt::format("{} is not in this FFmpeg build", choice->encoder));
    codec_.reset(avcodec_alloc_context3(codec));
    auto& c = *codec_;
    c.sample_rate = audio_rate;
    av_channel_layout_default(&c.ch_layout, audio_channels);
    c.sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    c.bit_rate = choice->bit_rate;
    c.time_base = {1, audio_rate};
    c.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int err = avcodec_open2(&c, codec, nullptr); err < 0)
        unavailable(fmt::format("{}: cannot open: {}", choice->encoder, av_error_text(err)));

    SwrContext* swr = nullptr;
    swr_alloc_set_opts2(&swr, &c.ch_layout, c.sample_fmt, audio_rate, &c.ch_layout,
                        AV_SAMPLE_FMT_FLT, audio_rate, 0, nullptr);
    swr_.reset(swr);
    if (!swr_ || swr_init(swr_.get()) < 0) unavailable("cannot set up audio conversion");
    fifo_.reset(av_audio_fifo_alloc(c.sample_fmt, audio_channels, audio_rate / 10));
}

bool AudioEncoder::write(const float* samples, int64_t frames, int compensation,
                         const PacketSink& sink) {
    static const std::vector<float> silence(silence_block * audio_channels);
    for (int64_t done = 0; done < frames;) {
        // Silence is converted from a fixed block of zeros, one block at a time.
        const int n = static_cast<int>(samples ? frames : std::min(frames - done, silence_block));
        const auto* in = reinterpret_cast<const uint8_t*>(samples ? samples : silence.data());
        // At most 2 % of this block (the drift controller never asks more than 1 %): a stretch
        // near the block's own length would stop swresample's resampler (a division by zero).
        const int limit = n / 50;
        if (const int c = std::clamp(std::exchange(compensation, 0), -limit, limit); c != 0)
            swr_set_compensation(swr_.get(), c, n);
        const int capacity = swr_get_out_samples(swr_.get(), n);
        if (!reserve(convert_, capacity)) return false;
        const int out = swr_convert(swr_.get(), convert_->data, capacity, &in, n);
        if (out < 0) {
            error_ = "audio conversion failed: " + av_error_text(out);
            return false;
        }
        av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_->data), out);
        converted_ += out;
        done += n;
        if (!drain(false, sink)) return false;
    }
    return true;
}

// Makes `frame` a writable buffer of at least `samples` in the codec's format, reusing it when
// it is big enough and nobody else holds it.
bool AudioEncoder::reserve(FramePtr& frame, int samples) {
    if (frame->buf[0] && frame->nb_samples >= samples && av_frame_make_writable(frame.get()) >= 0)
        return true;
    av_frame_unref(frame.get());
    frame->nb_samples = samples;
    frame->format = codec_->sample_fmt;
    av_channel_layout_copy(&frame->ch_layout, &codec_->ch_layout);
    if (av_frame_get_buffer(frame.get(), 0) < 0) {
        error_ = "out of memory for audio";
        return false;
    }
    return true;
}

double AudioEncoder::position() const {
    return static_cast<double>(converted_) +
           static_cast<double>(swr_get_delay(swr_.get(), audio_rate));
}

// Sends whole codec frames from the FIFO; at the end also the short last one.
bool AudioEncoder::drain(bool final, const PacketSink& sink) {
    const int frame_size = codec_->frame_size > 0 ? codec_->frame_size : 1024;
    while (av_audio_fifo_size(fifo_.get()) >= frame_size ||
           (final && av_audio_fifo_size(fifo_.get()) > 0)) {
        const int n = std::min(frame_size, av_audio_fifo_size(fifo_.get()));
        if (!reserve(frame_, frame_size)) return false;
        frame_->nb_samples = n;
        av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(frame_->data), n);
        frame_->pts = next_pts_;
        next_pts_ += n;
        if (!send(frame_.get(), sink)) return false;
    }
    return true;
}

bool AudioEncoder::flush(const PacketSink& sink) {
    return drain(true, sink) && send(nullptr, sink);
}

bool AudioEncoder::send(const AVFrame* frame, const PacketSink& sink) {
    if (int err = avcodec_send_frame(codec_.get(), frame); err < 0) {
        error_ = "audio encoder refused a frame: " + av_error_text(err);
        return false;
    }
    for (;;) {
        int err = avcodec_receive_packet(codec_.get(), packet_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return true;
        if (err < 0) {
            error_ = "audio encoder failed: " + av_error_text(err);
            return false;
        }
        const bool written = sink(*packet_);
        av_packet_unref(packet_.get());
        if (!written) return false;
    }
}

}  // namespace rec
