#pragma once
// Choosing a video encoder by doing (Sunshine's validate_encoder): open each preferred backend
// at the session's real size and encode one frame; the first that works records. Runs on a
// worker thread (session start, `recctl encoders`).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../common/ipc/protocol.hpp"
#include "video_encoder.hpp"

namespace rec {

// Routes FFmpeg's log through spdlog. Called once by main before any thread starts.
void install_ffmpeg_log();
// Runs `fn` with the FFmpeg messages it logs on this thread collected into `log`.
int capture_ffmpeg_log(const std::function<int()>& fn, std::string& log);
// Why avcodec_open2 failed, in a user's words: "no NVIDIA driver (Cannot load libcuda.so.1)".
std::string explain_open_failure(int err, const std::string& log);

struct EncoderChoice {
    std::unique_ptr<VideoEncoder> encoder;
    std::string fallback_reason;  // why the preferred backends were passed over; empty if none
};

// Tries `preference` (families, e.g. {"nvenc", "x264"}) for `codec` in order; unless `strict`,
// x264 (H.264) comes last in any case, since it always works. Throws
// rec::Error(ENCODER_UNAVAILABLE) with every reason when none works.
EncoderChoice choose_encoder(const std::vector<std::string>& preference, const std::string& codec,
                             bool strict, const VideoEncoderSettings& settings);

// Every backend with "available" and, if not, "reason", probed at 1280x720.
ipc::Json list_encoders();

}  // namespace rec
