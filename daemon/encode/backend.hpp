#pragma once
// Video encoder backends as data (DESIGN.md section 5): which FFmpeg encoder, what pixel format
// it is fed, and its options at each quality level. VideoEncoder opens any entry the same way.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/pixfmt.h>
}

namespace rec {

enum class Quality { low, medium, high };
std::optional<Quality> parse_quality(std::string_view text);

using Options = std::vector<std::pair<const char*, const char*>>;

struct Backend {
    const char* family;   // as named in config and requests: "x264", "nvenc"
    const char* codec;    // "h264" or "hevc"
    const char* encoder;  // FFmpeg's encoder
    // What the encoder is given. NVENC takes the capture's BGR0 as it is (the GPU converts);
    // x264 needs 4:2:0, converted on the CPU.
    AVPixelFormat input;
    const char* quality_option;      // the constant-quality knob a `crf` setting overrides
    std::array<Options, 3> options;  // per Quality
    // Per Quality: the pixels a second one encoder thread is given (the encoder gets one thread
    // per that many, at most one per core); 0: the encoder chooses.
    std::array<int64_t, 3> pixels_per_thread;
};

// Every backend, in no particular order.
std::span<const Backend> backends();
// The backend of `family` for `codec`, if there is one (x264 only does h264).
const Backend* find_backend(std::string_view family, std::string_view codec);

}  // namespace rec
