#pragma once
// The platform's capture, as the pipeline sees it: the screen a session records, the source of
// each audio track, the device list of `recctl devices`, and how a start request names the
// screen. One definition per platform, picked by CMake: sources_linux.cpp (X11, shared-memory
// rings, PulseAudio), sources_windows.cpp (DXGI Desktop Duplication or GDI, WASAPI). The
// session, its audio tracks and the dispatcher name no capture class themselves.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "../../common/ipc/protocol.hpp"
#include "audio_source.hpp"
#include "screen_source.hpp"

namespace rec {

// What a session asks to record (its SessionOptions, as the dispatcher checked them).
struct ScreenRequest {
    std::string display;           // as choose_display() gave it
    std::string shm_ring;          // a shared-memory ring instead of the screen (Linux only)
    bool wait_for_source = false;  // with shm_ring: its producer may come later
    std::optional<ipc::Region> region;
    std::string monitor;  // Linux: a RandR monitor name; Windows: a monitor's index ("0", "1")
};

// A worker thread, at the session's start: the source, ready to grab (or, for a ring whose
// producer is not there yet, waiting). Throws rec::Error as the sources do: DISPLAY_UNAVAILABLE,
// SOURCE_UNAVAILABLE, INVALID_ARGUMENT (also for what the platform cannot record).
std::unique_ptr<ScreenSource> open_screen(const ScreenRequest& request);

// A worker thread, at the session's start: the source of one audio track, not yet started
// (AudioTrack starts it and owns it). `device` empty: the default one for `kind`.
std::unique_ptr<AudioSource> make_audio_source(AudioKind kind, const std::string& device);

// A worker thread (`recctl devices`): {"sinks": [{"name","description","monitor"}], "sources":
// [{"name","description","monitor_of"}], "default_sink", "default_source"}, the names being
// what audio.system_device and audio.mic_device take. Blocks for up to seconds. Throws
// rec::Error(AUDIO_UNAVAILABLE).
ipc::Json list_audio_devices();

// The io thread, for start requests. The value of "source" that records the screen, and the
// default when a request gives none: "x11" on Linux, "desktop" on Windows; and how messages
// name that screen ("the X11 screen").
std::string_view screen_source_name();
std::string_view screen_description();

// The io thread: the display a start request records, from the request's "display" if it has
// one, else the config's video.display, else the platform's own (Linux: $DISPLAY; Windows: the
// desktop of recd's own session, "session-<id>"). Throws rec::Error: DISPLAY_UNAVAILABLE when
// there is none (Linux without DISPLAY), INVALID_ARGUMENT for one this recd cannot record
// (Windows: another session's).
std::string choose_display(const std::optional<std::string>& requested,
                           const std::string& configured);

}  // namespace rec
