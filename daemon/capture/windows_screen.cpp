#include "windows_screen.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <windows.h>

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "dxgi_screen.hpp"
#include "gdi_screen.hpp"

namespace rec {

std::unique_ptr<ScreenSource> open_windows_screen(const WindowsScreenTarget& target) {
    try {
        return std::make_unique<DxgiScreen>(target);
    } catch (const Error& e) {
        // A bad target is the caller's mistake: GDI would refuse it the same way.
        if (e.code() != ErrorCode::display_unavailable) throw;
        spdlog::warn(
            "screen capture: DXGI desktop duplication is unavailable ({}); using GDI, "
            "which copies every whole picture on the CPU",
            e.what());
    }
    return std::make_unique<GdiScreen>(target);
}

namespace {

BOOL CALLBACK add_monitor(HMONITOR monitor, HDC, LPRECT, LPARAM list) {
    MONITORINFO info{};
    info.cbSize = sizeof info;
    if (!GetMonitorInfoW(monitor, &info)) return TRUE;  // gone meanwhile: skip it
    reinterpret_cast<std::vector<WindowsMonitor>*>(list)->push_back(
        {monitor, to_region(info.rcMonitor), (info.dwFlags & MONITORINFOF_PRIMARY) != 0});
    return TRUE;
}

}  // namespace

std::vector<WindowsMonitor> windows_monitors() {
    PerMonitorDpi dpi;
    std::vector<WindowsMonitor> monitors;
    EnumDisplayMonitors(nullptr, nullptr, add_monitor, reinterpret_cast<LPARAM>(&monitors));
    std::sort(monitors.begin(), monitors.end(), [](const auto& a, const auto& b) {
        return std::tie(a.area.x, a.area.y) < std::tie(b.area.x, b.area.y);
    });
    return monitors;
}

std::optional<WindowsMonitor> find_monitor(int index) {
    const auto monitors = windows_monitors();
    if (index < 0) {
        for (const auto& m : monitors)
            if (m.primary) return m;
        return std::nullopt;
    }
    if (static_cast<size_t>(index) >= monitors.size()) return std::nullopt;
    return monitors[index];
}

WindowsMonitor target_monitor(const WindowsScreenTarget& target) {
    if (auto monitor = find_monitor(target.monitor)) return *monitor;
    if (target.monitor < 0) throw Error(ErrorCode::display_unavailable, "no primary monitor");
    throw Error(ErrorCode::invalid_argument,
                fmt::format("no monitor {}; monitors: {}", target.monitor, describe_monitors()));
}

std::string describe_monitors() {
    std::string text;
    int index = 0;
    for (const auto& m : windows_monitors())
        text +=
            fmt::format("{}{}: {}x{}{:+}{:+}{}", text.empty() ? "" : ", ", index++, m.area.width,
                        m.area.height, m.area.x, m.area.y, m.primary ? " (primary)" : "");
    return text.empty() ? "none" : text;
}

ipc::Region target_region(const WindowsScreenTarget& target, int width, int height) {
    ipc::Region r = target.region.value_or(ipc::Region{0, 0, width, height});
    if (r.x < 0 || r.y < 0 || r.width < 2 || r.height < 2 || r.x + r.width > width ||
        r.y + r.height > height)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("region {}x{}+{}+{} is not on the monitor ({}x{})", r.width,
                                r.height, r.x, r.y, width, height));
    r.width &= ~1;
    r.height &= ~1;
    return r;
}

ipc::Region to_region(const RECT& r) { return {r.left, r.top, r.right - r.left, r.bottom - r.top}; }

PerMonitorDpi::PerMonitorDpi()
    : previous_(SetThreadDpiAwarenessContext(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2)) {}

PerMonitorDpi::~PerMonitorDpi() {
    // nullptr: the change failed (the process's awareness was set otherwise); nothing to undo.
    if (previous_) SetThreadDpiAwarenessContext(static_cast<DPI_AWARENESS_CONTEXT>(previous_));
}

}  // namespace rec
