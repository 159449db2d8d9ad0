// pattern_psnr FILE: how close a recording of test_pattern is to what the screen showed. Each
// decoded video frame is turned into RGB (with the colour matrix and range the file is tagged
// with; untagged is BT.601), its stamp tells which pattern frame it shows, and it is compared
// with that frame rendered again (pattern_scene). Prints one JSON object: frames decoded,
// frames stamped (compared), distinct pattern frames seen, and the PSNR in dB over all compared
// frames (from their mean squared error over R, G and B) and of the worst frame. For
// tests/bench/perf.sh, to show that a cheaper recorder did not buy its CPU with quality.
// Exit codes: 0 when frames were compared, 1 when the file cannot be read or has no stamped
// frame, 2 on bad usage.
extern "C" {
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media_read.hpp"
#include "pattern_scene.hpp"

namespace {

double psnr(double mse) { return mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : 100.0; }

// Decoded frames to packed RGB24, each compared with the pattern frame it is stamped with.
class Comparer {
public:
    Comparer() = default;
    Comparer(const Comparer&) = delete;
    Comparer& operator=(const Comparer&) = delete;
    ~Comparer() { sws_freeContext(sws_); }

    void add(const AVFrame& frame) {
        ++frames_;
        const int w = frame.width, h = frame.height;
        sws_ = sws_getCachedContext(sws_, w, h, static_cast<AVPixelFormat>(frame.format), w, h,
                                    AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
        sws_setColorspaceDetails(sws_, sws_getCoefficients(frame.colorspace),
                                 frame.color_range == AVCOL_RANGE_JPEG,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
        const int stride = w * 3;
        picture_.resize(static_cast<size_t>(stride) * h);
        reference_.resize(picture_.size());
        uint8_t* dst[] = {picture_.data()};
        const int dst_stride[] = {stride};
        sws_scale(sws_, frame.data, frame.linesize, 0, h, dst, dst_stride);
        const auto n = rec::pattern::read_stamp(picture_.data(), stride, w, h);
        if (!n) return;
        rec::pattern::render(*n, w, h, reference_.data(), stride);
        double sse = 0;
        for (size_t i = 0; i < picture_.size(); ++i) {
            const int d = picture_[i] - reference_[i];
            sse += d * d;
        }
        const double mse = sse / static_cast<double>(picture_.size());
        sum_mse_ += mse;
        worst_mse_ = std::max(worst_mse_, mse);
        shown_.push_back(*n);
    }

    bool compared() const { return !shown_.empty(); }

    nlohmann::json report() const {
        auto distinct = shown_;
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        const auto compared = static_cast<double>(shown_.size());
        return {{"frames", frames_},
                {"stamped", shown_.size()},
                {"distinct", distinct.size()},
                {"psnr_db", compared > 0 ? psnr(sum_mse_ / compared) : 0.0},
                {"worst_psnr_db", compared > 0 ? psnr(worst_mse_) : 0.0}};
    }

private:
    SwsContext* sws_ = nullptr;
    std::vector<uint8_t> picture_, reference_;
    int frames_ = 0;
    double sum_mse_ = 0, worst_mse_ = 0;
    std::vector<uint64_t> shown_;  // the pattern frame each compared frame showed
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::string(argv[1]).starts_with("-")) {
        std::cerr << "usage: pattern_psnr FILE\n";
        return 2;
    }
    std::string error;
    auto format = rec::media::open_input(argv[1], error);
    if (!format) {
        std::cerr << "pattern_psnr: " << argv[1] << ": " << error << "\n";
        return 1;
    }
    const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (video < 0) {
        std::cerr << "pattern_psnr: " << argv[1] << " has no video stream\n";
        return 1;
    }
    Comparer comparer;
    rec::media::StreamDecoder decoder(format.get(), video,
                                      [&](const AVFrame& frame) { comparer.add(frame); });
    rec::media::decode_streams(format.get(), {&decoder});
    std::cout << comparer.report().dump() << "\n";
    if (!comparer.compared()) {
        std::cerr << "pattern_psnr: no frame of " << argv[1] << " shows the test pattern's stamp\n";
        return 1;
    }
    return 0;
}
