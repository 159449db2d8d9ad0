#include "bgrx_to_i420.hpp"

// Why not a library: libyuv's ARGBToI420 (0.45 ms a 1080p frame) rounds its chroma to within
// one step, which on a screen's flat saturated colours is a steady error: its picture turned
// back into RGB is 3.8 dB (PSNR) further from the screen than this one; swscale is as accurate
// as this but takes 3.6 ms. This is plain integer arithmetic, 32 pixels a step with AVX2 where
// the CPU has it (bgrx_to_i420_avx2.cpp, built where the compiler targets x86-64: RECD_AVX2),
// these loops for the rest of a row and on other CPUs.

namespace rec {

namespace detail {
#ifdef RECD_AVX2
// The pixels of the row pair it converted (a multiple of 32), from the left.
int row_pair_avx2(const uint32_t* above, const uint32_t* below, uint8_t* y_above, uint8_t* y_below,
                  uint8_t* u, uint8_t* v, int width);
#endif
}  // namespace detail

namespace {

inline uint32_t blue(uint32_t p) { return p & 0xff; }
inline uint32_t green(uint32_t p) { return (p >> 8) & 0xff; }
inline uint32_t red(uint32_t p) { return (p >> 16) & 0xff; }

// BT.601 luma in the usual 8-bit integer form: 16 + (66 R + 129 G + 25 B) / 256, rounded.
inline uint8_t luma(uint32_t p) {
    return static_cast<uint8_t>((66 * red(p) + 129 * green(p) + 25 * blue(p) + 0x1080) >> 8);
}

// BT.601 chroma from the sums of R, G and B over 4 pixels, coefficients in units of 2^-15:
// U = 128 - 0.148223 R - 0.290993 G + 0.439216 B, V = 128 + 0.439216 R - 0.367788 G
// - 0.071427 B (the 4 summed pixels add 2 bits: the shift is 17), rounded.
constexpr int32_t chroma_bias = (128 << 17) + (1 << 16);
inline uint8_t chroma_u(int32_t r, int32_t g, int32_t b) {
    return static_cast<uint8_t>((-4857 * r - 9535 * g + 14392 * b + chroma_bias) >> 17);
}
inline uint8_t chroma_v(int32_t r, int32_t g, int32_t b) {
    return static_cast<uint8_t>((14392 * r - 12051 * g - 2341 * b + chroma_bias) >> 17);
}

// Two rows of pixels (`below` may be `above` for an odd last row) into two rows of Y and one
// of U and V, from pixel `from` (even) on.
void row_pair(const uint32_t* above, const uint32_t* below, uint8_t* y_above, uint8_t* y_below,
              uint8_t* u, uint8_t* v, int from, int width) {
    for (int x = from; x < width; ++x) {
        y_above[x] = luma(above[x]);
        y_below[x] = luma(below[x]);
    }
    for (int x = from / 2; x < width / 2; ++x) {
        const uint32_t p0 = above[2 * x], p1 = above[2 * x + 1];
        const uint32_t p2 = below[2 * x], p3 = below[2 * x + 1];
        const auto r = static_cast<int32_t>(red(p0) + red(p1) + red(p2) + red(p3));
        const auto g = static_cast<int32_t>(green(p0) + green(p1) + green(p2) + green(p3));
        const auto b = static_cast<int32_t>(blue(p0) + blue(p1) + blue(p2) + blue(p3));
        u[x] = chroma_u(r, g, b);
        v[x] = chroma_v(r, g, b);
    }
    if (width % 2) {  // the last column counts twice
        const int x = width - 1;
        const uint32_t p0 = above[x], p2 = below[x];
        const auto r = static_cast<int32_t>(2 * (red(p0) + red(p2)));
        const auto g = static_cast<int32_t>(2 * (green(p0) + green(p2)));
        const auto b = static_cast<int32_t>(2 * (blue(p0) + blue(p2)));
        u[x / 2] = chroma_u(r, g, b);
        v[x / 2] = chroma_v(r, g, b);
    }
}

bool cpu_has_avx2() {
#ifdef RECD_AVX2
    static const bool has = __builtin_cpu_supports("avx2");
    return has;
#else
    return false;
#endif
}

void convert(const uint8_t* src, int src_stride, uint8_t* const dst[3], const int dst_stride[3],
             int width, int height, bool vector) {
    const auto row = [&](int y) { return reinterpret_cast<const uint32_t*>(src + y * src_stride); };
    for (int y = 0; y < height; y += 2) {
        const int next = y + 1 < height ? y + 1 : y;  // an odd last row counts twice
        const auto* above = row(y);
        const auto* below = row(next);
        uint8_t* y_above = dst[0] + y * dst_stride[0];
        uint8_t* y_below = dst[0] + next * dst_stride[0];
        uint8_t* u = dst[1] + y / 2 * dst_stride[1];
        uint8_t* v = dst[2] + y / 2 * dst_stride[2];
        int done = 0;
#ifdef RECD_AVX2
        if (vector) done = detail::row_pair_avx2(above, below, y_above, y_below, u, v, width);
#endif
        row_pair(above, below, y_above, y_below, u, v, done, width);
    }
}

}  // namespace

void bgrx_to_i420(const uint8_t* src, int src_stride, uint8_t* const dst[3],
                  const int dst_stride[3], int width, int height) {
    convert(src, src_stride, dst, dst_stride, width, height, cpu_has_avx2());
}

void bgrx_to_i420_scalar(const uint8_t* src, int src_stride, uint8_t* const dst[3],
                         const int dst_stride[3], int width, int height) {
    convert(src, src_stride, dst, dst_stride, width, height, false);
}

}  // namespace rec
