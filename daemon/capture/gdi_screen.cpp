#include "gdi_screen.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <type_traits>
#include <utility>

#include "../../common/win32.hpp"

namespace rec {
namespace {

struct GdiObjectDelete {
    void operator()(HGDIOBJ object) const { DeleteObject(object); }
};
using GdiObject = std::unique_ptr<std::remove_pointer_t<HGDIOBJ>, GdiObjectDelete>;

// The screen's DC for one grab: taken each time (GetDC is cheap), so that it always describes
// the desktop as it is now and belongs to the grabbing thread's DPI awareness.
class ScreenDc {
public:
    ScreenDc() : dc_(GetDC(nullptr)) {}
    ~ScreenDc() {
        if (dc_) ReleaseDC(nullptr, dc_);
    }
    ScreenDc(const ScreenDc&) = delete;
    ScreenDc& operator=(const ScreenDc&) = delete;
    HDC get() const { return dc_; }

private:
    HDC dc_;
};

}  // namespace

struct GdiScreen::Canvas {
    Canvas(int width, int height);
    ~Canvas();
    Canvas(const Canvas&) = delete;
    Canvas& operator=(const Canvas&) = delete;

    HDC dc = nullptr;
    HBITMAP bitmap = nullptr;
    HGDIOBJ previous = nullptr;  // the DC's own bitmap, put back before the DIB is deleted
    uint8_t* bits = nullptr;     // top-down rows of width * 4 bytes: B, G, R, unused
};

// Throws DISPLAY_UNAVAILABLE (out of GDI resources).
GdiScreen::Canvas::Canvas(int width, int height) {
    BITMAPINFO info{};
    info.bmiHeader.biSize = sizeof(BITMAPINFOHEADER);
    info.bmiHeader.biWidth = width;
    info.bmiHeader.biHeight = -height;  // negative: top-down, as frames are
    info.bmiHeader.biPlanes = 1;
    info.bmiHeader.biBitCount = 32;  // rows are width * 4 bytes, with no padding
    info.bmiHeader.biCompression = BI_RGB;
    dc = CreateCompatibleDC(nullptr);
    void* pixels = nullptr;
    if (dc) bitmap = CreateDIBSection(dc, &info, DIB_RGB_COLORS, &pixels, nullptr, 0);
    if (!bitmap) {
        const DWORD error = GetLastError();
        if (dc) DeleteDC(dc);
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("GDI capture: no {}x{} bitmap: {}", width, height,
                                win32_error_text(error)));
    }
    previous = SelectObject(dc, bitmap);
    bits = static_cast<uint8_t*>(pixels);
}

GdiScreen::Canvas::~Canvas() {
    SelectObject(dc, previous);
    DeleteObject(bitmap);
    DeleteDC(dc);
}

GdiScreen::GdiScreen(const WindowsScreenTarget& target) : target_(target) {
    PerMonitorDpi dpi;
    const WindowsMonitor monitor = target_monitor(target);
    monitor_ = static_cast<HMONITOR>(monitor.handle);
    monitor_area_ = monitor.area;
    region_ = target_region(target, monitor_area_.width, monitor_area_.height);
    if (!ScreenDc().get())
        throw Error(ErrorCode::display_unavailable, "GDI capture: GetDC: " + last_error_text());
    canvas_ = std::make_unique<Canvas>(region_.width, region_.height);
    frames_.resize(region_.width, region_.height);
    const auto& m = monitor_area_;
    spdlog::info("GDI capture of monitor {}x{}{:+}{:+}: region {}x{}+{}+{} (cursor {})", m.width,
                 m.height, m.x, m.y, region_.width, region_.height, region_.x, region_.y,
                 target.show_cursor ? "drawn" : "not drawn");
}

GdiScreen::~GdiScreen() = default;

GrabStatus GdiScreen::grab(VideoFrame& out) {
    out.frame.reset();
    if (interrupted_) return GrabStatus::interrupted;
    PerMonitorDpi dpi;  // physical pixels for the monitor, the copy and the cursor
    if (const GrabStatus followed = follow_monitor(); followed != GrabStatus::ok) {
        out.time = Clock::now();
        return followed;
    }
    const auto asked = Clock::now();
    const bool copied = copy_screen();
    // The copy happens somewhere within the call: its midpoint, as X11Screen's.
    out.time = asked + (Clock::now() - asked) / 2;
    // Before the first picture, a failed copy still delivers the canvas (black): the encoder
    // needs a picture to start from.
    if (!copied && delivered_) return GrabStatus::unchanged;
    if (copied && target_.show_cursor) draw_cursor();
    // The canvas's rows are region_.width * 4 bytes, with no padding.
    FramePtr frame = frames_.from_bgrx(canvas_->bits, region_.width * 4);
    if (!frame) return lose("out of memory for a frame");
    delivered_ = true;
    out.frame = std::move(frame);
    return GrabStatus::ok;
}

// vcap thread, each grab: where the monitor is now and its size (display settings may change
// while it is recorded). ok: go on grabbing; unchanged: the monitor is not to be found just now
// (a display change under way); lost: it is gone, or the region no longer fits.
GrabStatus GdiScreen::follow_monitor() {
    MONITORINFO info{};
    info.cbSize = sizeof info;
    ipc::Region area;
    if (GetMonitorInfoW(monitor_, &info)) {
        area = to_region(info.rcMonitor);
    } else if (const auto found = find_monitor(target_.monitor)) {  // the handle went stale
        monitor_ = static_cast<HMONITOR>(found->handle);
        area = found->area;
    } else {
        const auto now = Clock::now();
        if (monitor_missing_ == TimePoint{}) monitor_missing_ = now;
        if (now - monitor_missing_ < monitor_gone_after && delivered_) return GrabStatus::unchanged;
        return lose("the monitor is gone; monitors: " + describe_monitors());
    }
    monitor_missing_ = {};
    if (area.width == monitor_area_.width && area.height == monitor_area_.height) {
        monitor_area_ = area;  // perhaps moved in the arrangement: the copy follows
        return GrabStatus::ok;
    }
    return resize(area);
}

// vcap thread: the monitor changed size. A whole-monitor capture takes the new size; a region
// goes on while it fits. Frames still held downstream keep their old buffers: the old pool goes
// when the last one returns.
GrabStatus GdiScreen::resize(const ipc::Region& monitor_area) {
    monitor_area_ = monitor_area;
    try {
        const ipc::Region region = target_region(target_, monitor_area.width, monitor_area.height);
        if (region == region_) return GrabStatus::ok;
        canvas_ = std::make_unique<Canvas>(region.width, region.height);
        region_ = region;
    } catch (const Error& e) {
        return lose(fmt::format("after a display change: {}", e.what()));
    }
    spdlog::info("GDI capture: the monitor is now {}x{}; recording all of it", monitor_area.width,
                 monitor_area.height);
    frames_.resize(region_.width, region_.height);
    return GrabStatus::ok;
}

// vcap thread: the region from the screen into the canvas. False when the desktop cannot be
// read now (a secure desktop shows, the session is disconnected); logged once per outage.
bool GdiScreen::copy_screen() {
    const ScreenDc screen;
    // CAPTUREBLT: layered windows (menus, tooltips, translucent windows) are in the picture
    // (on some systems at the cost of a flickering cursor: Windows hides it for the copy).
    const bool copied = screen.get() && BitBlt(canvas_->dc, 0, 0, region_.width, region_.height,
                                               screen.get(), monitor_area_.x + region_.x,
                                               monitor_area_.y + region_.y, SRCCOPY | CAPTUREBLT);
    if (!copied && !unreadable_)
        spdlog::warn("GDI capture: the desktop cannot be read ({}); the last picture stands",
                     last_error_text());
    else if (copied && unreadable_)
        spdlog::info("GDI capture: the desktop can be read again");
    unreadable_ = !copied;
    return copied;
}

// vcap thread: the cursor drawn into the canvas by Windows itself (DrawIconEx draws colour,
// masked and monochrome cursors as the screen shows them).
void GdiScreen::draw_cursor() {
    CURSORINFO info{};
    info.cbSize = sizeof info;
    if (!GetCursorInfo(&info) || !(info.flags & CURSOR_SHOWING) || !info.hCursor) return;
    const POINT hot = hotspot(info.hCursor);
    // ptScreenPos is the hot spot on the virtual desktop.
    const int x = info.ptScreenPos.x - hot.x - monitor_area_.x - region_.x;
    const int y = info.ptScreenPos.y - hot.y - monitor_area_.y - region_.y;
    DrawIconEx(canvas_->dc, x, y, info.hCursor, 0, 0, 0, nullptr, DI_NORMAL);
}

POINT GdiScreen::hotspot(HCURSOR cursor) {
    if (cursor == hotspot_cursor_) return hotspot_;
    ICONINFO icon{};
    if (!GetIconInfo(cursor, &icon)) return {0, 0};
    // Copies of the cursor's bitmaps, the caller's to delete.
    const GdiObject mask(icon.hbmMask), color(icon.hbmColor);
    hotspot_cursor_ = cursor;
    hotspot_ = {static_cast<LONG>(icon.xHotspot), static_cast<LONG>(icon.yHotspot)};
    return hotspot_;
}

GrabStatus GdiScreen::lose(std::string why) {
    error_ = std::move(why);
    return GrabStatus::lost;
}

void GdiScreen::describe(ipc::Json& status) const { status["capture"] = {{"method", "gdi"}}; }

}  // namespace rec
