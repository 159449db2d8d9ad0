#pragma once
// recd.exe's control server: the Linux Server's shape (server.hpp) on the named pipe. One io
// thread runs the loop, the pipe and every connection; a small worker pool runs what blocks
// (starting and stopping sessions). run() returns once every recording is finalized, after a
// `shutdown` request (recd-service's at logoff and service stop, or recctl's) or end() (the end
// of the Windows session, a console close: windows_session_end.cpp). Windows-only.
#include <functional>
#include <string>
#include <vector>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "dispatcher.hpp"
#include "events.hpp"
#include "named_pipe_server.hpp"
#include "open_files.hpp"
#include "session_manager.hpp"

namespace rec {

class WindowsServer {
public:
    // `pipe`: \\.\pipe\recd-<session> (ipc::pipe_name). Nothing is served before run().
    WindowsServer(const Config& config, std::wstring pipe);
    ~WindowsServer();
    WindowsServer(const WindowsServer&) = delete;
    WindowsServer& operator=(const WindowsServer&) = delete;

    // Main thread, before run(): creates the pipe, so that another recd serving this session
    // (PipeTaken, OUTPUT_FAILED) is known before this one starts anything (the autostart
    // recording). Clients are served once run() runs the loop.
    void listen();
    // Main thread: listen() if not done yet, then serves until every recording is final after a
    // shutdown. Returns the process exit code.
    int run();
    // Any thread: a recording recd starts by itself (Dispatcher::start_own: the autostart step,
    // autostart.hpp); `done` gets the reply line on the io thread. Before run() it waits for the
    // loop to run.
    void start_own(ipc::Json body, std::string directory, std::function<void(std::string)> done);
    // Any thread: as a `shutdown` request, with `why` in the log: every recording is finalized,
    // then run() returns.
    void end(std::string why);

private:
    void shutdown(std::function<void(ipc::Json)> done);
    void finish_shutdown();

    boost::asio::io_context io_;
    // Starting a session (duplicate the desktop, open the encoder and the file) or stopping one
    // (drain, trailer, flush) blocks for up to seconds: four workers let several do so at once.
    boost::asio::thread_pool workers_{4};
    const std::string pipe_name_;  // UTF-8, for `hello` and the log
    Events events_{io_};
    OpenFiles open_files_{OpenFiles::default_dir()};
    ipc::Json unfinished_;  // what an earlier recd left unfinished, for `status`
    SessionManager sessions_;
    Dispatcher dispatcher_;
    NamedPipeServer pipe_;
    bool listening_ = false;      // main thread
    bool shutting_down_ = false;  // io thread
    std::vector<std::function<void(ipc::Json)>> shutdown_waiters_;
};

}  // namespace rec
