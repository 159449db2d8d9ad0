#include "dxgi_pointer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

extern "C" {
#include <libavutil/frame.h>
}

#include "../media/bgrx_to_i420.hpp"

namespace rec {
namespace {

// One pixel of a pointer shape at (x, y) over the desktop's pixel `under` (BGRX as a
// little-endian word), as Windows draws it: colour shapes alpha-blended (straight alpha); masked
// colour ones replace the pixel (mask 0) or XOR it (mask 0xFF); monochrome ones are an AND mask
// over an XOR mask, each 1 bit a pixel. The alpha byte of `under` is kept.
uint32_t shape_pixel(const DXGI_OUTDUPL_POINTER_SHAPE_INFO& s, const uint8_t* bits, int x, int y,
                     uint32_t under) {
    const uint32_t keep = under & 0xff000000;
    if (s.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME) {
        const uint8_t bit = 0x80 >> (x % 8);
        const bool and_bit = bits[y * s.Pitch + x / 8] & bit;
        const bool xor_bit = bits[(y + s.Height / 2) * s.Pitch + x / 8] & bit;
        return ((and_bit ? under : keep) ^ (xor_bit ? 0x00ffffff : 0)) | keep;
    }
    uint32_t src = 0;
    std::memcpy(&src, bits + y * s.Pitch + x * 4, sizeof src);
    const uint32_t alpha = src >> 24;
    if (s.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MASKED_COLOR)
        return ((alpha ? under ^ src : src) & 0x00ffffff) | keep;
    uint32_t blended = keep;
    for (int shift = 0; shift < 24; shift += 8) {
        const uint32_t a = (src >> shift) & 0xff, b = (under >> shift) & 0xff;
        blended |= ((a * alpha + b * (255 - alpha) + 127) / 255) << shift;
    }
    return blended;
}

}  // namespace

ipc::Region overlap(const ipc::Region& a, const ipc::Region& b) {
    const int x = std::max(a.x, b.x), y = std::max(a.y, b.y);
    const int right = std::min(a.x + a.width, b.x + b.width);
    const int bottom = std::min(a.y + a.height, b.y + b.height);
    if (right <= x || bottom <= y) return {};
    return {x, y, right - x, bottom - y};
}

// DxgiScreen::grab_frame(), vcap thread.
bool DxgiPointer::follow(IDXGIOutputDuplication* duplication, const DXGI_OUTDUPL_FRAME_INFO& info,
                         const ipc::Region& region) {
    if (!shown_) return false;
    if (info.LastMouseUpdateTime.QuadPart != 0) {
        visible_ = info.PointerPosition.Visible != FALSE;
        x_ = info.PointerPosition.Position.x;
        y_ = info.PointerPosition.Position.y;
    }
    if (info.PointerShapeBufferSize != 0) read_shape(duplication, info.PointerShapeBufferSize);
    const ipc::Region now = area(region);
    return now != drawn_ || (reshaped_ && now.width);
}

// A shape whose sizes do not fit its buffer is not drawn rather than drawn out of bounds.
void DxgiPointer::read_shape(IDXGIOutputDuplication* duplication, UINT bytes) {
    pixels_.resize(bytes);
    DXGI_OUTDUPL_POINTER_SHAPE_INFO shape{};
    UINT needed = 0;
    const HRESULT hr = duplication->GetFramePointerShape(bytes, pixels_.data(), &needed, &shape);
    const bool mono = shape.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME;
    const UINT row = mono ? (shape.Width + 7) / 8 : shape.Width * 4;
    const bool fits = shape.Pitch >= row && size_t{shape.Pitch} * shape.Height <= bytes;
    if (FAILED(hr) || !fits) spdlog::debug("DXGI capture: unusable pointer shape; not drawn");
    shape_ = SUCCEEDED(hr) && fits ? shape : DXGI_OUTDUPL_POINTER_SHAPE_INFO{};
    reshaped_ = true;
}

// The pointer's shape on the output (a monochrome shape's two masks are stacked: half its
// height shows) when it is drawn and on the region; empty otherwise.
ipc::Region DxgiPointer::area(const ipc::Region& region) const {
    const bool mono = shape_.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME;
    const ipc::Region shape{x_, y_, int(shape_.Width),
                            int(mono ? shape_.Height / 2 : shape_.Height)};
    if (!shown_ || !visible_ || !overlap(shape, region).width) return {};
    return shape;
}

// DxgiScreen::copy_out(), vcap thread, with the staging texture still mapped. The frame's
// format is DxgiScreen's: I420 or a BGRA layout.
void DxgiPointer::draw(const uint8_t* pixels, int pitch, AVFrame& frame,
                       const ipc::Region& region) {
    const ipc::Region on = overlap(area(region), region);
    if (!on.width) return;
    if (frame.format == AV_PIX_FMT_YUV420P)
        draw_i420(pixels, pitch, frame, region, on);
    else
        paint(frame.data[0], frame.linesize[0], region, region);
}

// DxgiScreen::deliver(), vcap thread.
void DxgiPointer::delivered(const ipc::Region& region) {
    drawn_ = area(region);
    reshaped_ = false;
}

// I420: the pixels under the pointer, `on` widened to even edges so that its chroma samples are
// whole, are copied into patch_, the pointer drawn on them, and converted again over the frame.
void DxgiPointer::draw_i420(const uint8_t* pixels, int pitch, AVFrame& frame,
                            const ipc::Region& region, ipc::Region on) {
    // In the region's pixels; the region's sides are even, so the widened edges stay inside it.
    const int x0 = (on.x - region.x) & ~1, y0 = (on.y - region.y) & ~1;
    const int x1 = (on.x - region.x + on.width + 1) & ~1;
    const int y1 = (on.y - region.y + on.height + 1) & ~1;
    const int w = x1 - x0, h = y1 - y0;
    patch_.resize(size_t(w) * h * 4);
    for (int y = 0; y < h; ++y)
        std::memcpy(&patch_[size_t(y) * w * 4], pixels + size_t(y0 + y) * pitch + x0 * 4,
                    size_t(w) * 4);
    paint(patch_.data(), w * 4, {region.x + x0, region.y + y0, w, h}, region);
    uint8_t* const planes[3] = {frame.data[0] + y0 * frame.linesize[0] + x0,
                                frame.data[1] + y0 / 2 * frame.linesize[1] + x0 / 2,
                                frame.data[2] + y0 / 2 * frame.linesize[2] + x0 / 2};
    bgrx_to_i420(patch_.data(), w * 4, planes, frame.linesize, w, h);
}

// The pointer onto BGRX pixels `stride` bytes a row that cover `canvas_area` of the output.
void DxgiPointer::paint(uint8_t* canvas, int stride, ipc::Region canvas_area,
                        const ipc::Region& region) const {
    const ipc::Region p = area(region);
    const ipc::Region on = overlap(p, canvas_area);
    for (int y = on.y; y < on.y + on.height; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(canvas + size_t(y - canvas_area.y) * stride);
        for (int x = on.x; x < on.x + on.width; ++x)
            row[x - canvas_area.x] =
                shape_pixel(shape_, pixels_.data(), x - p.x, y - p.y, row[x - canvas_area.x]);
    }
}

}  // namespace rec
