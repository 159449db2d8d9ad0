#pragma once
// The screen's pixels into the encoder's I420, for the X11 capture (as it copies out of the
// shared segment) and the video encoder (a BGR0 frame at the file's size): both call it on the
// pipeline's thread.
#include <cstdint>

namespace rec {

// `src` is `height` rows of `width` pixels, 4 bytes each in memory order B, G, R, unused (X11's
// 24-bit TrueColor, libav's BGR0/BGRA), `src_stride` bytes apart; full range. Writes BT.601
// video range Y at full size and U, V at half size (rounded up for odd sizes), each chroma
// sample from the mean of its 2x2 pixels. `dst` and `dst_stride` are the three planes, as in
// an AVFrame.
void bgrx_to_i420(const uint8_t* src, int src_stride, uint8_t* const dst[3],
                  const int dst_stride[3], int width, int height);
// The same bytes without vector instructions: for the tests, which compare the two.
void bgrx_to_i420_scalar(const uint8_t* src, int src_stride, uint8_t* const dst[3],
                         const int dst_stride[3], int width, int height);

}  // namespace rec
