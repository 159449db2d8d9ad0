#include "dxgi_duplication.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "../../common/win32.hpp"

namespace rec {
namespace {

using Microsoft::WRL::ComPtr;

// What DuplicateOutput's failures mean here, for the messages.
const char* hint(HRESULT hr) {
    switch (hr) {
        case E_ACCESSDENIED:
            return ": the desktop is locked or a UAC prompt shows";
        case E_INVALIDARG:
            // Another session cannot be the cause: it has outputs of its own to duplicate.
            return ": another recording in this recd duplicates the monitor already, or the "
                   "device or output is invalid";
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

}  // namespace

// DxgiScreen's constructor and its rebuilds (vcap thread). A failure leaves only the device,
// which the next try may keep.
HRESULT DxgiDuplication::open(void* monitor, const WindowsScreenTarget& target, std::string& why) {
    close(false);
    ComPtr<IDXGIAdapter1> adapter;
    ComPtr<IDXGIOutput1> output;
    HRESULT hr = find_output(monitor, adapter, output, why);
    if (SUCCEEDED(hr)) hr = make_device(adapter.Get(), why);
    if (SUCCEEDED(hr)) hr = duplicate_output(output.Get(), why);
    if (SUCCEEDED(hr)) hr = take_mode(target, why);
    if (FAILED(hr)) duplication_.Reset();
    return hr;
}

void DxgiDuplication::close(bool device_too) {
    duplication_.Reset();
    staging_.Reset();
    if (!device_too) return;
    context_.Reset();
    device_.Reset();
}

// A new factory each time: one made before a display change lists the outputs as they were.
HRESULT DxgiDuplication::find_output(void* monitor, ComPtr<IDXGIAdapter1>& adapter,
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
            // The image of a rotated monitor comes unrotated; GDI (the fallback) copies it
            // upright. Asked here, before any duplication: refused even while the desktop is out
            // of reach, so that a capture started then falls back at once.
            if (desc.Rotation != DXGI_MODE_ROTATION_IDENTITY &&
                desc.Rotation != DXGI_MODE_ROTATION_UNSPECIFIED) {
                why = "the monitor is rotated, which DXGI capture does not handle";
                return E_NOTIMPL;
            }
            hr = candidate.As(&output);  // IDXGIOutput1: Windows 8 and later
            if (FAILED(hr)) why = "no IDXGIOutput1: " + hresult_text(hr);
            return hr;
        }
    }
    why = "no DXGI output shows the monitor (an indirect or mirrored display?)";
    return DXGI_ERROR_NOT_FOUND;
}

// The device of the last duplication is kept while it is on the same adapter and alive.
HRESULT DxgiDuplication::make_device(IDXGIAdapter1* adapter, std::string& why) {
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
HRESULT DxgiDuplication::duplicate_output(IDXGIOutput1* output, std::string& why) {
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
HRESULT DxgiDuplication::take_mode(const WindowsScreenTarget& target, std::string& why) {
    DXGI_OUTDUPL_DESC desc{};
    duplication_->GetDesc(&desc);
    const DXGI_FORMAT format = desc.ModeDesc.Format;
    if (format != DXGI_FORMAT_B8G8R8A8_UNORM && format != DXGI_FORMAT_B8G8R8A8_UNORM_SRGB) {
        why = fmt::format("the desktop's DXGI format is {}, not 8-bit BGRA", int(format));
        return E_NOTIMPL;
    }
    const int width = desc.ModeDesc.Width, height = desc.ModeDesc.Height;
    const ipc::Region region = target_region(target, width, height);  // throws
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

}  // namespace rec
