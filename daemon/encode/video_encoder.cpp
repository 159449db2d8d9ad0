#include "video_encoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "../../common/error.hpp"
#include "../fault.hpp"
#include "../media/bgrx_to_i420.hpp"
#include "probe.hpp"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

namespace rec {

VideoEncoder::VideoEncoder(const Backend& backend, const VideoEncoderSettings& s)
    : backend_(backend),
      packet_(av_packet_alloc()),
      keyframe_ticks_(
          std::max<int64_t>(1, std::llround(s.keyframe_seconds * s.fps) * s.ticks_per_frame)) {
    open(s);
    set_up_conversion(s.input, s.width, s.height);
}

void VideoEncoder::open(const VideoEncoderSettings& s) {
    const AVCodec* codec = avcodec_find_encoder_by_name(backend_.encoder);
    if (!codec)
        throw Error(ErrorCode::encoder_unavailable,
                    fmt::format("{}: not in this FFmpeg build", backend_.encoder));
    codec_.reset(avcodec_alloc_context3(codec));
    auto& c = *codec_;
    c.width = s.out_width ? s.out_width : s.width;
    c.height = s.out_height ? s.out_height : s.height;
    c.pix_fmt = backend_.input;
    c.time_base = {1, s.fps * s.ticks_per_frame};
    c.framerate = {s.fps, 1};
    c.gop_size = static_cast<int>(keyframe_ticks_ / s.ticks_per_frame);
    // Screen pixels are sRGB; 4:2:0 is produced with BT.601 coefficients in limited range (what
    // bgrx_to_i420 gives; swscale is told the same).
    c.colorspace = AVCOL_SPC_SMPTE170M;
    c.color_primaries = AVCOL_PRI_BT709;
    c.color_trc = AVCOL_TRC_IEC61966_2_1;
    c.color_range = AVCOL_RANGE_MPEG;
    c.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // Matroska and MP4 keep SPS/PPS in the header
    for (const auto& [key, value] : backend_.options[static_cast<int>(s.quality)])
        av_opt_set(c.priv_data, key, value, 0);
    if (s.crf) av_opt_set_int(c.priv_data, backend_.quality_option, *s.crf, 0);
    if (s.bitrate_kbps > 0) {
        c.bit_rate = s.bitrate_kbps * 1000LL;
        av_opt_set(c.priv_data, backend_.quality_option, "0", 0);  // no constant quality
    }
    if (const int64_t per_thread = backend_.pixels_per_thread[static_cast<int>(s.quality)]) {
        const int64_t load = int64_t{c.width} * c.height * s.fps;
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        c.thread_count =
            static_cast<int>(std::clamp<int64_t>((load + per_thread - 1) / per_thread, 1, cores));
    }
    av_opt_set_int(c.priv_data, "forced-idr", 1, 0);  // a forced keyframe is a real IDR
    std::string log;
    const int err = capture_ffmpeg_log([&] { return avcodec_open2(&c, codec, nullptr); }, log);
    if (err < 0)
        throw Error(ErrorCode::encoder_unavailable,
                    fmt::format("{}: {}", backend_.encoder, explain_open_failure(err, log)));
}

// Fits a capture of width x height into the output size, aspect kept, centred (even offsets for
// 4:2:0). Called when the encoder opens and again when the capture's size or format changes
// (the screen was resized; the source converts for the encoder from its first grab,
// ScreenSource::prefer_format): the frame starts over black, so no border keeps a piece of the
// old picture.
void VideoEncoder::set_up_conversion(AVPixelFormat format, int width, int height) {
    input_format_ = format;
    input_width_ = width;
    input_height_ = height;
    sws_.reset();
    scaled_.reset();
    converted_.reset();
    const int out_w = codec_->width, out_h = codec_->height;
    const double scale =
        std::min(static_cast<double>(out_w) / width, static_cast<double>(out_h) / height);
    scaled_width_ = std::min(out_w, static_cast<int>(std::lround(width * scale)) & ~1);
    scaled_height_ = std::min(out_h, static_cast<int>(std::lround(height * scale)) & ~1);
    x_ = (out_w - scaled_width_) / 2 & ~1;
    y_ = (out_h - scaled_height_) / 2 & ~1;
    conversion_ = Conversion::none;
    if (input_format_ == backend_.input && width == out_w && height == out_h) return;
    converted_.reset(av_frame_alloc());
    // The common case, a screen at the file's size into I420: bgrx_to_i420, 0.7 ms a 1080p frame
    // against swscale's 3.6.
    if ((input_format_ == AV_PIX_FMT_BGR0 || input_format_ == AV_PIX_FMT_BGRA) &&
        backend_.input == AV_PIX_FMT_YUV420P && width == out_w && height == out_h) {
        conversion_ = Conversion::bgrx;
        return;
    }
    conversion_ = Conversion::swscale;
    sws_.reset(sws_getContext(width, height, input_format_, scaled_width_, scaled_height_,
                              backend_.input, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!sws_)
        throw Error(ErrorCode::encoder_unavailable,
                    fmt::format("{}: no conversion from the capture's format", backend_.encoder));
    // RGB captures are full range. YUV from a shared-memory producer (a camera's NV12) is taken
    // as what the file says it is, BT.601 video range, so converting it only moves its chroma
    // samples (swscale would otherwise change its matrix and levels): I420 is not converted.
    const auto* input = av_pix_fmt_desc_get(input_format_);
    const bool rgb = input && (input->flags & AV_PIX_FMT_FLAG_RGB);
    const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
    sws_setColorspaceDetails(sws_.get(), bt601, rgb ? 1 : 0, bt601, 0, 0, 1 << 16, 1 << 16);
    if (scaled_width_ == out_w && scaled_height_ == out_h) return;
    scaled_.reset(av_frame_alloc());
    scaled_->format = backend_.input;
    scaled_->width = scaled_width_;
    scaled_->height = scaled_height_;
    if (av_frame_get_buffer(scaled_.get(), 0) < 0)
        throw Error(ErrorCode::encoder_unavailable, "out of memory for a video frame");
}

// The conversion target: reused while nobody else holds it, else replaced (never copied).
// A new buffer starts black, which is the letterbox border.
bool VideoEncoder::prepare_converted() {
    if (converted_->buf[0] && av_frame_is_writable(converted_.get())) return true;
    const int width = codec_->width, height = codec_->height;
    av_frame_unref(converted_.get());
    converted_->format = backend_.input;
    converted_->width = width;
    converted_->height = height;
    if (int err = av_frame_get_buffer(converted_.get(), 0); err < 0) {
        error_ = "out of memory for a video frame: " + av_error_text(err);
        return false;
    }
    ptrdiff_t linesizes[4];
    for (int i = 0; i < 4; ++i) linesizes[i] = converted_->linesize[i];
    av_image_fill_black(converted_->data, linesizes, backend_.input, AVCOL_RANGE_MPEG, width,
                        height);
    return true;
}

// Converts (and scales) the capture into the output frame. When letterboxing, swscale writes
// a picture of its own size (it may write past the width it is given, which would smear the
// border), copied into the middle of the black frame.
bool VideoEncoder::convert(const AVFrame& picture) {
    if (!prepare_converted()) return false;
    AVFrame* out = converted_.get();
    if (conversion_ == Conversion::bgrx) {
        bgrx_to_i420(picture.data[0], picture.linesize[0], out->data, out->linesize, picture.width,
                     picture.height);
        return true;
    }
    if (!scaled_) {
        sws_scale(sws_.get(), picture.data, picture.linesize, 0, picture.height, out->data,
                  out->linesize);
        return true;
    }
    sws_scale(sws_.get(), picture.data, picture.linesize, 0, picture.height, scaled_->data,
              scaled_->linesize);
    const auto* desc = av_pix_fmt_desc_get(backend_.input);
    for (int plane = 0; plane < 4 && out->data[plane]; ++plane) {
        const bool chroma = plane == 1 || plane == 2;
        const int shift_h = chroma ? desc->log2_chroma_h : 0;
        const int bytes = av_image_get_linesize(backend_.input, scaled_width_, plane);
        const int offset = av_image_get_linesize(backend_.input, x_, plane);
        for (int row = 0; row < (scaled_height_ >> shift_h); ++row)
            std::memcpy(out->data[plane] + ((y_ >> shift_h) + row) * out->linesize[plane] + offset,
                        scaled_->data[plane] + row * scaled_->linesize[plane], bytes);
    }
    return true;
}

bool VideoEncoder::encode(const AVFrame* picture, int64_t pts, const PacketSink& sink) {
    if (fault::hit("video_encoder")) {
        error_ = fmt::format("{} failed: fault injected by RECD_FAULT", backend_.encoder);
        return false;
    }
    // What an unexpected exception here (std::bad_alloc, a bug) does, on cue for the tests.
    if (fault::hit("video_encode_throw"))
        throw std::runtime_error(backend_.encoder +
                                 std::string(" threw: fault injected by RECD_FAULT"));
    if (picture) {
        last_.reset();  // lets convert() reuse its buffer
        const auto format = static_cast<AVPixelFormat>(picture->format);
        if (format != input_format_ || picture->width != input_width_ ||
            picture->height != input_height_) {
            try {
                set_up_conversion(format, picture->width, picture->height);
            } catch (const Error& e) {
                error_ = e.what();
                return false;
            }
        }
        const bool converting = conversion_ != Conversion::none;
        if (converting && !convert(*picture)) return false;
        last_.reset(av_frame_clone(converting ? converted_.get() : picture));
        if (!last_) {
            error_ = "out of memory for a video frame";
            return false;
        }
    }
    const bool key = keyframe_due(pts);
    if (key) last_keyframe_ = pts;
    keyframe_requested_ = false;
    last_->pts = pts;
    last_->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    return send(last_.get(), sink);
}

bool VideoEncoder::flush(const PacketSink& sink) { return send(nullptr, sink); }

// One send, then every packet it released. The encoder's own keyframes (gop_size) also count
// for the keyframe clock, so a forced one never follows a natural one closely.
bool VideoEncoder::send(const AVFrame* frame, const PacketSink& sink) {
    if (int err = avcodec_send_frame(codec_.get(), frame); err < 0) {
        error_ = fmt::format("{} refused a frame: {}", backend_.encoder, av_error_text(err));
        return false;
    }
    for (;;) {
        int err = avcodec_receive_packet(codec_.get(), packet_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return true;
        if (err < 0) {
            error_ = fmt::format("{} failed: {}", backend_.encoder, av_error_text(err));
            return false;
        }
        if (packet_->flags & AV_PKT_FLAG_KEY)
            last_keyframe_ = std::max(last_keyframe_, packet_->pts);
        const bool written = sink(*packet_);
        av_packet_unref(packet_.get());
        if (!written) return false;
    }
}

}  // namespace rec
