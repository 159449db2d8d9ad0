#pragma once
// Following the default endpoint: Windows reports a new default through an
// IMMNotificationClient, which here only sets an event the acap thread waits on (Capture::run
// in wasapi_audio.cpp reconnects when it is set).
#include <mmdeviceapi.h>
#include <wrl/client.h>

namespace rec {

// Called on the acap thread (Capture::make_enumerator). Registers with `enumerator` a client that
// sets `wake` whenever the console role's default `flow` endpoint changes; Windows calls it on
// its own notification thread. Null if Windows refuses: then a default change is noticed only if
// the old device goes. The caller unregisters the client before `wake` is closed.
Microsoft::WRL::ComPtr<IMMNotificationClient> watch_default_endpoint(
    IMMDeviceEnumerator& enumerator, EDataFlow flow, HANDLE wake);

}  // namespace rec
