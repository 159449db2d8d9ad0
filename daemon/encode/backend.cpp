#include "backend.hpp"

namespace rec {
namespace {

constexpr int64_t full_hd_30 = 1920 * 1080 * 30;

// x264: the preset sets the CPU cost, CRF the quality. Screen content compresses well even at
// the fast presets; "medium" is what a 2-core VM sustains at 1080p30 with room to spare.
// "zerolatency" for low and medium: one frame cut into slices across threads, instead of several
// frames in flight, and no B-frames. At 1080p (Debian 12's x264) it cost 6-12 % less CPU with
// ultrafast on perf.sh's moving pattern and a quarter less with ultrafast and superfast on
// ffmpeg's testsrc2, for files within 1 % of the size (ultrafast has no B-frames; superfast's
// gain little there); high keeps frame threads and B-frames, without which veryfast's files grew
// by 70 %. It also holds fewer frames: peak RSS at 1080p went from 115 to 86 MB.
// Their slices go to one thread per 1080p30 (62 Mpixel/s), which costs ultrafast 4.3 ms and
// superfast 7 ms a 1080p frame of perf.sh's pattern on a 2-core VM, a fifth of a core at most:
// one slice on one thread took 8-10 % less CPU than x264's own choice (as many as the cores) at
// 1080p30 and made 15 % smaller files of the same PSNR; larger screens or rates get more.
// NVENC: p1 (fastest) .. p7 (best); constant-quality VBR with CQ, low-latency tuning so no
// frames are held back (B-frames off).
const Backend table[] = {
    {"x264",
     "h264",
     "libx264",
     AV_PIX_FMT_YUV420P,
     "crf",
     {{{{"preset", "ultrafast"}, {"tune", "zerolatency"}, {"crf", "28"}},
       {{"preset", "superfast"}, {"tune", "zerolatency"}, {"crf", "23"}},
       {{"preset", "veryfast"}, {"crf", "19"}}}},
     {full_hd_30, full_hd_30, 0}},
    {"nvenc",
     "h264",
     "h264_nvenc",
     AV_PIX_FMT_BGR0,
     "cq",
     {{{{"preset", "p1"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "30"}},
       {{"preset", "p4"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "25"}},
       {{"preset", "p6"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "20"}}}},
     {0, 0, 0}},
    {"nvenc",
     "hevc",
     "hevc_nvenc",
     AV_PIX_FMT_BGR0,
     "cq",
     {{{{"preset", "p1"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "32"}},
       {{"preset", "p4"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "27"}},
       {{"preset", "p6"}, {"tune", "ll"}, {"rc", "vbr"}, {"cq", "22"}}}},
     {0, 0, 0}},
};

}  // namespace

std::optional<Quality> parse_quality(std::string_view text) {
    if (text == "low") return Quality::low;
    if (text == "medium") return Quality::medium;
    if (text == "high") return Quality::high;
    return std::nullopt;
}

std::span<const Backend> backends() { return table; }

const Backend* find_backend(std::string_view family, std::string_view codec) {
    for (const auto& b : table)
        if (family == b.family && codec == b.codec) return &b;
    return nullptr;
}

}  // namespace rec
