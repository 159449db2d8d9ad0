#pragma once
// The test pattern's frames, as rectangles: test_pattern draws them on an X display, pattern_psnr
// renders them again to measure how close a recording of the display is to what was shown. Each
// frame carries its number as a stamp of black and white blocks in the top-left corner, so a
// recorded frame tells which frame it shows, whatever the recorder dropped or repeated.
#include <cstdint>
#include <optional>
#include <vector>

namespace rec::pattern {

struct Rgb {
    uint8_t r, g, b;
};

struct Rect {
    int x, y, w, h;
    Rgb colour;
};

// Frame n of a width x height screen, in drawing order (later rectangles on top): eight colour
// bars scrolling 4 px a frame, a black box bouncing around, and the stamp: `stamp_bits` blocks
// of `stamp_block` px, white for a 1, with the same bits inverted in a second row below.
inline constexpr int stamp_bits = 24;   // 2^24 frames: 6 days at 30 fps
inline constexpr int stamp_block = 24;  // wide enough to survive 4:2:0 and a lossy encoder
std::vector<Rect> frame(uint64_t n, int width, int height);

// `frame(n)` as packed RGB24 into `rgb` (`stride` bytes a row).
void render(uint64_t n, int width, int height, uint8_t* rgb, int stride);

// The frame number stamped on a packed RGB24 picture; nullopt when a block pair does not read
// as one white and one black block (not the pattern, or damaged).
std::optional<uint64_t> read_stamp(const uint8_t* rgb, int stride, int width, int height);

}  // namespace rec::pattern
