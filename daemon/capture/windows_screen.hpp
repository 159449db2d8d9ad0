#pragma once
// Windows screen capture: what a session asks for (a monitor, a part of it) and the choice of
// capture. DXGI Desktop Duplication (dxgi_screen) copies the desktop on the GPU and says what
// changed; GDI (gdi_screen) is the fallback where the desktop cannot be duplicated (no DWM,
// some RDP and virtual-machine sessions, four duplications already running). Also the monitor
// list both share, so that a monitor index means the same to either.
// No <windows.h> here: pipeline code includes this header, and <windows.h>'s macros stay out
// of it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "screen_source.hpp"

struct tagRECT;  // RECT, from <windows.h>

namespace rec {

struct WindowsScreenTarget {
    int monitor = -1;  // index into windows_monitors(); -1: the primary monitor
    // Part of the monitor, in its pixels from its top-left corner; checked against its size.
    std::optional<ipc::Region> region;
    bool show_cursor = true;
};

// A worker thread at the session's start: DxgiScreen, else GdiScreen (logging why). Throws
// rec::Error: INVALID_ARGUMENT (no such monitor, region not on it), DISPLAY_UNAVAILABLE
// (neither capture works).
std::unique_ptr<ScreenSource> open_windows_screen(const WindowsScreenTarget& target);

struct WindowsMonitor {
    void* handle = nullptr;  // HMONITOR; changes when the displays are reconfigured
    ipc::Region area;        // on the virtual desktop, in physical pixels
    bool primary = false;
};

// Any thread: the monitors of the desktop, left to right then top to bottom (the order of
// WindowsScreenTarget::monitor: stable while the arrangement is, and what a user sees).
std::vector<WindowsMonitor> windows_monitors();
// Monitor `index`, or the primary one for -1; nothing when there is no such monitor (now).
std::optional<WindowsMonitor> find_monitor(int index);
// The target's monitor, for a capture's constructor. Throws rec::Error: INVALID_ARGUMENT (no
// such monitor; the message lists them), DISPLAY_UNAVAILABLE (no primary monitor).
WindowsMonitor target_monitor(const WindowsScreenTarget& target);
// "0: 1920x1080+0+0 (primary), 1: 2560x1440+1920+0", for messages.
std::string describe_monitors();
// A monitor that cannot be found for this long was unplugged, not reconfigured: a display change
// (or a lost duplication's rebuild) finds monitor handles stale and the list short for a second
// or two. Both captures then end with `lost`.
inline constexpr std::chrono::seconds monitor_gone_after{10};
// The part of a monitor of `width` x `height` pixels that `target` records, relative to the
// monitor's top-left corner, with even sides (4:2:0 video needs them: the last odd column or
// row is left out). Throws INVALID_ARGUMENT when the target's region is not on the monitor.
ipc::Region target_region(const WindowsScreenTarget& target, int width, int height);
// A Windows rectangle (left, top, right, bottom) as x, y, width, height.
ipc::Region to_region(const tagRECT& rect);

// Makes the calling thread per-monitor DPI aware (V2) while it lives, then restores what it
// was. Capture needs physical pixels: a thread that is not DPI aware sees monitors, cursor
// positions and GDI copies scaled to 96 dpi, and DuplicateOutput1 refuses it. recd.exe should
// declare PerMonitorV2 in its manifest too; this keeps capture right if it does not.
// Needs Windows 10 1607 or later (SetThreadDpiAwarenessContext).
class PerMonitorDpi {
public:
    PerMonitorDpi();
    ~PerMonitorDpi();
    PerMonitorDpi(const PerMonitorDpi&) = delete;
    PerMonitorDpi& operator=(const PerMonitorDpi&) = delete;

private:
    void* previous_;  // DPI_AWARENESS_CONTEXT
};

}  // namespace rec
