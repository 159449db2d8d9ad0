// recd-service: the Windows service that gives every interactive session (console, RDP, DCV)
// its own recd.exe, launched at logon, asked to finalize at logoff and when the service stops
// (DESIGN.md section 1). `recd-service install` / `uninstall` register it with the SCM; with no
// argument (or `run`) it is the service itself, started by the SCM. Threads: supervisor.hpp.
#include <windows.h>
#include <wtsapi32.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "common/log.hpp"
#include "log_directory.hpp"
#include "scm.hpp"
#include "service_win32.hpp"
#include "supervisor.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

// Told to the SCM with every pending state: the supervisor reports progress every second while
// stopping (supervisor.cpp), so 5 s means "hung" only when it really is.
constexpr std::chrono::milliseconds pending_wait_hint = 5s;
// PRESHUTDOWN rather than SHUTDOWN: at SERVICE_CONTROL_SHUTDOWN Windows allows a service only a
// few seconds, where a stop may take the supervisor longest_stop (supervisor.hpp). The SCM waits
// that long at preshutdown (the timeout `recd-service install` sets, scm.cpp).
constexpr DWORD accepted_controls =
    SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_PRESHUTDOWN | SERVICE_ACCEPT_SESSIONCHANGE;

// SetServiceStatus from the ServiceMain thread and HandlerEx's (STOP_PENDING at once).
class ServiceStatus {
public:
    void attach(SERVICE_STATUS_HANDLE handle) { handle_ = handle; }

    void report(DWORD state, DWORD exit_code = NO_ERROR) {
        std::lock_guard lock(mutex_);
        const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
        status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        status_.dwCurrentState = state;
        // Nothing while pending: HandlerEx then gets no more session changes or stops.
        status_.dwControlsAccepted = state == SERVICE_RUNNING ? accepted_controls : 0;
        status_.dwWin32ExitCode = exit_code;
        status_.dwServiceSpecificExitCode = exit_code == ERROR_SERVICE_SPECIFIC_ERROR ? 1 : 0;
        status_.dwCheckPoint = pending ? 1 : 0;
        status_.dwWaitHint = pending ? DWORD(pending_wait_hint.count()) : 0;
        SetServiceStatus(handle_, &status_);
    }

    // The next checkpoint of a pending state: still working.
    void progress() {
        std::lock_guard lock(mutex_);
        if (status_.dwCurrentState != SERVICE_STOP_PENDING) return;
        ++status_.dwCheckPoint;
        SetServiceStatus(handle_, &status_);
    }

private:
    std::mutex mutex_;
    SERVICE_STATUS_HANDLE handle_ = nullptr;
    SERVICE_STATUS status_{};
};

// The one service of this process, for HandlerEx.
struct Service {
    ServiceStatus status;
    // The supervisor while it exists (set and cleared by service_main). Under the mutex, so
    // HandlerEx never posts to one being destroyed.
    std::mutex mutex;
    Supervisor* supervisor = nullptr;

    void post(ServiceEvent event) {
        std::lock_guard lock(mutex);
        if (supervisor) supervisor->post(event);
    }
    void set_supervisor(Supervisor* s) {
        std::lock_guard lock(mutex);
        supervisor = s;
    }
};
Service service;

// Clears service.supervisor before the supervisor is destroyed, however service_main leaves.
struct Attached {
    explicit Attached(Supervisor& s) { service.set_supervisor(&s); }
    ~Attached() { service.set_supervisor(nullptr); }
    Attached(const Attached&) = delete;
    Attached& operator=(const Attached&) = delete;
};

// Which session changes matter. Connects count as logons: a new RDP session connects before
// its user logs on (that launch finds nobody and is dropped), and a reconnect is a new chance
// for a session whose recd was given up on. WTS_SESSION_TERMINATE follows a logoff, or stands
// for one the service missed. Lock, unlock, disconnect: recd keeps recording.
std::optional<ServiceEvent::Kind> session_event(DWORD type) {
    switch (type) {
        case WTS_SESSION_LOGON:
        case WTS_CONSOLE_CONNECT:
        case WTS_REMOTE_CONNECT:
            return ServiceEvent::Kind::logon;
        case WTS_SESSION_LOGOFF:
        case WTS_SESSION_TERMINATE:
            return ServiceEvent::Kind::logoff;
        default:
            return std::nullopt;
    }
}

// HandlerEx: called by the SCM on the main thread (the dispatcher's); posts and returns at once.
DWORD WINAPI handle_control(DWORD control, DWORD type, void* data, void*) {
    switch (control) {
        case SERVICE_CONTROL_STOP:
        // System shutdown: the same. The SCM holds the shutdown back until the service has
        // stopped or its preshutdown timeout (scm.cpp) has passed; then Windows ends the process
        // (and with it the job, so every recd).
        case SERVICE_CONTROL_PRESHUTDOWN:
            service.status.report(SERVICE_STOP_PENDING);
            service.post({ServiceEvent::Kind::stop});
            return NO_ERROR;
        case SERVICE_CONTROL_SESSIONCHANGE: {
            const auto kind = session_event(type);
            const auto* change = static_cast<const WTSSESSION_NOTIFICATION*>(data);
            if (kind && change) service.post({*kind, change->dwSessionId});
            return NO_ERROR;
        }
        case SERVICE_CONTROL_INTERROGATE:
            return NO_ERROR;
        default:
            return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

// For what must be seen even when there is no log file: the Application event log (source
// "recd"; without a registered message file Event Viewer shows the text as an insertion).
// `text` is UTF-8 (paths, system messages): the wide call, as the narrow one would read it in
// the system's code page.
void event_log_error(const std::string& text) {
    HANDLE source = RegisterEventSourceW(nullptr, L"recd");
    if (!source) return;
    const std::wstring wide = to_utf16(text);
    const wchar_t* strings[] = {wide.c_str()};
    ReportEventW(source, EVENTLOG_ERROR_TYPE, 0, 1, nullptr, 1, 0, strings, nullptr);
    DeregisterEventSource(source);
}

// service.log next to the sessions' logs, rotated (common/log.cpp). Without the directory the
// service still runs: its recds' output goes nowhere, and the event log says why.
std::optional<std::filesystem::path> start_logging() {
    try {
        auto dir = prepare_log_directory();
        setup_logging("info", LogOutput{.to_stderr = false,
                                        .journal = false,
                                        .file = {},
                                        .rotating = dir.path / L"service.log"});
        for (const auto& removed : dir.removed)
            spdlog::warn("deleted {}: made by a user before the directory was locked down",
                         utf8(removed));
        return dir.path;
    } catch (const std::exception& e) {
        event_log_error(std::string("recd-service: no log: ") + e.what());
        return std::nullopt;
    }
}

// ServiceMain: called by the SCM on a thread of its own, which becomes the supervisor's.
void WINAPI service_main(DWORD, wchar_t**) {
    set_thread_name("supervisor");
    const auto handle = RegisterServiceCtrlHandlerExW(service_name, handle_control, nullptr);
    if (!handle) return;  // no way to tell the SCM anything
    service.status.attach(handle);
    service.status.report(SERVICE_START_PENDING);
    const auto log_dir = start_logging();
    DWORD exit_code = NO_ERROR;
    try {
        Supervisor supervisor(log_dir, [] { service.status.progress(); });
        const Attached attached(supervisor);
        service.status.report(SERVICE_RUNNING);
        supervisor.run();
    } catch (const std::exception& e) {
        spdlog::critical("recd-service: {}", e.what());
        event_log_error(std::string("recd-service: ") + e.what());
        exit_code = ERROR_SERVICE_SPECIFIC_ERROR;
    }
    spdlog::info("recd-service stopped");
    spdlog::default_logger()->flush();
    service.status.report(SERVICE_STOPPED, exit_code);
}

int run_service() {
    SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(service_name), service_main},
                                    {nullptr, nullptr}};
    if (StartServiceCtrlDispatcherW(table)) return 0;  // returns once the service has stopped
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
        std::fprintf(stderr,
                     "recd-service is started by the service control manager: install it with "
                     "`recd-service install`\n");
    else
        std::fprintf(stderr, "recd-service: %s\n", last_error_text().c_str());
    return 1;
}

}  // namespace
}  // namespace rec

int main(int argc, char** argv) {
    rec::set_thread_name("main");
    const std::string command = argc > 1 ? argv[1] : "run";
    try {
        if (argc <= 2 && command == "install") return rec::install_service();
        if (argc <= 2 && command == "uninstall") return rec::uninstall_service();
        if (argc <= 2 && command == "run") return rec::run_service();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "recd-service: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "usage: recd-service [install | uninstall | run]\n"
                 "  install    register the service (automatic, LocalSystem) and start it\n"
                 "  uninstall  stop it (every recording finalized first) and remove it\n"
                 "  run        the service itself, started by the service control manager\n");
    return 2;
}
