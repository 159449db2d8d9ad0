#include "pattern_scene.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace rec::pattern {
namespace {

constexpr std::array<Rgb, 8> bar_colours = {{{255, 255, 255},
                                             {255, 255, 0},
                                             {0, 255, 255},
                                             {0, 255, 0},
                                             {255, 0, 255},
                                             {255, 0, 0},
                                             {0, 0, 255},
                                             {32, 32, 32}}};
constexpr Rgb black{0, 0, 0}, white{255, 255, 255};

int bounce(uint64_t travelled, int span) {
    if (span <= 0) return 0;
    const auto period = static_cast<uint64_t>(span) * 2;
    const auto pos = static_cast<int>(travelled % period);
    return pos <= span ? pos : 2 * span - pos;
}

// Mean of the three channels over the middle half of a stamp block.
int block_level(const uint8_t* rgb, int stride, int bx, int by) {
    const int inset = stamp_block / 4;
    int sum = 0, count = 0;
    for (int y = by + inset; y < by + stamp_block - inset; ++y)
        for (int x = bx + inset; x < bx + stamp_block - inset; ++x, ++count) {
            const uint8_t* p = rgb + static_cast<size_t>(y) * stride + x * 3;
            sum += p[0] + p[1] + p[2];
        }
    return sum / (3 * count);
}

}  // namespace

std::vector<Rect> frame(uint64_t n, int width, int height) {
    std::vector<Rect> rects;
    const int bar_width = (width + 7) / 8;
    const int shift = static_cast<int>((n * 4) % static_cast<uint64_t>(bar_width * 8));
    for (int i = -1; i < 8; ++i) {
        const int colour = ((i - shift / bar_width) % 8 + 8) % 8;
        rects.push_back({i * bar_width + shift % bar_width, 0, bar_width, height,
                         bar_colours[static_cast<size_t>(colour)]});
    }
    const int box = height / 6;
    rects.push_back({bounce(n * 7, width - box), bounce(n * 5, height - box), box, box, black});
    for (int bit = 0; bit < stamp_bits; ++bit) {
        const bool one = (n >> bit) & 1;
        rects.push_back({bit * stamp_block, 0, stamp_block, stamp_block, one ? white : black});
        rects.push_back(
            {bit * stamp_block, stamp_block, stamp_block, stamp_block, one ? black : white});
    }
    return rects;
}

void render(uint64_t n, int width, int height, uint8_t* rgb, int stride) {
    for (const Rect& r : frame(n, width, height)) {
        const int x0 = std::max(r.x, 0), x1 = std::min(r.x + r.w, width);
        const int y0 = std::max(r.y, 0), y1 = std::min(r.y + r.h, height);
        for (int y = y0; y < y1; ++y) {
            uint8_t* p = rgb + static_cast<size_t>(y) * stride + x0 * 3;
            for (int x = x0; x < x1; ++x, p += 3) {
                p[0] = r.colour.r;
                p[1] = r.colour.g;
                p[2] = r.colour.b;
            }
        }
    }
}

std::optional<uint64_t> read_stamp(const uint8_t* rgb, int stride, int width, int height) {
    if (width < stamp_bits * stamp_block || height < 2 * stamp_block) return std::nullopt;
    uint64_t n = 0;
    for (int bit = 0; bit < stamp_bits; ++bit) {
        const int top = block_level(rgb, stride, bit * stamp_block, 0);
        const int bottom = block_level(rgb, stride, bit * stamp_block, stamp_block);
        if (std::abs(top - bottom) < 128) return std::nullopt;
        if (top > bottom) n |= uint64_t{1} << bit;
    }
    return n;
}

}  // namespace rec::pattern
