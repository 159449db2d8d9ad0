#pragma once
// recd-shm-push's moving test picture, drawn straight into a frame of a shared-memory ring in
// any of its pixel formats: a colour gradient, a white bar that moves 8 pixels a frame, and
// the frame's number as 16 black/white blocks along the top (most significant bit first), so
// a test can read back from a recording which frame landed where (frame_number_at()).
#include <cstdint>
#include <vector>

#include "common/shm/ring_layout.hpp"

namespace rec::tools {

struct Rgb {
    uint8_t r, g, b;
};

class TestCard {
public:
    // Frames of width x height in `format` (a valid ring geometry).
    TestCard(shm::PixelFormat format, uint32_t width, uint32_t height);

    // Draws frame `number` into `frame` (layout().frame_bytes bytes).
    void draw(uint8_t* frame, uint64_t number) const;
    const shm::FrameLayout& layout() const { return layout_; }

    // The counter's geometry, for readers: bit i (0 = most significant) is the square of side
    // block() at (bit_x(i), bit_y()). Needs a width of 64 or more (else no counter is drawn).
    static constexpr int bits = 16;
    static int block(uint32_t width) {
        return (static_cast<int>((width - 16) / bits) * 3 / 4) & ~1;
    }
    static int bit_x(uint32_t width, int i) {
        return (8 + i * static_cast<int>((width - 16) / bits)) & ~1;
    }
    static int bit_y() { return 8; }

private:
    void put(uint8_t* frame, int x, int y, Rgb c) const;
    void fill(uint8_t* frame, int x, int y, int w, int h, Rgb c) const;

    shm::PixelFormat format_;
    int width_, height_;
    shm::FrameLayout layout_;
    std::vector<uint8_t> background_;  // the gradient, drawn once
};

}  // namespace rec::tools
