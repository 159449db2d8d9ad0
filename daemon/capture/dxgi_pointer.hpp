#pragma once
// The mouse pointer of a DXGI capture. Desktop Duplication leaves it out of the desktop image and
// reports it beside the frames instead: the position when it moves, the shape only when it
// changes. DxgiPointer keeps both between frames and draws the pointer, as Windows does, onto
// each picture's copy of the region (never onto the staging texture, which later pictures in
// which only the pointer moved reuse).
// Owned by DxgiScreen and used on its vcap thread alone, with the duplication it reads from.
#include <dxgi1_2.h>

#include <cstdint>
#include <vector>

#include "../../common/ipc/protocol.hpp"

struct AVFrame;

namespace rec {

// The part of `a` inside `b`; empty (all zero) when they do not meet. Also DxgiScreen's, for the
// frames' dirty and move rectangles.
ipc::Region overlap(const ipc::Region& a, const ipc::Region& b);

class DxgiPointer {
public:
    // `shown`: the target's show_cursor. When false the pointer is neither followed nor drawn.
    explicit DxgiPointer(bool shown) : shown_(shown) {}

    // A frame just acquired from `duplication`, before it is released: its pointer news
    // (position and visibility, a new shape). True when the pointer as it shows on `region` (in
    // the output's pixels) changed since the last delivered().
    bool follow(IDXGIOutputDuplication* duplication, const DXGI_OUTDUPL_FRAME_INFO& info,
                const ipc::Region& region);
    // The pointer onto `frame`, which holds `region` just copied (BGR0/BGRA) or converted (I420)
    // from `pixels`: the mapped staging texture, BGRA rows `pitch` bytes apart, only read.
    void draw(const uint8_t* pixels, int pitch, AVFrame& frame, const ipc::Region& region);
    // A picture with the pointer as it is now went out.
    void delivered(const ipc::Region& region);

private:
    void read_shape(IDXGIOutputDuplication* duplication, UINT bytes);
    ipc::Region area(const ipc::Region& region) const;
    void draw_i420(const uint8_t* pixels, int pitch, AVFrame& frame, const ipc::Region& region,
                   ipc::Region on);
    void paint(uint8_t* canvas, int stride, ipc::Region canvas_area,
               const ipc::Region& region) const;

    const bool shown_;
    bool visible_ = false;
    int x_ = 0, y_ = 0;  // top-left of the shape (not its hot spot), in the output's pixels
    DXGI_OUTDUPL_POINTER_SHAPE_INFO shape_{};
    std::vector<uint8_t> pixels_;  // the shape as GetFramePointerShape gives it
    bool reshaped_ = false;        // a new shape since the last picture delivered
    ipc::Region drawn_{};          // the shape in the last picture; empty when not in it
    std::vector<uint8_t> patch_;   // BGRA pixels around the pointer, for the I420 path
};

}  // namespace rec
