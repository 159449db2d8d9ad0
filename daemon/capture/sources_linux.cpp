// Linux's capture for the pipeline (sources.hpp): the X11 screen or a shared-memory ring, and
// PulseAudio.
#include <cstdlib>

#include "pulse_audio.hpp"
#include "shm_source.hpp"
#include "sources.hpp"
#include "x11_screen.hpp"

namespace rec {

std::unique_ptr<ScreenSource> open_screen(const ScreenRequest& request) {
    if (!request.shm_ring.empty())
        return std::make_unique<ShmSource>(ShmTarget{request.shm_ring, request.wait_for_source});
    return std::make_unique<X11Screen>(X11Target{request.display, request.region, request.monitor});
}

std::unique_ptr<AudioSource> make_audio_source(AudioKind kind, const std::string& device) {
    return std::make_unique<PulseAudioSource>(kind, device);
}

ipc::Json list_audio_devices() { return list_pulse_devices(); }

std::string_view screen_source_name() { return "x11"; }

std::string_view screen_description() { return "the X11 screen"; }

std::string choose_display(const std::optional<std::string>& requested,
                           const std::string& configured) {
    const char* env_display = std::getenv("DISPLAY");
    std::string display = requested.value_or(!configured.empty() ? configured
                                             : env_display       ? env_display
                                                                 : "");
    if (display.empty())
        throw Error(ErrorCode::display_unavailable,
                    "no X display to record: recd has no DISPLAY and the request names none");
    return display;
}

}  // namespace rec
