#include "test_card.hpp"

#include <algorithm>
#include <cstring>

namespace rec::tools {
namespace {

struct Yuv {
    uint8_t y, u, v;
};

// BT.601, video range: what recd's encoder assumes of YUV input.
Yuv to_yuv(Rgb c) {
    const double y = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
    const double u = (c.b - y) / 1.772, v = (c.r - y) / 1.402;
    const auto clamp = [](double x) {
        return static_cast<uint8_t>(std::clamp(x + 0.5, 0.0, 255.0));
    };
    return {clamp(16 + y * 219 / 255), clamp(128 + u * 224 / 255), clamp(128 + v * 224 / 255)};
}

}  // namespace

TestCard::TestCard(shm::PixelFormat format, uint32_t width, uint32_t height)
    : format_(format),
      width_(static_cast<int>(width)),
      height_(static_cast<int>(height)),
      layout_(*shm::frame_layout(static_cast<uint32_t>(format), width, height)),
      background_(layout_.frame_bytes) {
    for (int y = 0; y < height_; ++y)
        for (int x = 0; x < width_; ++x)
            put(background_.data(), x, y,
                {static_cast<uint8_t>(x * 255 / width_), static_cast<uint8_t>(y * 255 / height_),
                 128});
}

void TestCard::put(uint8_t* f, int x, int y, Rgb c) const {
    const auto& l = layout_;
    switch (format_) {
        case shm::PixelFormat::bgra: {
            uint8_t* p = f + l.offset[0] + y * l.stride[0] + x * 4;
            p[0] = c.b, p[1] = c.g, p[2] = c.r, p[3] = 255;
            return;
        }
        case shm::PixelFormat::rgb24: {
            uint8_t* p = f + l.offset[0] + y * l.stride[0] + x * 3;
            p[0] = c.r, p[1] = c.g, p[2] = c.b;
            return;
        }
        case shm::PixelFormat::nv12: {
            const Yuv v = to_yuv(c);
            f[l.offset[0] + y * l.stride[0] + x] = v.y;
            uint8_t* uv = f + l.offset[1] + y / 2 * l.stride[1] + x / 2 * 2;
            uv[0] = v.u, uv[1] = v.v;
            return;
        }
        case shm::PixelFormat::i420: {
            const Yuv v = to_yuv(c);
            f[l.offset[0] + y * l.stride[0] + x] = v.y;
            f[l.offset[1] + y / 2 * l.stride[1] + x / 2] = v.u;
            f[l.offset[2] + y / 2 * l.stride[2] + x / 2] = v.v;
            return;
        }
    }
}

// Plain loops: the rectangles are small (a bar, 16 blocks), the background is copied whole.
void TestCard::fill(uint8_t* f, int x, int y, int w, int h, Rgb c) const {
    x = std::clamp(x, 0, width_), y = std::clamp(y, 0, height_);
    w = std::min(w, width_ - x), h = std::min(h, height_ - y);
    for (int row = y; row < y + h; ++row)
        for (int col = x; col < x + w; ++col) put(f, col, row, c);
}

void TestCard::draw(uint8_t* frame, uint64_t number) const {
    std::memcpy(frame, background_.data(), background_.size());
    constexpr Rgb white{255, 255, 255}, black{0, 0, 0};
    const int bar_x =
        static_cast<int>(number * 8 % static_cast<uint64_t>(std::max(2, width_ - 16)));
    fill(frame, bar_x & ~1, 0, 16, height_, white);
    if (width_ < 64) return;
    const int side = block(width_);
    fill(frame, 0, 0, width_, bit_y() * 2 + side, black);
    for (int i = 0; i < bits; ++i)
        if (number >> (bits - 1 - i) & 1) fill(frame, bit_x(width_, i), bit_y(), side, side, white);
}

}  // namespace rec::tools
