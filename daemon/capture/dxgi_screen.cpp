#include "dxgi_screen.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

extern "C" {
#include <libavutil/imgutils.h>
}

#include "../../common/win32.hpp"
#include "../media/bgrx_to_i420.hpp"

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
// A monitor missing this long after the duplication was lost is unplugged, not reconfiguring.
constexpr auto monitor_gone_after = 10s;
// Rows of a frame start 32-byte aligned, as X11Screen's (the encoders' AVX2 loops).
constexpr int frame_alignment = 32;

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

const char* hint(HRESULT hr) {
    switch (hr) {
        case E_ACCESSDENIED:
            return ": the desktop is locked or a UAC prompt shows";
        case E_INVALIDARG:
            return ": recd duplicates this monitor already (another session?)";
        case DXGI_ERROR_UNSUPPORTED:
            return ": no DWM or a mode DXGI cannot duplicate";
        case DXGI_ERROR_SESSION_DISCONNECTED:
            return ": the session is disconnected";
        case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE:
            return ": four duplications already run";
        default:
            return "";
    }
}

ipc::Region to_region(const RECT& r) { return {r.left, r.top, r.right - r.left, r.bottom - r.top}; }

}  // namespace

DxgiScreen::DxgiScreen(const WindowsScreenTarget& target)
    : target_(target), pointer_(target.show_cursor) {
    PerMonitorDpi dpi;
    const WindowsMonitor monitor = target_monitor(target);
    std::string why;
    if (FAILED(duplicate(monitor.handle, why))) throw Error(ErrorCode::display_unavailable, why);
    make_pool();
    const auto& m = monitor.area;
    spdlog::info("DXGI capture of monitor {}x{}{:+}{:+}: region {}x{}+{}+{} ({}, cursor {})",
                 m.width, m.height, m.x, m.y, region_.width, region_.height, region_.x, region_.y,
                 method_, target.show_cursor ? "drawn" : "not drawn");
}

DxgiScreen::~DxgiScreen() = default;

// Constructor, rebuild(): the output showing `monitor`, a device on its adapter, the
// duplication and the staging texture. On failure duplication_ is null and `why` says why.
HRESULT DxgiScreen::duplicate(void* monitor, std::string& why) {
    duplication_.Reset();
    staging_.Reset();
    staged_ = false;
    ComPtr<IDXGIAdapter1> adapter;
    ComPtr<IDXGIOutput1> output;
    HRESULT hr = find_output(monitor, adapter, output, why);
    if (SUCCEEDED(hr)) hr = make_device(adapter.Get(), why);
    if (SUCCEEDED(hr)) hr = duplicate_output(output.Get(), why);
    if (SUCCEEDED(hr)) hr = take_mode(why);
    if (FAILED(hr)) duplication_.Reset();
    return hr;
}

// A new factory each time: one made before a display change lists the outputs as they were.
HRESULT DxgiScreen::find_output(void* monitor, ComPtr<IDXGIAdapter1>& adapter,
                                ComPtr<IDXGIOutput1>& output, std::string& why) {
    ComPtr<IDXGIFactory1> factory;
    HRESULT hr = CreateDXGIFactory1(IID_PPV_ARGS(&factory));
    if (FAILED(hr)) {
        why = "CreateDXGIFactory1: " + hresult_text(hr);
        return hr;
    }
    for (UINT a = 0; factory->EnumAdapters1(a, adapter.ReleaseAndGetAddressOf()) == S_OK; ++a) {
        ComPtr<IDXGIOutput> candidate;
        for (UINT o = 0; adapter->EnumOutputs(o, candidate.ReleaseAndGetAddressOf()) == S_OK; ++o) {
            DXGI_OUTPUT_DESC desc{};
            if (FAILED(candidate->GetDesc(&desc)) || desc.Monitor != static_cast<HMONITOR>(monitor))
                continue;
            hr = candidate.As(&output);  // IDXGIOutput1: Windows 8 and later
            if (FAILED(hr)) why = "no IDXGIOutput1: " + hresult_text(hr);
            return hr;
        }
    }
    why = "no DXGI output shows the monitor (an indirect or mirrored display?)";
    return DXGI_ERROR_NOT_FOUND;
}

// The device of the last duplication is kept while it is on the same adapter and alive.
HRESULT DxgiScreen::make_device(IDXGIAdapter1* adapter, std::string& why) {
    DXGI_ADAPTER_DESC1 desc{};
    adapter->GetDesc1(&desc);
    const bool same = desc.AdapterLuid.LowPart == adapter_.LowPart &&
                      desc.AdapterLuid.HighPart == adapter_.HighPart;
    if (device_ && same && device_->GetDeviceRemovedReason() == S_OK) return S_OK;
    context_.Reset();
    device_.Reset();
    // A device on a given adapter takes D3D_DRIVER_TYPE_UNKNOWN; the default feature levels
    // (11.0 down to 9.1) all copy textures.
    const HRESULT hr = D3D11CreateDevice(adapter, D3D_DRIVER_TYPE_UNKNOWN, nullptr, 0, nullptr, 0,
                                         D3D11_SDK_VERSION, device_.GetAddressOf(), nullptr,
                                         context_.GetAddressOf());
    if (FAILED(hr)) {
        why =
            fmt::format("D3D11CreateDevice on {}: {}", to_utf8(desc.Description), hresult_text(hr));
        return hr;
    }
    adapter_ = desc.AdapterLuid;
    spdlog::info("DXGI capture: D3D11 device on {}", to_utf8(desc.Description));
    return S_OK;
}

// IDXGIOutput5::DuplicateOutput1 asked for BGRA (the desktop as it is, HDR or 10-bit converted
// by DXGI), else IDXGIOutput1::DuplicateOutput (always BGRA). DuplicateOutput1 needs Windows 10
// 1703 and a per-monitor DPI aware thread (PerMonitorDpi, held by the callers).
HRESULT DxgiScreen::duplicate_output(IDXGIOutput1* output, std::string& why) {
    ComPtr<IDXGIOutput5> output5;
    if (SUCCEEDED(output->QueryInterface(IID_PPV_ARGS(&output5)))) {
        const DXGI_FORMAT formats[] = {DXGI_FORMAT_B8G8R8A8_UNORM};
        const HRESULT hr = output5->DuplicateOutput1(device_.Get(), 0, 1, formats,
                                                     duplication_.ReleaseAndGetAddressOf());
        method_ = "DuplicateOutput1";
        if (SUCCEEDED(hr)) return hr;
        spdlog::debug("DXGI capture: DuplicateOutput1: {}; trying DuplicateOutput",
                      hresult_text(hr));
    }
    const HRESULT hr =
        output->DuplicateOutput(device_.Get(), duplication_.ReleaseAndGetAddressOf());
    method_ = "DuplicateOutput";
    if (FAILED(hr)) why = fmt::format("DuplicateOutput: {}{}", hresult_text(hr), hint(hr));
    return hr;
}

// The duplicated mode: its size sets the region (a whole-monitor capture follows it); the
// staging texture gets the region's size. region_ changes only when all of it succeeded.
HRESULT DxgiScreen::take_mode(std::string& why) {
    DXGI_OUTDUPL_DESC desc{};
    duplication_->GetDesc(&desc);
    const DXGI_FORMAT format = desc.ModeDesc.Format;
    if (format != DXGI_FORMAT_B8G8R8A8_UNORM && format != DXGI_FORMAT_B8G8R8A8_UNORM_SRGB) {
        why = fmt::format("the desktop's DXGI format is {}, not 8-bit BGRA", int(format));
        return E_NOTIMPL;
    }
    // The image of a rotated monitor comes unrotated; GDI (the fallback) copies it upright.
    if (desc.Rotation != DXGI_MODE_ROTATION_IDENTITY &&
        desc.Rotation != DXGI_MODE_ROTATION_UNSPECIFIED) {
        why = "the monitor is rotated, which DXGI capture does not handle";
        return E_NOTIMPL;
    }
    const int width = desc.ModeDesc.Width, height = desc.ModeDesc.Height;
    const ipc::Region region = target_region(target_, width, height);  // throws
    D3D11_TEXTURE2D_DESC t{};
    t.Width = region.width;
    t.Height = region.height;
    t.MipLevels = t.ArraySize = t.SampleDesc.Count = 1;
    t.Format = format;
    t.Usage = D3D11_USAGE_STAGING;
    t.CPUAccessFlags = D3D11_CPU_ACCESS_READ;
    const HRESULT hr = device_->CreateTexture2D(&t, nullptr, staging_.ReleaseAndGetAddressOf());
    if (FAILED(hr)) {
        why = "CreateTexture2D (staging): " + hresult_text(hr);
        return hr;
    }
    output_width_ = width;
    output_height_ = height;
    region_ = region;
    return S_OK;
}

void DxgiScreen::make_pool() {
    const int bytes =
        av_image_get_buffer_size(format_, region_.width, region_.height, frame_alignment);
    pool_.reset(av_buffer_pool_init(bytes + AV_INPUT_BUFFER_PADDING_SIZE, nullptr));
}

// The pipeline's thread, before the first grab (ScreenSource).
void DxgiScreen::prefer_format(AVPixelFormat format, int width, int height) {
    const bool i420 =
        format == AV_PIX_FMT_YUV420P && width == region_.width && height == region_.height;
    if (!i420 && format != AV_PIX_FMT_BGRA && format != AV_PIX_FMT_BGR0) return;
    format_ = format;
    make_pool();
}

GrabStatus DxgiScreen::grab(VideoFrame& out) {
    out.frame.reset();
    if (interrupted_) return GrabStatus::interrupted;
    if (!duplication_) {  // lost, and the last tries failed
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
    HeldFrame held(duplication_);
    const bool pointer_changed = pointer_.follow(duplication_.Get(), info, region_);
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
            duplication_->AcquireNextFrame(wait, &info, resource.ReleaseAndGetAddressOf());
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
    if (FAILED(duplication_->GetFrameMoveRects(move_bytes, moved_.data(), &used))) return true;
    for (UINT i = 0; i < used / sizeof(DXGI_OUTDUPL_MOVE_RECT); ++i)
        if (overlap(to_region(moved_[i].DestinationRect), region_).width) return true;
    const auto dirty_bytes = static_cast<UINT>(dirty_.size() * sizeof(RECT));
    if (FAILED(duplication_->GetFrameDirtyRects(dirty_bytes, dirty_.data(), &used))) return true;
    for (UINT i = 0; i < used / sizeof(RECT); ++i)
        if (overlap(to_region(dirty_[i]), region_).width) return true;
    return false;
}

// The region of the acquired desktop image into staging_, on the GPU (Map waits for the copy).
HRESULT DxgiScreen::stage(IDXGIResource* resource) {
    ComPtr<ID3D11Texture2D> texture;
    const HRESULT hr = resource->QueryInterface(IID_PPV_ARGS(&texture));
    if (FAILED(hr)) return hr;
    D3D11_TEXTURE2D_DESC desc{};
    texture->GetDesc(&desc);
    // A mode change not reported yet: rebuilt as for a lost duplication.
    if (int(desc.Width) != output_width_ || int(desc.Height) != output_height_)
        return DXGI_ERROR_ACCESS_LOST;
    const auto& r = region_;
    const D3D11_BOX box{UINT(r.x), UINT(r.y), 0, UINT(r.x + r.width), UINT(r.y + r.height), 1};
    context_->CopySubresourceRegion(staging_.Get(), 0, 0, 0, 0, texture.Get(), 0, &box);
    staged_ = true;
    return S_OK;
}

HRESULT DxgiScreen::deliver(VideoFrame& out, GrabStatus& status) {
    D3D11_MAPPED_SUBRESOURCE mapped{};
    const HRESULT hr = context_->Map(staging_.Get(), 0, D3D11_MAP_READ, 0, &mapped);
    if (FAILED(hr)) return hr;
    FramePtr frame = new_frame();
    if (frame) copy_out(static_cast<const uint8_t*>(mapped.pData), int(mapped.RowPitch), *frame);
    context_->Unmap(staging_.Get(), 0);
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

// The mapped region (BGRA rows `pitch` bytes apart) copied or converted into `frame`, and the
// pointer drawn over it. The staging texture is mapped read-only and also serves later pictures
// in which only the pointer moved, so the pointer goes onto the frame (a copy), never onto the
// staging texture.
void DxgiScreen::copy_out(const uint8_t* pixels, int pitch, AVFrame& frame) {
    if (format_ == AV_PIX_FMT_YUV420P)
        bgrx_to_i420(pixels, pitch, frame.data, frame.linesize, region_.width, region_.height);
    else
        av_image_copy_plane(frame.data[0], frame.linesize[0], pixels, pitch, region_.width * 4,
                            region_.height);
    pointer_.draw(pixels, pitch, frame, region_);
}

FramePtr DxgiScreen::new_frame() {
    FramePtr frame(av_frame_alloc());
    if (!frame) return nullptr;
    frame->format = format_;
    frame->width = region_.width;
    frame->height = region_.height;
    frame->buf[0] = av_buffer_pool_get(pool_.get());
    if (!frame->buf[0]) return nullptr;
    av_image_fill_arrays(frame->data, frame->linesize, frame->buf[0]->data, format_, region_.width,
                         region_.height, frame_alignment);
    return frame;
}

// The previous picture stands for this grab (`unchanged`); before any, a black picture: the
// encoder needs one to start from.
GrabStatus DxgiScreen::stand_still(VideoFrame& out) {
    if (delivered_) return GrabStatus::unchanged;
    FramePtr frame = new_frame();
    if (!frame) return lose("out of memory for a frame");
    const ptrdiff_t linesize[4] = {frame->linesize[0], frame->linesize[1], frame->linesize[2],
                                   frame->linesize[3]};
    av_image_fill_black(frame->data, linesize, format_,
                        format_ == AV_PIX_FMT_YUV420P ? AVCOL_RANGE_MPEG : AVCOL_RANGE_JPEG,
                        region_.width, region_.height);
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
                     hresult_text(device_->GetDeviceRemovedReason()));
    else
        spdlog::info("DXGI capture: the duplication was lost (desktop switch or mode change)");
    duplication_.Reset();
    staging_.Reset();
    if (device_lost) {
        context_.Reset();
        device_.Reset();
    }
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
                 method_);
    if (region_ == before) return GrabStatus::ok;
    spdlog::info("DXGI capture: the monitor is now {}x{}; recording all of it", output_width_,
                 output_height_);
    make_pool();
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
