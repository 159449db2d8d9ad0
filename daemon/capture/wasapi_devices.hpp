#pragma once
// WASAPI endpoints by name: what the acap thread logs and reports of the endpoint it records,
// and the list `recctl devices` shows on Windows. Windows-only (named after the technology).
#include <mmdeviceapi.h>

#include <string>

#include "../../common/ipc/protocol.hpp"

namespace rec {

// Any thread inside a COM apartment: the endpoint's friendly name ("Speakers (Realtek(R)
// Audio)") and its id (what audio.system_device / audio.mic_device take); "" if unknown.
std::string endpoint_name(IMMDevice& device);
std::string endpoint_id(IMMDevice& device);

// A worker thread (`recctl devices`), which joins the multithreaded COM apartment for the call:
// the active playback endpoints as "sinks" (recording one's sound takes its id as
// system_device: its "monitor" is that id), the active recording endpoints as "sources", and the
// console role's defaults. Throws rec::Error(AUDIO_UNAVAILABLE) when the endpoints cannot be
// enumerated (the Windows Audio service is not running).
ipc::Json list_wasapi_devices();

}  // namespace rec
