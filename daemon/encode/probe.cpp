#include "probe.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>

#include "../../common/error.hpp"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace rec {
namespace {

thread_local std::string* captured_log = nullptr;  // set while capture_ffmpeg_log runs

void log_callback(void* avcl, int level, const char* format, va_list args) {
    if (level > AV_LOG_WARNING && !captured_log) return;
    char line[1024];
    int print_prefix = 0;  // no "[h264_nvenc @ 0x...]": the caller names the encoder
    av_log_format_line2(avcl, level, format, args, line, sizeof line, &print_prefix);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (captured_log) {
        if (level <= AV_LOG_WARNING) *captured_log += (captured_log->empty() ? "" : "; ") + text;
        return;  // the caller reports it, in context
    }
    if (level <= AV_LOG_ERROR) spdlog::warn("ffmpeg: {}", text);
}

// A test frame for the probe: black, in the backend's input format.
FramePtr black_frame(const VideoEncoder& encoder) {
    FramePtr frame(av_frame_alloc());
    frame->format = encoder.context().pix_fmt;
    frame->width = encoder.context().width;
    frame->height = encoder.context().height;
    av_frame_get_buffer(frame.get(), 0);
    ptrdiff_t linesizes[4];
    for (int i = 0; i < 4; ++i) linesizes[i] = frame->linesize[i];
    av_image_fill_black(frame->data, linesizes, static_cast<AVPixelFormat>(frame->format),
                        AVCOL_RANGE_MPEG, frame->width, frame->height);
    return frame;
}

// Opens `backend` and encodes one frame (with the settings' size and options). Throws
// rec::Error(ENCODER_UNAVAILABLE) with the reason.
void probe(const Backend& backend, VideoEncoderSettings settings) {
    settings.input = backend.input;  // the probe feeds the encoder directly
    VideoEncoder encoder(backend, settings);
    auto frame = black_frame(encoder);
    const PacketSink discard = [](AVPacket&) { return true; };
    std::string log;
    bool ok = false;
    capture_ffmpeg_log(
        [&] {
            ok = encoder.encode(frame.get(), 0, discard) && encoder.flush(discard);
            return 0;
        },
        log);
    if (!ok)
        throw Error(ErrorCode::encoder_unavailable,
                    fmt::format("{}: {}", backend.encoder,
                                encoder.error() + (log.empty() ? "" : " (" + log + ")")));
}

}  // namespace

void install_ffmpeg_log() {
    av_log_set_level(AV_LOG_INFO);  // the callback filters; the level must let them through
    av_log_set_callback(&log_callback);
}

int capture_ffmpeg_log(const std::function<int()>& fn, std::string& log) {
    captured_log = &log;
    const int result = fn();
    captured_log = nullptr;
    return result;
}

std::string explain_open_failure(int err, const std::string& log) {
    const auto has = [&](const char* text) { return log.find(text) != std::string::npos; };
    std::string why;
    if (has("Cannot load libcuda") || has("Cannot load libnvidia-encode"))
        why = "no NVIDIA driver";
    else if (has("No capable devices") || has("no capable devices") || has("No NVENC capable"))
        why = "no capable device";
    else if (has("incompatible client key") || has("OpenEncodeSessionEx failed: out of memory"))
        why = "session limit reached (the GPU runs as many encodes as it allows)";
    else
        why = "rejected: " + av_error_text(err);
    return log.empty() ? why : fmt::format("{} ({})", why, log);
}

EncoderChoice choose_encoder(const std::vector<std::string>& preference, const std::string& codec,
                             bool strict, const VideoEncoderSettings& settings) {
    std::vector<std::string> order = preference;
    if (!strict && std::find(order.begin(), order.end(), "x264") == order.end())
        order.push_back("x264");
    std::string reasons;
    for (const auto& family : order) {
        // x264 records H.264 whatever codec was asked for: a playable file beats none.
        const Backend* backend = find_backend(family, family == "x264" ? "h264" : codec);
        try {
            if (!backend) throw Error(ErrorCode::encoder_unavailable, family + ": no " + codec);
            probe(*backend, settings);
            EncoderChoice choice{std::make_unique<VideoEncoder>(*backend, settings), reasons};
            if (!reasons.empty()) spdlog::warn("encoder {}; passed over: {}", family, reasons);
            return choice;
        } catch (const Error& e) {
            reasons += (reasons.empty() ? "" : "; ") + std::string(e.what());
            if (strict) break;
        }
    }
    throw Error(ErrorCode::encoder_unavailable, "no video encoder works: " + reasons);
}

ipc::Json list_encoders() {
    VideoEncoderSettings settings;
    settings.width = 1280;
    settings.height = 720;
    ipc::Json list = ipc::Json::array();
    for (const auto& backend : backends()) {
        ipc::Json entry = {{"name", backend.family},
                           {"codec", backend.codec},
                           {"ffmpeg", backend.encoder},
                           {"available", true}};
        try {
            probe(backend, settings);
        } catch (const Error& e) {
            entry["available"] = false;
            entry["reason"] = e.what();
        }
        list.push_back(entry);
    }
    return list;
}

}  // namespace rec
