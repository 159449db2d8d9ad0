#include "windows_session_end.hpp"

#include <spdlog/spdlog.h>

#include "../common/log.hpp"

namespace rec {
namespace {

constexpr wchar_t window_class[] = L"recd-session-end";
// What Windows shows beside recd while a logoff or shutdown waits for it.
constexpr wchar_t block_reason[] = L"Finalizing recordings";

// The console handler is process-wide; it finds the watch here (null before and after it).
std::atomic<SessionEndWatch*> current_watch{nullptr};

DWORD wait_milliseconds() {
    return static_cast<DWORD>(std::chrono::milliseconds(SessionEndWatch::finalize_wait).count());
}

}  // namespace

SessionEndWatch::SessionEndWatch(std::function<void(std::string why)> end)
    : end_(std::move(end)), finished_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {
    std::promise<HWND> created;
    auto window = created.get_future();
    // The promise moves into the thread: it outlives set_value() there, whenever this goes on.
    thread_ = std::thread([this, created = std::move(created)]() mutable {
        set_thread_name("session-end");
        run_window_with(created);
    });
    window_ = window.get();
    current_watch = this;
    if (!SetConsoleCtrlHandler(&SessionEndWatch::console_handler, TRUE))
        spdlog::warn("cannot handle Ctrl+C and the console's close: {}", last_error_text());
}

SessionEndWatch::~SessionEndWatch() {
    SetConsoleCtrlHandler(&SessionEndWatch::console_handler, FALSE);
    current_watch = nullptr;
    finished();  // a handler still waiting returns
    if (HWND window = window_.load()) PostMessageW(window, WM_CLOSE, 0, 0);
    thread_.join();
}

// The window thread: an invisible top-level window (never shown) and its message loop until
// the destructor closes it. Top-level, not message-only (HWND_MESSAGE): Windows broadcasts
// WM_QUERYENDSESSION to top-level windows only.
void SessionEndWatch::run_window_with(std::promise<HWND>& created) {
    const HINSTANCE instance = GetModuleHandleW(nullptr);
    WNDCLASSEXW type{};
    type.cbSize = sizeof type;
    type.lpfnWndProc = &SessionEndWatch::window_proc;
    type.hInstance = instance;
    type.lpszClassName = window_class;
    RegisterClassExW(&type);
    const HWND window = CreateWindowExW(0, window_class, L"recd", WS_OVERLAPPED, 0, 0, 0, 0,
                                        nullptr, nullptr, instance, this);
    if (!window)
        spdlog::warn(
            "cannot watch for the end of the Windows session ({}): a logoff may cut "
            "recordings short",
            last_error_text());
    created.set_value(window);  // the constructor goes on
    if (!window) return;
    MSG message;
    while (GetMessageW(&message, nullptr, 0, 0) > 0) DispatchMessageW(&message);
}

LRESULT CALLBACK SessionEndWatch::window_proc(HWND window, UINT message, WPARAM wparam,
                                              LPARAM lparam) {
    if (message == WM_NCCREATE) {
        const auto* create = reinterpret_cast<const CREATESTRUCTW*>(lparam);
        SetWindowLongPtrW(window, GWLP_USERDATA,
                          reinterpret_cast<LONG_PTR>(create->lpCreateParams));
    }
    auto* self = reinterpret_cast<SessionEndWatch*>(GetWindowLongPtrW(window, GWLP_USERDATA));
    return self ? self->on_message(window, message, wparam, lparam)
                : DefWindowProcW(window, message, wparam, lparam);
}

// The session may end (WM_QUERYENDSESSION: yes, saying why it will take a moment); it ends
// (WM_ENDSESSION with TRUE: finalize, and return only then: Windows may end the process at any
// time after); or it does not after all (FALSE: nothing was stopped yet).
LRESULT SessionEndWatch::on_message(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
    switch (message) {
        case WM_QUERYENDSESSION:
            ShutdownBlockReasonCreate(window, block_reason);
            return TRUE;
        case WM_ENDSESSION:
            if (wparam) end_and_wait("the Windows session ends");
            ShutdownBlockReasonDestroy(window);
            return 0;
        case WM_DESTROY:
            window_ = nullptr;
            PostQuitMessage(0);
            return 0;
        default:
            return DefWindowProcW(window, message, wparam, lparam);
    }
}

// A thread Windows starts for the event. Ctrl+C and Ctrl+Break let recd go on until it has
// finalized (main returns then); a close, logoff or shutdown ends the process when this
// returns, so it returns only once the recordings are final.
BOOL WINAPI SessionEndWatch::console_handler(DWORD event) {
    SessionEndWatch* self = current_watch.load();
    if (!self) return FALSE;  // the default: the process ends
    switch (event) {
        case CTRL_C_EVENT:
            self->end_("Ctrl+C");
            return TRUE;
        case CTRL_BREAK_EVENT:
            self->end_("Ctrl+Break");
            return TRUE;
        case CTRL_CLOSE_EVENT:
            self->end_and_wait("the console closes");
            return TRUE;
        case CTRL_LOGOFF_EVENT:
        case CTRL_SHUTDOWN_EVENT:
            self->end_and_wait("the Windows session ends");
            return TRUE;
        default:
            return FALSE;
    }
}

void SessionEndWatch::end_and_wait(const char* why) {
    end_(why);
    if (WaitForSingleObject(finished_.get(), wait_milliseconds()) != WAIT_OBJECT_0)
        spdlog::error("{}: recordings still not final after {} s; Windows may cut them short", why,
                      finalize_wait.count());
}

}  // namespace rec
