#pragma once
// recd.exe ends cleanly when Windows ends its session or its console: every recording is
// finalized before the process goes. Two ways in, both Windows-only:
// - a hidden top-level window on its own thread answers WM_QUERYENDSESSION / WM_ENDSESSION
//   (logoff, shutdown, restart). A console program that loads user32, as recd does for capture,
//   gets no CTRL_LOGOFF_EVENT / CTRL_SHUTDOWN_EVENT (SetConsoleCtrlHandler's documentation);
// - a console control handler answers Ctrl+C, Ctrl+Break and the console window's close.
// Each calls `end` once, then holds Windows back (the window's WM_ENDSESSION, the close
// handler: Windows ends the process once they return) until finished() or finalize_wait.
// Constructed and destroyed by main; one per process (the console handler is process-wide).
#include <windows.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "../common/win32.hpp"

namespace rec {

class SessionEndWatch {
public:
    // `end` is called from the watch's window thread or a console handler thread; the server's
    // end() is safe from any thread.
    explicit SessionEndWatch(std::function<void(std::string why)> end);
    ~SessionEndWatch();
    SessionEndWatch(const SessionEndWatch&) = delete;
    SessionEndWatch& operator=(const SessionEndWatch&) = delete;

    // Main thread, once the server's run() returned (every recording final): a WM_ENDSESSION or
    // console close being held back returns, and Windows may end the process.
    void finished() { SetEvent(finished_.get()); }

    // How long Windows is held back at most: as long as recd-service waits for a recd to finish
    // before it terminates it (service/windows), so a hung finalization never hangs a logoff
    // for longer than the service would.
    static constexpr std::chrono::seconds finalize_wait{60};

private:
    static LRESULT CALLBACK window_proc(HWND window, UINT message, WPARAM wparam, LPARAM lparam);
    static BOOL WINAPI console_handler(DWORD event);
    void run_window_with(std::promise<HWND>& created);
    LRESULT on_message(HWND window, UINT message, WPARAM wparam, LPARAM lparam);
    void end_and_wait(const char* why);

    const std::function<void(std::string)> end_;
    const UniqueHandle finished_;  // manual-reset: set once, releases every waiter
    std::atomic<HWND> window_{nullptr};
    std::thread thread_;
};

}  // namespace rec
