#pragma once
// The Direct3D side of a DxgiScreen: a D3D11 device on the adapter that shows the monitor, the
// output's Desktop Duplication, and a staging texture of the recorded region that the CPU reads;
// and how they are built, at the start and again after the duplication or the device was lost.
// Owned by DxgiScreen: built on its constructor's thread, then used on the vcap thread alone
// (a device's immediate context is not thread-safe).
#include <d3d11.h>
#include <dxgi1_5.h>
#include <wrl/client.h>

#include <string>

#include "windows_screen.hpp"

namespace rec {

class DxgiDuplication {
public:
    template <typename T>
    using ComPtr = Microsoft::WRL::ComPtr<T>;

    // The output showing `monitor` (an HMONITOR), a device on its adapter (the last one kept
    // while it is on that adapter and alive), the output's duplication, and a staging texture of
    // `target`'s part of the duplicated mode, which region() then names. On failure
    // duplication() is null and `why` says why. Throws rec::Error INVALID_ARGUMENT when the
    // target's region is not on the monitor. The caller holds a PerMonitorDpi.
    HRESULT open(void* monitor, const WindowsScreenTarget& target, std::string& why);
    // The duplication was lost (a desktop switch, a mode change) and goes, with the staging
    // texture; with `device_too` (a GPU reset, a driver update) the device goes as well.
    void close(bool device_too);

    ID3D11Device* device() const { return device_.Get(); }
    ID3D11DeviceContext* context() const { return context_.Get(); }
    const ComPtr<IDXGIOutputDuplication>& duplication() const { return duplication_; }
    ID3D11Texture2D* staging() const { return staging_.Get(); }
    // Of the last open() that succeeded: the duplicated mode's size, the part of it recorded
    // (the staging texture's size), and which Duplicate call made the duplication.
    int output_width() const { return output_width_; }
    int output_height() const { return output_height_; }
    const ipc::Region& region() const { return region_; }
    const char* method() const { return method_; }

private:
    HRESULT find_output(void* monitor, ComPtr<IDXGIAdapter1>& adapter, ComPtr<IDXGIOutput1>& output,
                        std::string& why);
    HRESULT make_device(IDXGIAdapter1* adapter, std::string& why);
    HRESULT duplicate_output(IDXGIOutput1* output, std::string& why);
    HRESULT take_mode(const WindowsScreenTarget& target, std::string& why);

    ComPtr<ID3D11Device> device_;
    ComPtr<ID3D11DeviceContext> context_;
    LUID adapter_{};                              // device_'s adapter
    ComPtr<IDXGIOutputDuplication> duplication_;  // null while lost
    ComPtr<ID3D11Texture2D> staging_;             // region_'s size, CPU-readable
    int output_width_ = 0, output_height_ = 0;
    ipc::Region region_;  // in the output's pixels
    const char* method_ = "";
};

}  // namespace rec
