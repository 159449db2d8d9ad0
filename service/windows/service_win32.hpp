#pragma once
// What recd-service's files add to common/win32.hpp (UniqueHandle, error text, UTF-8): RAII
// for SCM handles, this program's path, a path as UTF-8 for the log. Any thread.
#include <windows.h>
#include <winsvc.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/win32.hpp"

namespace rec {

struct ServiceHandleClose {
    void operator()(SC_HANDLE h) const { CloseServiceHandle(h); }
};
using UniqueServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceHandleClose>;

inline std::string utf8(const std::filesystem::path& path) { return to_utf8(path.native()); }

// This program's own path (recd.exe is installed next to it).
inline std::filesystem::path this_exe() {
    std::wstring buffer(MAX_PATH, L'\0');
    for (;;) {
        const DWORD n = GetModuleFileNameW(nullptr, buffer.data(), DWORD(buffer.size()));
        if (n == 0) throw std::runtime_error("GetModuleFileNameW: " + last_error_text());
        if (n < buffer.size()) return std::filesystem::path(buffer.substr(0, n));
        buffer.resize(buffer.size() * 2);  // truncated: a long path
    }
}

}  // namespace rec
