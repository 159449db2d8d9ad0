// Windows: process ids and handles, the computer's name.
#include <windows.h>

#include "../common/win32.hpp"
#include "process.hpp"

namespace rec {

ProcessId current_process_id() { return GetCurrentProcessId(); }

// A process runs until its exit code is set; one we may not open (another user's, a protected
// one) exists, so it runs. 0 is the idle process and 4 the system: never a recd.
bool process_running(ProcessId id) {
    if (id <= 4 || id > 0xffffffff) return false;
    const UniqueHandle process(
        OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(id)));
    if (!process) return GetLastError() == ERROR_ACCESS_DENIED;
    DWORD code = 0;
    return GetExitCodeProcess(process.get(), &code) && code == STILL_ACTIVE;
}

// The NetBIOS-independent DNS host name ("DESKTOP-1234"), as `hostname` prints it.
std::string machine_name() {
    wchar_t name[256] = {};
    DWORD size = sizeof name / sizeof name[0];
    return GetComputerNameExW(ComputerNameDnsHostname, name, &size) ? to_utf8(name) : "";
}

}  // namespace rec
