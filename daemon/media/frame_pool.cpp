#include "frame_pool.hpp"

extern "C" {
#include <libavutil/imgutils.h>
}

#include <cstddef>

#include "bgrx_to_i420.hpp"

namespace rec {

// Frames still held downstream keep their buffers: the old pool goes when the last one returns.
void FramePool::reset(AVPixelFormat format, int width, int height) {
    format_ = format;
    width_ = width;
    height_ = height;
    const int bytes = av_image_get_buffer_size(format, width, height, alignment);
    // The padding: FFmpeg's optimised readers may read that far past the last row.
    pool_.reset(bytes < 0 ? nullptr
                          : av_buffer_pool_init(bytes + AV_INPUT_BUFFER_PADDING_SIZE, nullptr));
}

void FramePool::prefer(AVPixelFormat format, int width, int height) {
    if (format == AV_PIX_FMT_YUV420P && width == width_ && height == height_)
        reset(format, width_, height_);
}

FramePtr FramePool::get() {
    FramePtr frame(av_frame_alloc());
    if (!frame || !pool_) return nullptr;
    frame->format = format_;
    frame->width = width_;
    frame->height = height_;
    frame->buf[0] = av_buffer_pool_get(pool_.get());
    if (!frame->buf[0]) return nullptr;
    av_image_fill_arrays(frame->data, frame->linesize, frame->buf[0]->data, format_, width_,
                         height_, alignment);
    return frame;
}

FramePtr FramePool::from_bgrx(const uint8_t* bgrx, int pitch) {
    FramePtr frame = get();
    if (!frame) return nullptr;
    if (format_ == AV_PIX_FMT_YUV420P)
        bgrx_to_i420(bgrx, pitch, frame->data, frame->linesize, width_, height_);
    else
        av_image_copy_plane(frame->data[0], frame->linesize[0], bgrx, pitch, width_ * 4, height_);
    return frame;
}

FramePtr FramePool::black() {
    FramePtr frame = get();
    if (!frame) return nullptr;
    const ptrdiff_t linesize[4] = {frame->linesize[0], frame->linesize[1], frame->linesize[2],
                                   frame->linesize[3]};
    av_image_fill_black(frame->data, linesize, format_,
                        format_ == AV_PIX_FMT_YUV420P ? AVCOL_RANGE_MPEG : AVCOL_RANGE_JPEG, width_,
                        height_);
    return frame;
}

}  // namespace rec
