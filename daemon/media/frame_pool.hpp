#pragma once
// The frames a screen capture (X11Screen, DxgiScreen, GdiScreen) copies each picture into: one
// pixel format and size, the pixels of each frame in one buffer from a pool, so a steady
// recording allocates nothing per picture. Owned by the capture and used on the threads it is
// used on (built and prefer_format() on a worker thread, then the vcap thread alone). The frames
// are reference counted and may outlive a reset() and the FramePool itself: a pool is freed
// when its last buffer comes back from the encoder.
#include <cstdint>

#include "av_ptr.hpp"

namespace rec {

class FramePool {
public:
    // Rows start 32-byte aligned: the encoders' and bgrx_to_i420's vector loops (AVX2, 32 bytes
    // at a time) read them whole.
    static constexpr int alignment = 32;

    // No frames (get() gives null) until a size is set.
    explicit FramePool(AVPixelFormat format) : format_(format) {}

    // Frames of `format` at `width` x `height` from now on, from a new pool.
    void reset(AVPixelFormat format, int width, int height);
    void resize(int width, int height) { reset(format_, width, height); }
    AVPixelFormat format() const { return format_; }
    // The captures' prefer_format(): I420 frames from now on if that is what the encoder wants
    // at the pool's size (converted while copied, from_bgrx: the encoder is spared its own
    // conversion); anything else is left to the encoder (every backend takes BGR0 or I420).
    void prefer(AVPixelFormat format, int width, int height);

    // A frame of the pool's format and size, pixels undefined; null when out of memory.
    FramePtr get();
    // A frame holding the picture at `bgrx`: the pool's size, 4 bytes a pixel in memory order B,
    // G, R, unused, rows `pitch` bytes apart; copied (BGR0, BGRA) or converted (I420,
    // bgrx_to_i420). Null when out of memory.
    FramePtr from_bgrx(const uint8_t* bgrx, int pitch);
    // A black frame (video range for I420, full range for the RGB formats); null when out of
    // memory.
    FramePtr black();

private:
    BufferPoolPtr pool_;
    AVPixelFormat format_ = AV_PIX_FMT_NONE;
    int width_ = 0, height_ = 0;
};

}  // namespace rec
