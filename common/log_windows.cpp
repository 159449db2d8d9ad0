// Logging's part of the OS on Windows: thread descriptions, the console, %LOCALAPPDATA%.
#include <io.h>
#include <windows.h>

#include <cstdio>
#include <filesystem>
// After windows.h, which they need.
#include <knownfolders.h>
#include <shlobj.h>

#include "log.hpp"
#include "log_platform.hpp"
#include "win32.hpp"

namespace rec {

// SetThreadDescription is in Windows 10 1607 and later only (and mingw-w64 10 does not declare
// it): looked up once, skipped where it is missing.
void name_os_thread(const std::string& name) {
    using Describe = HRESULT(WINAPI*)(HANDLE, PCWSTR);
    static const FARPROC proc =
        GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription");
    if (proc)  // through void(*)(): a plain cast between function types draws a warning
        reinterpret_cast<Describe>(reinterpret_cast<void (*)()>(proc))(GetCurrentThread(),
                                                                       to_utf16(name).c_str());
}

bool stderr_is_terminal() { return _isatty(_fileno(stderr)) != 0; }

// %LOCALAPPDATA%\recd\recd.log: the user's own, not roaming (a log is of this machine).
std::filesystem::path session_log_path() {
    auto dir = known_folder(FOLDERID_LocalAppData);
    if (dir.empty()) throw std::runtime_error("Windows knows no local application data folder");
    dir /= "recd";
    std::filesystem::create_directories(dir);
    return dir / "recd.log";
}

}  // namespace rec
