#include "video_encoder.hpp"

#include <fmt/format.h>

#include <cmath>

#include "../../common/error.hpp"

extern "C" {
#include <libavutil/opt.h>
}

namespace rec {
namespace {

[[noreturn]] void unavailable(const std::string& what, int err) {
    throw Error(ErrorCode::encoder_unavailable, fmt::format("x264: {}: {}", what, av_error_text(err)));
}

}  // namespace

VideoEncoder::VideoEncoder(const VideoEncoderSettings& s)
    : packet_(av_packet_alloc()),
      keyframe_slots_(std::max<int64_t>(1, std::llround(s.keyframe_seconds * s.fps))) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) throw Error(ErrorCode::encoder_unavailable, "libx264 is not in this FFmpeg build");
    codec_.reset(avcodec_alloc_context3(codec));
    auto& c = *codec_;
    c.width = s.width;
    c.height = s.height;
    c.pix_fmt = AV_PIX_FMT_YUV420P;
    c.time_base = {1, s.fps};
    c.framerate = {s.fps, 1};
    c.gop_size = static_cast<int>(keyframe_slots_);
    // Screen pixels are sRGB; converted with BT.709 coefficients into limited range.
    c.colorspace = AVCOL_SPC_BT709;
    c.color_primaries = AVCOL_PRI_BT709;
    c.color_trc = AVCOL_TRC_IEC61966_2_1;
    c.color_range = AVCOL_RANGE_MPEG;
    c.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // Matroska and MP4 keep SPS/PPS in the header
    av_opt_set(c.priv_data, "preset", s.preset.c_str(), 0);
    av_opt_set_int(c.priv_data, "crf", s.crf, 0);
    av_opt_set_int(c.priv_data, "forced-idr", 1, 0);  // a forced keyframe is a real IDR
    if (int err = avcodec_open2(&c, codec, nullptr); err < 0) unavailable("cannot open", err);

    sws_.reset(sws_getContext(s.width, s.height, s.input, s.width, s.height, AV_PIX_FMT_YUV420P,
                              SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!sws_) unavailable("no colour conversion from the capture format", AVERROR(EINVAL));
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1,
                             sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
    yuv_.reset(av_frame_alloc());
    yuv_->format = AV_PIX_FMT_YUV420P;
    yuv_->width = s.width;
    yuv_->height = s.height;
    if (int err = av_frame_get_buffer(yuv_.get(), 0); err < 0) unavailable("frame buffer", err);
}

bool VideoEncoder::convert(const AVFrame& picture) {
    // The encoder may still hold the previous picture: write into a fresh buffer if so.
    if (int err = av_frame_make_writable(yuv_.get()); err < 0) {
        error_ = "frame buffer: " + av_error_text(err);
        return false;
    }
    sws_scale(sws_.get(), picture.data, picture.linesize, 0, picture.height, yuv_->data,
              yuv_->linesize);
    return true;
}

bool VideoEncoder::encode(const AVFrame* picture, int64_t pts, const PacketSink& sink) {
    if (picture && !convert(*picture)) return false;
    const bool key = last_keyframe_ < 0 || pts - last_keyframe_ >= keyframe_slots_;
    if (key) last_keyframe_ = pts;
    yuv_->pts = pts;
    yuv_->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    return send(yuv_.get(), sink);
}

bool VideoEncoder::flush(const PacketSink& sink) { return send(nullptr, sink); }

// One send, then every packet it released. The encoder's own keyframes (gop_size) also count
// for the keyframe clock, so a forced one never follows a natural one closely.
bool VideoEncoder::send(const AVFrame* frame, const PacketSink& sink) {
    if (int err = avcodec_send_frame(codec_.get(), frame); err < 0) {
        error_ = "x264 refused a frame: " + av_error_text(err);
        return false;
    }
    for (;;) {
        int err = avcodec_receive_packet(codec_.get(), packet_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return true;
        if (err < 0) {
            error_ = "x264 failed: " + av_error_text(err);
            return false;
        }
        if (packet_->flags & AV_PKT_FLAG_KEY) last_keyframe_ = std::max(last_keyframe_, packet_->pts);
        const bool written = sink(*packet_);
        av_packet_unref(packet_.get());
        if (!written) return false;
    }
}

}  // namespace rec
