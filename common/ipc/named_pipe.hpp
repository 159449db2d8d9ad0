#pragma once
// Where recd listens on Windows and where recctl and recd-service connect: one named pipe per
// interactive session, so the two always agree. Windows-only (named after the technology).
#include <windows.h>

#include <memory>
#include <string>
#include <type_traits>

namespace rec::ipc {

// The Windows session this process runs in (0 is the services' session).
DWORD current_session();

// \\.\pipe\recd-<session>: each session's recd has its own, so several run at once.
std::wstring pipe_name(DWORD session);

// A HANDLE closed when it goes out of scope (INVALID_HANDLE_VALUE and null are both "none").
struct HandleCloser {
    void operator()(HANDLE h) const {
        if (h && h != INVALID_HANDLE_VALUE) CloseHandle(h);
    }
};
using UniqueHandle = std::unique_ptr<std::remove_pointer_t<HANDLE>, HandleCloser>;

// Text of a Win32 error code, for messages ("Access is denied.").
std::string win32_message(DWORD code);

// UTF-16 <-> UTF-8, for names that travel in the protocol and the log.
std::string to_utf8(const std::wstring& text);
std::wstring to_utf16(const std::string& text);

}  // namespace rec::ipc
