#include "scm.hpp"

#include <windows.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "log_directory.hpp"
#include "service_win32.hpp"
#include "supervisor.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

constexpr const wchar_t* display_name = L"recd screen recording";
constexpr const wchar_t* description =
    L"Starts recd (screen and sound recording) in every interactive session, console and "
    L"remote, and has it finalize its recordings at logoff and when the service stops.";

// How long uninstall waits for the service to stop: it stops within longest_stop (70 s,
// supervisor.hpp), here with a margin.
constexpr auto stop_wait = longest_stop + 20s;
// How long Windows holds a system shutdown back for the service (SERVICE_CONTROL_PRESHUTDOWN,
// recd_service.cpp): its longest stop, 70 s, after which it has ended every recd itself, so
// waiting longer would gain nothing; the default (10 s since Windows 10 1703) would cut short
// an MP4 being finalized. Only a hung recd makes a shutdown wait that long: the service
// reports SERVICE_STOPPED as soon as every recd has exited.
constexpr std::chrono::milliseconds preshutdown_timeout = longest_stop;

// If the service process dies, SCM restarts it after 5 s, then after 60 s; a third death
// within a day leaves it stopped (the failure count resets after a day). Its recds died with
// it (the job object), so sessions would go unrecorded until the next boot otherwise.
constexpr std::chrono::milliseconds first_restart_delay = 5s;
constexpr std::chrono::milliseconds second_restart_delay = 60s;
constexpr std::chrono::seconds failure_count_reset = 24h;

int fail(const char* what) {
    std::fprintf(stderr, "recd-service: %s: %s\n", what, last_error_text().c_str());
    return 1;
}

void set_failure_actions(SC_HANDLE service) {
    SC_ACTION actions[] = {{SC_ACTION_RESTART, DWORD(first_restart_delay.count())},
                           {SC_ACTION_RESTART, DWORD(second_restart_delay.count())},
                           {SC_ACTION_NONE, 0}};
    SERVICE_FAILURE_ACTIONSW failure{};
    failure.dwResetPeriod = DWORD(failure_count_reset.count());
    failure.cActions = DWORD(std::size(actions));
    failure.lpsaActions = actions;
    if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure))
        std::fprintf(stderr, "recd-service: no restart on failure: %s\n",
                     last_error_text().c_str());
}

void set_preshutdown_timeout(SC_HANDLE service) {
    SERVICE_PRESHUTDOWN_INFO preshutdown{DWORD(preshutdown_timeout.count())};
    if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown))
        std::fprintf(stderr,
                     "recd-service: a system shutdown may cut recordings short (no preshutdown "
                     "timeout: %s)\n",
                     last_error_text().c_str());
}

bool wait_stopped(SC_HANDLE service) {
    const auto until = std::chrono::steady_clock::now() + stop_wait;
    SERVICE_STATUS status{};
    while (QueryServiceStatus(service, &status) && status.dwCurrentState != SERVICE_STOPPED) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(500ms);
    }
    return true;
}

}  // namespace

int install_service() {
    // The binary path quoted: unquoted, a path with spaces would be tried piecewise by the SCM
    // (C:\Program.exe first), a classic way into LocalSystem.
    const std::wstring binary = L"\"" + this_exe().wstring() + L"\"";
    const UniqueServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
    if (!scm) return fail("cannot open the service control manager (run as administrator)");
    // LocalSystem (null account): only it may take a session user's token (WTSQueryUserToken).
    const UniqueServiceHandle service(
        CreateServiceW(scm.get(), service_name, display_name, SERVICE_CHANGE_CONFIG | SERVICE_START,
                       SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                       binary.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr));
    if (!service) {
        if (GetLastError() == ERROR_SERVICE_EXISTS) {
            std::fprintf(stderr, "recd-service: already installed (uninstall it first)\n");
            return 1;
        }
        return fail("cannot create the service");
    }
    SERVICE_DESCRIPTIONW text{const_cast<wchar_t*>(description)};
    ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &text);
    set_failure_actions(service.get());
    set_preshutdown_timeout(service.get());
    // Made here too, by an administrator, so no user can have made it first (log_directory.cpp).
    try {
        const auto logs = prepare_log_directory();
        for (const auto& removed : logs.removed)
            std::printf("recd-service: deleted %s (made by a user)\n", utf8(removed).c_str());
        std::printf("recd-service: logs in %s\n", utf8(logs.path).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "recd-service: %s: recd's output will not be kept\n", e.what());
    }
    // Started now, so sessions already logged on are recorded without waiting for a reboot.
    if (!StartServiceW(service.get(), 0, nullptr)) return fail("installed, but cannot start it");
    std::printf(
        "recd-service: installed and started (service \"recd\", automatic, "
        "LocalSystem)\n");
    return 0;
}

int uninstall_service() {
    const UniqueServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!scm) return fail("cannot open the service control manager (run as administrator)");
    const UniqueServiceHandle service(
        OpenServiceW(scm.get(), service_name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
    if (!service) {
        if (GetLastError() != ERROR_SERVICE_DOES_NOT_EXIST) return fail("cannot open the service");
        std::printf("recd-service: not installed\n");
        return 0;
    }
    SERVICE_STATUS status{};
    if (ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
        std::printf("recd-service: stopping (every recd finalizes its recordings first)...\n");
        if (!wait_stopped(service.get()))
            std::fprintf(stderr, "recd-service: still stopping; removed once it has stopped\n");
    } else if (GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
        std::fprintf(stderr, "recd-service: cannot stop it: %s\n", last_error_text().c_str());
    }
    if (!DeleteService(service.get())) return fail("cannot remove the service");
    std::printf("recd-service: uninstalled (its logs stay in %%ProgramData%%\\recd\\logs)\n");
    return 0;
}

}  // namespace rec
