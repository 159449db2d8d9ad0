#include "dxgi_screen.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "../../common/win32.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;
using Microsoft::WRL::ComPtr;

// AcquireNextFrame cannot be woken by interrupt(), so a wait for a picture is cut into slices of
// this long with the flag checked between them: a stop waits at most one slice, and a waiting
// grab wakes 20 times a second. Only the first picture is waited for (acquire()).
constexpr std::chrono::milliseconds acquire_slice = 50ms;
// A new duplication shows the desktop within a frame or two; if none comes in this long, the
// recording starts with a black picture rather than not at all.
constexpr auto first_picture_within = 2s;
// After the duplication is lost: quick tries cover a desktop switch or a mode change, which
// settle within a few hundred ms. Then (locked screen, UAC prompt, disconnected RDP session:
// minutes or hours) one try every retry_every (about 1 ms of work each), the last picture
// standing, so the capture is back within a quarter second of the desktop.
constexpr int rebuild_tries = 3;
constexpr auto rebuild_pause = 100ms;
constexpr auto retry_every = 250ms;

// Gives the acquired frame back to the duplication when the grab is done with it, after the CPU
// has read the staging copy (Microsoft advises holding it until just before the next acquire,
// but the session may not grab again for a long while: paused, or a low frame rate).
class HeldFrame {
public:
    explicit HeldFrame(ComPtr<IDXGIOutputDuplication> duplication) : d_(std::move(duplication)) {}
    ~HeldFrame() { d_->ReleaseFrame(); }
    HeldFrame(const HeldFrame&) = delete;
    HeldFrame& operator=(const HeldFrame&) = delete;

private:
    ComPtr<IDXGIOutputDuplication> d_;  // its own reference: valid whatever a rebuild does
};

// Failures a later duplication may not have: the desktop comes back, the mode settles.
bool transient(HRESULT hr) {
    switch (hr) {
        case E_ACCESSDENIED:                      // a secure desktop: lock screen, UAC prompt
        case DXGI_ERROR_ACCESS_LOST:              // a desktop switch or mode change under way
        case DXGI_ERROR_UNSUPPORTED:              // mid mode change; a desktop without DWM
        case DXGI_ERROR_SESSION_DISCONNECTED:     // an RDP session without its client
        case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE:  // other programs hold all four duplications
        case DXGI_ERROR_DEVICE_REMOVED:           // a GPU reset or driver update
        case DXGI_ERROR_DEVICE_RESET:
        case DXGI_ERROR_NOT_FOUND:  // the monitor is away (for at most monitor_gone_after)
            return true;
        default:
            return false;
    }
}

// Of those, the failures a capture starts with and waits out (DxgiScreen::start_lost): for now
// nothing can read the desktop, GDI neither. The others may last (no DWM, a mode DXGI cannot
// duplicate, four duplications running, no output for the monitor), and GDI can record then.
bool out_of_reach(HRESULT hr) {
    switch (hr) {
        case E_ACCESSDENIED:
        case DXGI_ERROR_ACCESS_LOST:
        case DXGI_ERROR_SESSION_DISCONNECTED:
        case DXGI_ERROR_DEVICE_REMOVED:
        case DXGI_ERROR_DEVICE_RESET:
            return true;
        default:
            return false;
    }
}

}  // namespace

DxgiScreen::DxgiScreen(const WindowsScreenTarget& target)
    : target_(target), pointer_(target.show_cursor) {
    PerMonitorDpi dpi;
    const WindowsMonitor monitor = target_monitor(target);
    std::string why;
    if (const HRESULT hr = duplicate(monitor.handle, why); FAILED(hr)) start_lost(hr, monitor, why);
    frames_.resize(region_.width, region_.height);
    const auto& m = monitor.area;
    spdlog::info("DXGI capture of monitor {}x{}{:+}{:+}: region {}x{}+{}+{} ({}, cursor {})",
                 m.width, m.height, m.x, m.y, region_.width, region_.height, region_.x, region_.y,
                 gpu_.duplication() ? gpu_.method() : "waiting for the desktop",
                 target.show_cursor ? "drawn" : "not drawn");
}

DxgiScreen::~DxgiScreen() = default;

// Constructor, rebuild(): the duplication built anew; region_ follows it when that succeeded.
HRESULT DxgiScreen::duplicate(void* monitor, std::string& why) {
    staged_ = false;
    const HRESULT hr = gpu_.open(monitor, target_, why);
    if (SUCCEEDED(hr)) region_ = gpu_.region();
    return hr;
}

// Constructor, the duplication failed. Where the desktop is out of reach only for now (locked,
// at logon, an RDP session without its client), the capture starts lost, as after ACCESS_LOST:
// grabs try to rebuild it every retry_every, the first picture black until then. GDI could not
// read such a desktop either, and the recording would be stuck with it to the end. Any other
// failure may last: DISPLAY_UNAVAILABLE, and open_windows_screen falls back to GDI.
void DxgiScreen::start_lost(HRESULT failure, const WindowsMonitor& monitor,
                            const std::string& why) {
    if (!out_of_reach(failure)) throw Error(ErrorCode::display_unavailable, why);
    // The monitor's size as the monitor list has it (physical pixels, as the duplication's
    // mode); should the duplication's differ, rebuild() follows it.
    region_ = target_region(target_, monitor.area.width, monitor.area.height);  // throws
    lost_since_ = Clock::now();
    next_rebuild_ = lost_since_;  // the first grab tries at once
    spdlog::warn("DXGI capture: the desktop cannot be duplicated yet ({}); waiting for it", why);
}

GrabStatus DxgiScreen::grab(VideoFrame& out) {
    out.frame.reset();
    if (interrupted_) return GrabStatus::interrupted;
    if (!gpu_.duplication()) {  // lost, and the last tries failed
        out.time = Clock::now();
        const GrabStatus status = out.time < next_rebuild_ ? GrabStatus::unchanged : rebuild();
        if (status == GrabStatus::unchanged) return stand_still(out);
        if (status != GrabStatus::ok) return status;
    }
    GrabStatus status = GrabStatus::ok;
    const HRESULT hr = grab_frame(out, status);
    if (interrupted_) {
        out.frame.reset();
        return GrabStatus::interrupted;
    }
    return SUCCEEDED(hr) ? status : recover(hr, out);
}

// vcap thread: one frame of the duplication into `out` (status ok), or `unchanged` when neither
// the region's pixels nor the pointer on it changed. A failed HRESULT is for recover().
// The time is taken when AcquireNextFrame returns, not from the frame's LastPresentTime (a QPC
// count that maps to the steady clock easily): the session paces grabs and gives each its slot
// by time, so a picture stamped at its present time could fall before the `unchanged` grab that
// came before it, into a slot already taken, and be dropped. The picture is on the screen at
// the grab's time all the same, as X11Screen's is.
HRESULT DxgiScreen::grab_frame(VideoFrame& out, GrabStatus& status) {
    DXGI_OUTDUPL_FRAME_INFO info{};
    ComPtr<IDXGIResource> resource;
    HRESULT hr = acquire(info, resource);
    out.time = Clock::now();
    if (hr == DXGI_ERROR_WAIT_TIMEOUT) {
        status = stand_still(out);
        return S_OK;
    }
    if (FAILED(hr)) return hr;
    HeldFrame held(gpu_.duplication());
    const bool pointer_changed = pointer_.follow(gpu_.duplication().Get(), info, region_);
    const bool drawn = !staged_ || region_drawn(info);
    if (!drawn && !pointer_changed) {
        status = stand_still(out);
        return S_OK;
    }
    if (drawn) hr = stage(resource.Get());
    return FAILED(hr) ? hr : deliver(out, status);
}

// vcap thread: the duplication's next frame. A grab takes what is there (timeout 0: the session
// paces the grabs, and a grab is the screen as it is now); only the first picture is waited
// for, in slices, since the encoder needs one to start from.
HRESULT DxgiScreen::acquire(DXGI_OUTDUPL_FRAME_INFO& info, ComPtr<IDXGIResource>& resource) {
    const auto give_up = Clock::now() + first_picture_within;
    for (;;) {
        const UINT wait = delivered_ ? 0 : static_cast<UINT>(acquire_slice.count());
        const HRESULT hr =
            gpu_.duplication()->AcquireNextFrame(wait, &info, resource.ReleaseAndGetAddressOf());
        if (hr != DXGI_ERROR_WAIT_TIMEOUT || delivered_ || interrupted_ || Clock::now() >= give_up)
            return hr;
    }
}

// vcap thread: whether the frame's desktop update touched the region, from its move and dirty
// rectangles (a whole-monitor capture need not ask). When in doubt, it did.
bool DxgiScreen::region_drawn(const DXGI_OUTDUPL_FRAME_INFO& info) {
    if (info.LastPresentTime.QuadPart == 0) return false;  // only the pointer changed
    if (!target_.region || info.TotalMetadataBufferSize == 0) return true;
    const UINT bytes = info.TotalMetadataBufferSize;
    moved_.resize(bytes / sizeof(DXGI_OUTDUPL_MOVE_RECT) + 1);
    dirty_.resize(bytes / sizeof(RECT) + 1);
    UINT used = 0;
    const auto move_bytes = static_cast<UINT>(moved_.size() * sizeof(DXGI_OUTDUPL_MOVE_RECT));
    const auto& duplication = gpu_.duplication();
    if (FAILED(duplication->GetFrameMoveRects(move_bytes, moved_.data(), &used))) return true;
    for (UINT i = 0; i < used / sizeof(DXGI_OUTDUPL_MOVE_RECT); ++i)
        if (overlap(to_region(moved_[i].DestinationRect), region_).width) return true;
    const auto dirty_bytes = static_cast<UINT>(dirty_.size() * sizeof(RECT));
    if (FAILED(duplication->GetFrameDirtyRects(dirty_bytes, dirty_.data(), &used))) return true;
    for (UINT i = 0; i < used / sizeof(RECT); ++i)
        if (overlap(to_region(dirty_[i]), region_).width) return true;
    return false;
}

// The region of the acquired desktop image into the staging texture, on the GPU (Map waits for the
// copy).
HRESULT DxgiScreen::stage(IDXGIResource* resource) {
    ComPtr<ID3D11Texture2D> texture;
    const HRESULT hr = resource->QueryInterface(IID_PPV_ARGS(&texture));
    if (FAILED(hr)) return hr;
    D3D11_TEXTURE2D_DESC desc{};
    texture->GetDesc(&desc);
    // A mode change not reported yet: rebuilt as for a lost duplication.
    if (int(desc.Width) != gpu_.output_width() || int(desc.Height) != gpu_.output_height())
        return DXGI_ERROR_ACCESS_LOST;
    const auto& r = region_;
    const D3D11_BOX box{UINT(r.x), UINT(r.y), 0, UINT(r.x + r.width), UINT(r.y + r.height), 1};
    gpu_.context()->CopySubresourceRegion(gpu_.staging(), 0, 0, 0, 0, texture.Get(), 0, &box);
    staged_ = true;
    return S_OK;
}

HRESULT DxgiScreen::deliver(VideoFrame& out, GrabStatus& status) {
    D3D11_MAPPED_SUBRESOURCE mapped{};
    const HRESULT hr = gpu_.context()->Map(gpu_.staging(), 0, D3D11_MAP_READ, 0, &mapped);
    if (FAILED(hr)) return hr;
    // The staging texture is mapped read-only and also serves later pictures in which only the
    // pointer moved, so the pointer goes onto the frame (a copy), never onto the texture.
    const auto* pixels = static_cast<const uint8_t*>(mapped.pData);
    FramePtr frame = frames_.from_bgrx(pixels, int(mapped.RowPitch));
    if (frame) pointer_.draw(pixels, int(mapped.RowPitch), *frame, region_);
    gpu_.context()->Unmap(gpu_.staging(), 0);
    if (!frame) {
        status = lose("out of memory for a frame");
        return S_OK;
    }
    pointer_.delivered(region_);
    delivered_ = true;
    out.frame = std::move(frame);
    status = GrabStatus::ok;
    return S_OK;
}

// The previous picture stands for this grab (`unchanged`); before any, a black picture: the
// encoder needs one to start from.
GrabStatus DxgiScreen::stand_still(VideoFrame& out) {
    if (delivered_) return GrabStatus::unchanged;
    FramePtr frame = frames_.black();
    if (!frame) return lose("out of memory for a frame");
    spdlog::warn("DXGI capture: no picture from the desktop yet; starting with a black one");
    delivered_ = true;
    out.frame = std::move(frame);
    return GrabStatus::ok;
}

// vcap thread: a failed grab. A lost duplication (desktop switch, mode change) or GPU device
// (reset, driver update) is rebuilt: a few quick tries here, then one from a later grab every
// retry_every, the last picture standing meanwhile. Anything else ends the capture.
GrabStatus DxgiScreen::recover(HRESULT failure, VideoFrame& out) {
    const bool device_lost =
        failure == DXGI_ERROR_DEVICE_REMOVED || failure == DXGI_ERROR_DEVICE_RESET;
    if (failure != DXGI_ERROR_ACCESS_LOST && !device_lost)
        return lose("desktop duplication failed: " + hresult_text(failure));
    if (device_lost)
        spdlog::warn("DXGI capture: the GPU device was lost ({}); making a new one",
                     hresult_text(gpu_.device()->GetDeviceRemovedReason()));
    else
        spdlog::info("DXGI capture: the duplication was lost (desktop switch or mode change)");
    gpu_.close(device_lost);
    lost_since_ = Clock::now();
    GrabStatus status = GrabStatus::unchanged;
    for (int i = 0; i < rebuild_tries && status == GrabStatus::unchanged; ++i) {
        if (!pause(rebuild_pause)) return GrabStatus::interrupted;
        status = rebuild();
    }
    if (status == GrabStatus::lost) return status;
    if (status == GrabStatus::unchanged)
        spdlog::info("DXGI capture: not rebuilt yet ({}); the last picture stands", error_);
    out.time = Clock::now();
    return stand_still(out);
}

// vcap thread, while the duplication is lost: one try to build it again. ok: it is back (a new
// size followed); unchanged: not yet (next_rebuild_ says when to try again); lost: never.
GrabStatus DxgiScreen::rebuild() {
    PerMonitorDpi dpi;
    const ipc::Region before = region_;
    const auto monitor = find_monitor(target_.monitor);
    std::string why;
    HRESULT hr = DXGI_ERROR_NOT_FOUND;
    try {
        if (monitor)
            hr = duplicate(monitor->handle, why);
        else
            why = "the monitor is gone; monitors: " + describe_monitors();
    } catch (const Error& e) {  // the region is no longer on the monitor
        return lose(fmt::format("after a display change: {}", e.what()));
    }
    const auto now = Clock::now();
    if (FAILED(hr)) {
        const bool gone = hr == DXGI_ERROR_NOT_FOUND && now - lost_since_ > monitor_gone_after;
        if (!transient(hr) || gone) return lose("desktop duplication lost: " + why);
        next_rebuild_ = now + retry_every;
        error_ = why;  // for recover()'s log; error() is read only after a `lost`
        return GrabStatus::unchanged;
    }
    ++rebuilt_;
    spdlog::info("DXGI capture: back after {:.1f} s ({})", Seconds(now - lost_since_).count(),
                 gpu_.method());
    if (region_ == before) return GrabStatus::ok;
    spdlog::info("DXGI capture: the monitor is now {}x{}; recording all of it", gpu_.output_width(),
                 gpu_.output_height());
    frames_.resize(region_.width, region_.height);
    return GrabStatus::ok;
}

// Sleeps `length` in short steps, so that interrupt() ends it early (false).
bool DxgiScreen::pause(Clock::duration length) const {
    const auto until = Clock::now() + length;
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
        if (interrupted_) return false;
        std::this_thread::sleep_for(std::min<Clock::duration>(until - now, 10ms));
    }
    return !interrupted_;
}

GrabStatus DxgiScreen::lose(std::string why) {
    error_ = std::move(why);
    return GrabStatus::lost;
}

void DxgiScreen::describe(ipc::Json& status) const {
    status["capture"] = {{"method", "dxgi"}, {"rebuilt", rebuilt_.load()}};
}

}  // namespace rec
