#include "named_pipe.hpp"

namespace rec::ipc {

DWORD current_session() {
    DWORD session = 0;
    if (!ProcessIdToSessionId(GetCurrentProcessId(), &session)) return 0;
    return session;
}

std::wstring pipe_name(DWORD session) { return L"\\\\.\\pipe\\recd-" + std::to_wstring(session); }

}  // namespace rec::ipc
