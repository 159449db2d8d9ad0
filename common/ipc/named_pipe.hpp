#pragma once
// Where recd listens on Windows and where recctl and recd-service connect: one named pipe per
// interactive session, so the two always agree. Windows-only (named after the technology).
#include <windows.h>

#include <string>

namespace rec::ipc {

// The Windows session this process runs in (0 is the services' session).
DWORD current_session();

// \\.\pipe\recd-<session>: each session's recd has its own, so several run at once.
std::wstring pipe_name(DWORD session);

}  // namespace rec::ipc
