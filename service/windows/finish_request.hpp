#pragma once
// Asks one recd to finalize its recordings and exit: protocol v1's `shutdown` over
// \\.\pipe\recd-<session>. The Supervisor runs each request on a thread of its own (std::async)
// since recd replies only once every file is final; nothing else waits for it: the process's
// exit, or the SessionTable's deadline, decides what happens next.
#include <windows.h>

#include "service_win32.hpp"
#include "session_table.hpp"

namespace rec {

// `process` (owned by the request, SYNCHRONIZE at least) and `pid` are recd's: the request gives
// up when it exits, talks only to a pipe that process serves, and stops waiting at `deadline`.
// Logs what happened; never throws.
void ask_recd_to_finish(SessionId session, UniqueHandle process, DWORD pid, SteadyTime deadline);

}  // namespace rec
