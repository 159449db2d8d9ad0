#include "video_check.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <sstream>

namespace rec::test {

namespace {

struct FormatCloser {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFreer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};

std::string av_error(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof(text));
    return text;
}

// The decoder reports concealed errors only through av_log; while a check runs, error-level
// messages are counted into its report. One check at a time (tests are single-threaded).
std::mutex log_mutex;
VideoReport* log_target = nullptr;

void count_errors(void* avcl, int level, const char* fmt, va_list args) {
    if (level > AV_LOG_ERROR || !log_target) return;
    char line[512];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, args, line, sizeof(line), &prefix);
    ++log_target->decode_errors;
    if (log_target->decoder_log.size() < 5) log_target->decoder_log.emplace_back(line);
}

// Sends one packet (nullptr: flush) and drains the frames it releases.
void decode(AVCodecContext* codec, const AVPacket* packet, AVFrame* frame, VideoReport& report) {
    if (int rc = avcodec_send_packet(codec, packet); rc < 0 && rc != AVERROR_EOF) {
        ++report.decode_errors;
        report.decoder_log.push_back("send_packet: " + av_error(rc));
    }
    for (;;) {
        int rc = avcodec_receive_frame(codec, frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
        if (rc < 0) {
            ++report.decode_errors;
            report.decoder_log.push_back("receive_frame: " + av_error(rc));
            return;
        }
        ++report.decoded_frames;
        if (frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT) ||
            frame->width != report.width || frame->height != report.height) {
            ++report.decode_errors;
        }
        report.frame_pts.push_back(frame->best_effort_timestamp);
        av_frame_unref(frame);
    }
}

void read_packets(AVFormatContext* format, int stream_index, AVCodecContext* codec,
                  VideoReport& report) {
    const AVRational tb = format->streams[stream_index]->time_base;
    std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
    int64_t last_dts = AV_NOPTS_VALUE;
    int64_t last_key_pts = AV_NOPTS_VALUE;
    report.dts_strictly_increasing = true;
    while (av_read_frame(format, packet.get()) >= 0) {
        if (packet->stream_index == stream_index) {
            if (report.packet_pts.empty()) {
                report.starts_with_keyframe = packet->flags & AV_PKT_FLAG_KEY;
            }
            report.packet_pts.push_back(packet->pts);
            // Matroska stores no dts: libavformat derives them and leaves the first few unset
            // when there are B-frames, so only the known ones are compared.
            if (packet->dts != AV_NOPTS_VALUE) {
                if (last_dts != AV_NOPTS_VALUE && packet->dts <= last_dts) {
                    report.dts_strictly_increasing = false;
                }
                last_dts = packet->dts;
            }
            if (packet->flags & AV_PKT_FLAG_KEY) {
                ++report.keyframes;
                if (last_key_pts != AV_NOPTS_VALUE) {
                    report.max_keyframe_gap = std::max(report.max_keyframe_gap,
                                                       (packet->pts - last_key_pts) * av_q2d(tb));
                }
                last_key_pts = packet->pts;
                report.last_keyframe_pts = packet->pts;
            }
            decode(codec, packet.get(), frame.get(), report);
        }
        av_packet_unref(packet.get());
    }
    decode(codec, nullptr, frame.get(), report);
}

// Timestamps of the decoded frames: order, CFR steps, duration.
void analyse_frame_pts(VideoReport& report) {
    const double tb = static_cast<double>(report.time_base_num) / report.time_base_den;
    const auto& pts = report.frame_pts;
    report.pts_strictly_increasing = !pts.empty();
    const double step = report.frame_rate > 0 ? 1.0 / report.frame_rate : 0;
    for (size_t i = 1; i < pts.size(); ++i) {
        if (pts[i] == AV_NOPTS_VALUE || pts[i] <= pts[i - 1])
            report.pts_strictly_increasing = false;
        report.max_step_error =
            std::max(report.max_step_error, std::abs((pts[i] - pts[i - 1]) * tb - step));
    }
    if (pts.empty()) return;
    report.duration = (pts.back() - pts.front()) * tb + step;
    report.trailing_keyframe_gap = (pts.back() - report.last_keyframe_pts) * tb + step;
}

void inspect(AVFormatContext* format, VideoReport& report) {
    report.container = format->iformat->name;
    if (format->duration != AV_NOPTS_VALUE) {
        report.container_duration = format->duration / static_cast<double>(AV_TIME_BASE);
    }
    report.duration_in_header = format->duration != AV_NOPTS_VALUE &&
                                format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE;
    const AVCodec* decoder = nullptr;
    int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (index < 0 || !decoder) {
        report.error = "no decodable video stream: " + av_error(index);
        return;
    }
    const AVStream* stream = format->streams[index];
    report.codec = avcodec_get_name(stream->codecpar->codec_id);
    report.width = stream->codecpar->width;
    report.height = stream->codecpar->height;
    report.frame_rate = av_q2d(stream->r_frame_rate);
    report.time_base_num = stream->time_base.num;
    report.time_base_den = stream->time_base.den;

    std::unique_ptr<AVCodecContext, CodecFreer> codec(avcodec_alloc_context3(decoder));
    avcodec_parameters_to_context(codec.get(), stream->codecpar);
    codec->thread_count = 1;  // several tests decode at once on two cores
    if (int rc = avcodec_open2(codec.get(), decoder, nullptr); rc < 0) {
        report.error = "cannot open decoder: " + av_error(rc);
        return;
    }
    read_packets(format, index, codec.get(), report);
    analyse_frame_pts(report);
}

}  // namespace

VideoReport check_video(const std::filesystem::path& file) {
    VideoReport report;
    AVFormatContext* raw = nullptr;
    if (int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr); rc < 0) {
        report.error = "cannot open " + file.string() + ": " + av_error(rc);
        return report;
    }
    std::unique_ptr<AVFormatContext, FormatCloser> format(raw);
    std::lock_guard lock(log_mutex);
    log_target = &report;
    av_log_set_callback(count_errors);
    if (int rc = avformat_find_stream_info(format.get(), nullptr); rc < 0) {
        report.error = "cannot read stream info: " + av_error(rc);
    } else {
        inspect(format.get(), report);
    }
    av_log_set_callback(av_log_default_callback);
    log_target = nullptr;
    return report;
}

std::string VideoReport::summary() const {
    std::ostringstream s;
    if (!error.empty()) s << "error: " << error << "\n";
    s << container << " " << codec << " " << width << "x" << height << " @ " << frame_rate
      << " fps, time base " << time_base_num << "/" << time_base_den << "\n"
      << packets() << " packets, " << decoded_frames << " frames decoded, " << decode_errors
      << " decode errors, " << keyframes << " keyframes (max gap " << max_keyframe_gap
      << " s, to the end " << trailing_keyframe_gap
      << " s, first packet key: " << starts_with_keyframe << ")\n"
      << "duration " << duration << " s from timestamps, " << container_duration
      << " s in header (finalized: " << duration_in_header << ")\n"
      << "dts increasing: " << dts_strictly_increasing
      << ", pts increasing: " << pts_strictly_increasing << ", max step error " << max_step_error
      << " s\n";
    for (const auto& line : decoder_log) s << "decoder: " << line;
    if (!frame_pts.empty()) {
        s << "first pts:";
        for (size_t i = 0; i < std::min<size_t>(frame_pts.size(), 8); ++i) s << " " << frame_pts[i];
        s << " ... last " << frame_pts.back() << "\n";
    }
    return s.str();
}

}  // namespace rec::test
