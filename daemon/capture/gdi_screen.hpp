#pragma once
// Windows screen capture through GDI: the fallback where the desktop cannot be duplicated
// (open_windows_screen: no DWM, some RDP and virtual-machine sessions, a rotated monitor, four
// duplications already running). Each grab copies the whole region from the screen into a DIB
// section (BitBlt), draws the cursor in (DrawIconEx) and copies or converts that into a frame.
// GDI says nothing about what changed, so every grab is a whole picture; only while the desktop
// cannot be read (a secure desktop: lock screen, UAC prompt) does the last picture stand
// (`unchanged`). A whole-monitor capture follows a new monitor size (frames change size, as
// X11Screen's do); a region is grabbed on while it fits the monitor.
// Threads as in ScreenSource: built on a worker thread, grab() on the vcap thread only,
// interrupt() and describe() from any thread. A grab never blocks for long (BitBlt returns in
// milliseconds), so interrupt() only has to be seen at the next grab.
#include <windows.h>

#include <atomic>
#include <memory>
#include <string>

#include "../media/frame_pool.hpp"
#include "screen_source.hpp"
#include "windows_screen.hpp"

namespace rec {

class GdiScreen final : public ScreenSource {
public:
    // Throws rec::Error: INVALID_ARGUMENT (no such monitor, region not on it),
    // DISPLAY_UNAVAILABLE (the screen cannot be read at all).
    explicit GdiScreen(const WindowsScreenTarget& target);
    ~GdiScreen() override;

    ipc::Region region() const override { return region_; }
    AVPixelFormat pixel_format() const override { return frames_.format(); }
    // The pipeline's thread, before the first grab: I420 converted as the picture is copied
    // out (FramePool::prefer).
    void prefer_format(AVPixelFormat format, int width, int height) override {
        frames_.prefer(format, width, height);
    }
    GrabStatus grab(VideoFrame& out) override;
    std::string error() const override { return error_; }
    void interrupt() override { interrupted_ = true; }
    void describe(ipc::Json& status) const override;

private:
    struct Canvas;  // a memory DC with a 32-bit top-down DIB section of region_'s size in it

    GrabStatus follow_monitor();
    GrabStatus resize(const ipc::Region& monitor_area);
    bool copy_screen();
    void draw_cursor();
    POINT hotspot(HCURSOR cursor);
    GrabStatus lose(std::string why);

    const WindowsScreenTarget target_;
    HMONITOR monitor_ = nullptr;
    ipc::Region monitor_area_;           // on the virtual desktop, as last seen
    ipc::Region region_;                 // in the monitor's pixels
    std::unique_ptr<Canvas> canvas_;     // what BitBlt copies into; the cursor is drawn on it
    FramePool frames_{AV_PIX_FMT_BGR0};  // what grab() delivers, at region_'s size
    // GetIconInfo copies a cursor's bitmaps on each call: its hot spot is kept per cursor.
    HCURSOR hotspot_cursor_ = nullptr;
    POINT hotspot_{};
    bool delivered_ = false;       // a picture went out, so `unchanged` has one to stand for
    bool unreadable_ = false;      // the last BitBlt failed (logged once per outage)
    TimePoint monitor_missing_{};  // since when the monitor cannot be found; zero: it can
    std::atomic<bool> interrupted_{false};
    std::string error_;
};

}  // namespace rec
