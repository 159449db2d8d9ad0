// Windows's capture for the pipeline (sources.hpp): the desktop of recd's own session (DXGI
// Desktop Duplication, else GDI: open_windows_screen) and WASAPI. Shared-memory rings are
// Linux-only (POSIX shared memory, /dev/shm): a request for one is refused with the reason.
#include <fmt/format.h>

#include <charconv>

#include "../../common/ipc/named_pipe.hpp"
#include "sources.hpp"
#include "wasapi_audio.hpp"
#include "wasapi_devices.hpp"
#include "windows_screen.hpp"

namespace rec {
namespace {

// A monitor is named by its index in windows_monitors() ("0", "1"; none: the primary one):
// Windows' own names (\\.\DISPLAY1) change with the adapter and the order of attachment.
int monitor_index(const std::string& monitor) {
    if (monitor.empty()) return -1;
    int index = -1;
    const auto [end, error] =
        std::from_chars(monitor.data(), monitor.data() + monitor.size(), index);
    if (error != std::errc() || end != monitor.data() + monitor.size() || index < 0)
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("monitor on Windows is a monitor's number, got \"{}\"; monitors: {}",
                        monitor, describe_monitors()));
    return index;
}

// What this recd records: the desktop of the session it runs in (recd-service starts one recd
// in each), named as account_id() names that session's user.
std::string own_desktop() { return "session-" + std::to_string(ipc::current_session()); }

}  // namespace

std::unique_ptr<ScreenSource> open_screen(const ScreenRequest& request) {
    if (!request.shm_ring.empty())
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("source shm:{}: shared-memory rings are Linux-only; recd on "
                                "Windows records the desktop (source \"{}\")",
                                request.shm_ring, screen_source_name()));
    return open_windows_screen(WindowsScreenTarget{
        .monitor = monitor_index(request.monitor), .region = request.region, .show_cursor = true});
}

std::unique_ptr<AudioSource> make_audio_source(AudioKind kind, const std::string& device) {
    return std::make_unique<WasapiAudioSource>(kind, device);
}

ipc::Json list_audio_devices() { return list_wasapi_devices(); }

std::string_view screen_source_name() { return "desktop"; }

std::string_view screen_description() { return "the desktop"; }

// Another session's desktop cannot be recorded from this one (its recd records it): a display
// other than this session's is a mistake, said as such rather than recording the wrong screen.
std::string choose_display(const std::optional<std::string>& requested,
                           const std::string& configured) {
    const std::string own = own_desktop();
    const std::string display = requested.value_or(configured.empty() ? own : configured);
    if (display != own)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("display \"{}\": recd records the desktop of its own session, "
                                "\"{}\" (each session has its own recd)",
                                display, own));
    return display;
}

}  // namespace rec
