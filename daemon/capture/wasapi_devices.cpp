#include "wasapi_devices.hpp"

#include <fmt/format.h>
#include <windows.h>
#include <wrl/client.h>

#include "../../common/error.hpp"
#include "../../common/win32.hpp"

namespace rec {
namespace {

using Microsoft::WRL::ComPtr;

// PKEY_Device_FriendlyName, spelled out so that no GUID library (propsys) has to be linked for
// one constant.
constexpr PROPERTYKEY friendly_name_key{
    {0xa45c254e, 0xdf1c, 0x4efd, {0x80, 0x20, 0x67, 0xd1, 0x46, 0xa8, 0x50, 0xe0}}, 14};

// The calling thread in the multithreaded apartment for this object's life. A worker that is in
// it already (an earlier listing) counts once more; one in a single-threaded apartment stays
// there (RPC_E_CHANGED_MODE): the enumerator works from either.
class ComApartment {
public:
    ComApartment() : result_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
    ~ComApartment() {
        if (SUCCEEDED(result_)) CoUninitialize();
    }
    ComApartment(const ComApartment&) = delete;
    ComApartment& operator=(const ComApartment&) = delete;

private:
    const HRESULT result_;
};

[[noreturn]] void fail(const char* what, HRESULT hr) {
    throw Error(ErrorCode::audio_unavailable,
                fmt::format("cannot list audio devices: {} ({})", what, hresult_text(hr)));
}

// The active endpoints of `flow`, as the Linux list has them: name (the id), description.
ipc::Json endpoints(IMMDeviceEnumerator& enumerator, EDataFlow flow) {
    ComPtr<IMMDeviceCollection> collection;
    if (const HRESULT hr = enumerator.EnumAudioEndpoints(flow, DEVICE_STATE_ACTIVE, &collection);
        FAILED(hr))
        fail("no endpoint collection", hr);
    UINT count = 0;
    collection->GetCount(&count);
    ipc::Json list = ipc::Json::array();
    for (UINT i = 0; i < count; ++i) {
        ComPtr<IMMDevice> device;
        if (FAILED(collection->Item(i, &device))) continue;  // gone meanwhile
        const std::string id = endpoint_id(*device.Get());
        ipc::Json entry = {{"name", id}, {"description", endpoint_name(*device.Get())}};
        if (flow == eRender)
            entry["monitor"] = id;
        else
            entry["monitor_of"] = false;  // Windows lists loopback under its playback endpoint
        list.push_back(std::move(entry));
    }
    return list;
}

// The console role's default endpoint of `flow` (what recd records by default), "" if none.
std::string default_endpoint(IMMDeviceEnumerator& enumerator, EDataFlow flow) {
    ComPtr<IMMDevice> device;
    if (FAILED(enumerator.GetDefaultAudioEndpoint(flow, eConsole, &device))) return {};
    return endpoint_id(*device.Get());
}

}  // namespace

std::string endpoint_name(IMMDevice& device) {
    std::string name;
    ComPtr<IPropertyStore> props;
    PROPVARIANT value;
    PropVariantInit(&value);
    if (SUCCEEDED(device.OpenPropertyStore(STGM_READ, &props)) &&
        SUCCEEDED(props->GetValue(friendly_name_key, &value)) && value.vt == VT_LPWSTR)
        name = to_utf8(value.pwszVal);
    PropVariantClear(&value);
    return name;
}

std::string endpoint_id(IMMDevice& device) {
    LPWSTR id = nullptr;
    if (FAILED(device.GetId(&id))) return {};
    const UniqueCoTask<wchar_t> owned(id);
    return to_utf8(id);
}

ipc::Json list_wasapi_devices() {
    const ComApartment apartment;
    ComPtr<IMMDeviceEnumerator> enumerator;
    if (const HRESULT hr = CoCreateInstance(__uuidof(MMDeviceEnumerator), nullptr, CLSCTX_ALL,
                                            IID_PPV_ARGS(&enumerator));
        FAILED(hr))
        fail("no audio device enumerator", hr);
    return {{"sinks", endpoints(*enumerator.Get(), eRender)},
            {"sources", endpoints(*enumerator.Get(), eCapture)},
            {"default_sink", default_endpoint(*enumerator.Get(), eRender)},
            {"default_source", default_endpoint(*enumerator.Get(), eCapture)}};
}

}  // namespace rec
