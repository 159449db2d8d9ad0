#include "wasapi_device_watch.hpp"

#include <atomic>

namespace rec {
namespace {

// Created on the acap thread, called by Windows on its own notification thread: it only sets
// the acap thread's `wake` event, which outlives it (unregistered before the thread ends).
class DefaultWatch final : public IMMNotificationClient {
public:
    DefaultWatch(EDataFlow flow, HANDLE wake) : flow_(flow), wake_(wake) {}
    ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
    ULONG STDMETHODCALLTYPE Release() override {
        const ULONG left = --refs_;
        if (left == 0) delete this;
        return left;
    }
    HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
        *out = nullptr;
        if (!IsEqualIID(iid, __uuidof(IUnknown)) &&
            !IsEqualIID(iid, __uuidof(IMMNotificationClient)))
            return E_NOINTERFACE;
        *out = static_cast<IMMNotificationClient*>(this);
        AddRef();
        return S_OK;
    }
    // Called once per role; the console role is the one followed (Capture::connect in
    // wasapi_audio.cpp).
    HRESULT STDMETHODCALLTYPE OnDefaultDeviceChanged(EDataFlow flow, ERole role, LPCWSTR) override {
        if (flow == flow_ && role == eConsole) SetEvent(wake_);
        return S_OK;
    }
    HRESULT STDMETHODCALLTYPE OnDeviceStateChanged(LPCWSTR, DWORD) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE OnDeviceAdded(LPCWSTR) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE OnDeviceRemoved(LPCWSTR) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE OnPropertyValueChanged(LPCWSTR, const PROPERTYKEY) override {
        return S_OK;
    }

private:
    ~DefaultWatch() = default;  // Release() deletes

    std::atomic<ULONG> refs_{1};
    const EDataFlow flow_;
    const HANDLE wake_;
};

}  // namespace

Microsoft::WRL::ComPtr<IMMNotificationClient> watch_default_endpoint(
    IMMDeviceEnumerator& enumerator, EDataFlow flow, HANDLE wake) {
    Microsoft::WRL::ComPtr<IMMNotificationClient> watch;
    watch.Attach(new DefaultWatch(flow, wake));
    if (FAILED(enumerator.RegisterEndpointNotificationCallback(watch.Get()))) watch.Reset();
    return watch;
}

}  // namespace rec
