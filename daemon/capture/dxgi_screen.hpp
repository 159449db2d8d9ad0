#pragma once
// Windows screen capture through DXGI Desktop Duplication, one monitor (output) at a time. The
// desktop image stays on the GPU: the region is copied into a staging texture there, and only
// that is read back and copied (BGR0/BGRA) or converted (I420, bgrx_to_i420) into a frame.
// Windows says what each frame changed (dirty and move rectangles, pointer updates), so a grab
// in which nothing touched the region and the pointer did not move is `unchanged`, as X11's
// DAMAGE makes it; and unlike DAMAGE this is exact, so refresh() has nothing to add.
// The duplication is lost on a desktop switch (lock screen, UAC's secure desktop), a display
// mode change or a GPU reset: it is rebuilt, and meanwhile the last picture stands. A
// whole-monitor capture follows a new size (frames change size; the session scales them or
// starts a new file); a region is captured on while it fits the monitor. A capture started
// while the desktop is out of reach (locked, at logon, an RDP session without its client)
// starts as if lost: a black picture until the desktop can be duplicated.
// Threads as in ScreenSource: built on a worker thread, grab() on the vcap thread only (the D3D
// device and its context are used there alone after construction), interrupt() and describe()
// from any thread.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "../media/frame_pool.hpp"
#include "dxgi_duplication.hpp"
#include "dxgi_pointer.hpp"
#include "screen_source.hpp"
#include "windows_screen.hpp"

namespace rec {

class DxgiScreen final : public ScreenSource {
public:
    // Throws rec::Error: DISPLAY_UNAVAILABLE (the desktop cannot be duplicated, and may never
    // be: the caller falls back to GDI), INVALID_ARGUMENT (no such monitor, region not on it).
    // Where it is out of reach only for now, it starts lost (start_lost).
    explicit DxgiScreen(const WindowsScreenTarget& target);
    ~DxgiScreen() override;

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
    template <typename T>
    using ComPtr = Microsoft::WRL::ComPtr<T>;

    HRESULT duplicate(void* monitor, std::string& why);
    void start_lost(HRESULT failure, const WindowsMonitor& monitor, const std::string& why);
    GrabStatus rebuild();
    GrabStatus recover(HRESULT failure, VideoFrame& out);
    HRESULT grab_frame(VideoFrame& out, GrabStatus& status);
    HRESULT acquire(DXGI_OUTDUPL_FRAME_INFO& info, ComPtr<IDXGIResource>& resource);
    bool region_drawn(const DXGI_OUTDUPL_FRAME_INFO& info);
    HRESULT stage(IDXGIResource* resource);
    HRESULT deliver(VideoFrame& out, GrabStatus& status);
    GrabStatus stand_still(VideoFrame& out);
    bool pause(Clock::duration length) const;
    GrabStatus lose(std::string why);

    const WindowsScreenTarget target_;
    DxgiDuplication gpu_;                // its duplication() is null while lost
    ipc::Region region_;                 // in the output's pixels
    FramePool frames_{AV_PIX_FMT_BGR0};  // what grab() delivers, at region_'s size
    // staged_: the staging texture holds the region as it is (false after a rebuild until a
    // copy).
    // delivered_: a picture went out, so `unchanged` has one to stand for.
    bool staged_ = false, delivered_ = false;
    DxgiPointer pointer_;  // the mouse pointer, kept between frames and drawn onto them
    std::vector<RECT> dirty_;
    std::vector<DXGI_OUTDUPL_MOVE_RECT> moved_;
    TimePoint lost_since_{}, next_rebuild_{};
    std::atomic<bool> interrupted_{false};
    std::atomic<int> rebuilt_{0};
    std::string error_;
};

}  // namespace rec
