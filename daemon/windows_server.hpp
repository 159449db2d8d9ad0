#pragma once
// recd.exe's control server: ControlCore (the loop, the sessions, the shutdown) on the named
// pipe. One io thread runs the loop, the pipe and every connection; the core's small worker pool
// runs what blocks (starting and stopping sessions). run() returns once every recording is
// finalized, after a `shutdown` request (recd-service's at logoff and service stop, or recctl's)
// or ControlCore::end (the end of the Windows session, a console close: windows_session_end.cpp).
// Windows-only.
#include <string>

#include "../common/config.hpp"
#include "control_core.hpp"
#include "named_pipe_server.hpp"

namespace rec {

class WindowsServer {
public:
    // `pipe`: \\.\pipe\recd-<session> (ipc::pipe_name). Nothing is served before run().
    WindowsServer(const Config& config, std::wstring pipe);

    // Main thread, before run(): creates the pipe, so that another recd serving this session
    // (PipeTaken, OUTPUT_FAILED) is known before this one starts anything (the autostart
    // recording). Clients are served once run() runs the loop.
    void listen();
    // Main thread: listen() if not done yet, then serves until every recording is final after a
    // shutdown. Returns the process exit code.
    int run();
    // The loop, the sessions and the shutdown (ControlCore::end for the end of the Windows
    // session, start_own for the autostart recording).
    ControlCore& core() { return core_; }

private:
    const std::string pipe_name_;  // UTF-8, for `hello` and the log
    ControlCore core_;             // before the pipe: the pipe runs on its loop
    NamedPipeServer pipe_;
    bool listening_ = false;  // main thread
};

}  // namespace rec
