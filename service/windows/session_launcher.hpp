#pragma once
// Starts recd.exe in a user's session, inside the job object that ties every recd to the
// service. Owned and called by the Supervisor, on its thread only (supervisor.cpp).
#include <windows.h>

#include <filesystem>
#include <optional>
#include <stdexcept>

#include "service_win32.hpp"
#include "session_table.hpp"

namespace rec {

class LaunchError : public std::runtime_error {
public:
    LaunchError(LaunchFailure kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    LaunchFailure kind() const { return kind_; }

private:
    LaunchFailure kind_;
};

struct LaunchedRecd {
    UniqueHandle process;
    DWORD pid = 0;
    std::filesystem::path log;  // empty: its output goes nowhere
};

class SessionLauncher {
public:
    // recd.exe is looked for next to this program. `log_dir` (prepare_log_directory's, none
    // when that failed) receives each recd's standard output and error. Throws
    // std::runtime_error when the job object cannot be made: no recd may run without it.
    explicit SessionLauncher(std::optional<std::filesystem::path> log_dir);

    // Throws LaunchError: no_user when nobody is logged on in `session`.
    LaunchedRecd launch(SessionId session);

    // Ends every recd at once (the job's processes): the service's last resort when it stops.
    // Closing the job (the destructor) does the same: JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE.
    void kill_all();

    const std::filesystem::path& recd_exe() const { return recd_exe_; }

private:
    UniqueHandle open_log(SessionId session, std::filesystem::path& path) const;

    UniqueHandle job_;
    std::filesystem::path recd_exe_;
    std::optional<std::filesystem::path> log_dir_;
};

}  // namespace rec
