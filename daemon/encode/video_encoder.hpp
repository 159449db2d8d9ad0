#pragma once
// One video encoder of any backend (backend.hpp) through libavcodec's send/receive API, with
// the conversion the backend needs: none for NVENC (BGR0 straight in), BGR0 -> 4:2:0 for x264
// (also BGRA, RGB24 or NV12 from a shared-memory source; its I420 goes in as it is),
// and scaling (aspect kept, letterboxed) when the output size differs from the capture's, which
// may change from one picture to the next (a resized screen).
// Built on a worker thread when a session starts, then used only by the session's venc thread.
#include <functional>
#include <optional>
#include <string>

#include "../media/av_ptr.hpp"
#include "backend.hpp"

namespace rec {

struct VideoEncoderSettings {
    int width = 0, height = 0;          // the capture's size
    int out_width = 0, out_height = 0;  // the file's size; 0: the capture's
    int fps = 30;
    // The encoder's time base is 1/(fps x ticks_per_frame): 1 at a constant rate (a pts is a
    // slot), finer at a variable one (a pts is the capture's own time; Session).
    int ticks_per_frame = 1;
    AVPixelFormat input = AV_PIX_FMT_BGR0;
    Quality quality = Quality::medium;
    std::optional<int> crf;  // overrides the quality level's CRF (x264) or CQ (NVENC)
    int bitrate_kbps = 0;    // > 0: this average bit rate instead of constant quality
    double keyframe_seconds = 2.0;
};

// Receives every packet the encoder produces, in order; returns false if it could not be
// written (the session then stops).
using PacketSink = std::function<bool(AVPacket&)>;

class VideoEncoder {
public:
    // Opens the backend's encoder. Throws rec::Error(ENCODER_UNAVAILABLE) with FFmpeg's reason.
    VideoEncoder(const Backend& backend, const VideoEncoderSettings& settings);

    const AVCodecContext& context() const { return *codec_; }
    const Backend& backend() const { return backend_; }

    // Encodes `picture` (nullptr: the previous picture again) at `pts` (in the time base).
    // Returns false if encoding or the sink failed; error() says why.
    bool encode(const AVFrame* picture, int64_t pts, const PacketSink& sink);
    // The next frame encoded is a keyframe (a new segment starts there).
    void request_keyframe() { keyframe_requested_ = true; }
    // Whether a frame at `pts` would be a keyframe (requested, or keyframe_seconds since the
    // last).
    bool keyframe_due(int64_t pts) const {
        return keyframe_requested_ || last_keyframe_ < 0 || pts - last_keyframe_ >= keyframe_ticks_;
    }
    // Drains the encoder's delayed frames at the end of the recording.
    bool flush(const PacketSink& sink);
    const std::string& error() const { return error_; }

private:
    void open(const VideoEncoderSettings& s);
    void set_up_conversion(AVPixelFormat format, int width, int height);
    bool prepare_converted();
    bool convert(const AVFrame& picture);
    bool send(const AVFrame* frame, const PacketSink& sink);

    const Backend& backend_;
    CodecContextPtr codec_;
    AVPixelFormat input_format_ = AV_PIX_FMT_NONE;  // the capture's
    int input_width_ = 0, input_height_ = 0;        // the capture's size the conversion is for
    // How the capture becomes the encoder's input: as it is, bgrx_to_i420 (BGR0 at the file's size
    // into I420), or swscale (anything else; sws_ is set only then).
    enum class Conversion { none, bgrx, swscale } conversion_ = Conversion::none;
    SwsContextPtr sws_;
    int scaled_width_ = 0, scaled_height_ = 0, x_ = 0, y_ = 0;  // the picture inside the frame
    FramePtr converted_;                                        // conversion target, reused
    FramePtr scaled_;  // letterboxing only: the scaled picture before it is centred
    FramePtr last_;    // the last picture sent, repeated for empty slots
    PacketPtr packet_;
    int64_t keyframe_ticks_;  // keyframe_seconds in the time base
    int64_t last_keyframe_ = -1;
    bool keyframe_requested_ = false;
    std::string error_;
};

}  // namespace rec
