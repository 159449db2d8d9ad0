#pragma once
// H.264 through libx264 (libavcodec's send/receive API), with the colour conversion from the
// capture's BGR0 to 4:2:0. Built on a worker thread when a session starts, then used only by
// the session's venc thread.
#include <functional>
#include <string>

#include "../media/av_ptr.hpp"

namespace rec {

struct VideoEncoderSettings {
    int width = 0, height = 0, fps = 30;
    AVPixelFormat input = AV_PIX_FMT_BGR0;
    std::string preset = "superfast";
    int crf = 23;
    double keyframe_seconds = 2.0;
};

// Receives every packet the encoder produces, in order; returns false if it could not be
// written (the session then stops).
using PacketSink = std::function<bool(AVPacket&)>;

class VideoEncoder {
public:
    // Opens the encoder at the session's real size. Throws rec::Error(ENCODER_UNAVAILABLE).
    explicit VideoEncoder(const VideoEncoderSettings& settings);

    const AVCodecContext& context() const { return *codec_; }
    std::string name() const { return "x264"; }

    // Encodes `picture` (nullptr: the previous picture again) into slot `pts` (1/fps units).
    // Returns false if encoding or the sink failed; error() says why.
    bool encode(const AVFrame* picture, int64_t pts, const PacketSink& sink);
    // Drains the encoder's delayed frames at the end of the recording.
    bool flush(const PacketSink& sink);
    const std::string& error() const { return error_; }

private:
    bool convert(const AVFrame& picture);
    bool send(const AVFrame* frame, const PacketSink& sink);

    CodecContextPtr codec_;
    SwsContextPtr sws_;
    FramePtr yuv_;   // the last converted picture, repeated for empty slots
    PacketPtr packet_;
    int64_t keyframe_slots_;  // keyframe_seconds in slots
    int64_t last_keyframe_ = -1;
    std::string error_;
};

}  // namespace rec
