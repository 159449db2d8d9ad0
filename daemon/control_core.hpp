#pragma once
// What recd's control server is whatever it is served on (server.hpp: the Unix socket,
// windows_server.hpp: the named pipe): the io loop, the workers that run what blocks, the
// sessions and the dispatcher that serves requests, and the shutdown that finalizes every
// recording. The server that owns it plugs in its transport (Transport: what stops when shutdown
// begins, what closes once the waiters are answered) and runs the loop with run().
#include <functional>
#include <string>
#include <vector>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "dispatcher.hpp"
#include "events.hpp"
#include "open_files.hpp"
#include "session_manager.hpp"

namespace rec {

class ControlCore {
public:
    // Both called on the io thread, once each.
    struct Transport {
        std::function<void()> stop_accepting;  // shutdown begins: no new clients
        std::function<void()> close;           // every waiter answered: close once replies are out
    };

    // `endpoint`: the socket's path or the pipe's name, for `hello`. The transport's functions
    // are called only once the loop runs, so they may use what the server builds after this.
    ControlCore(const Config& config, std::string endpoint, Transport transport);
    // The workers finish what they hold (a session's stop) first.
    ~ControlCore();
    ControlCore(const ControlCore&) = delete;
    ControlCore& operator=(const ControlCore&) = delete;

    boost::asio::io_context& io() { return io_; }
    Dispatcher& dispatcher() { return dispatcher_; }
    // io thread.
    bool shutting_down() const { return shutting_down_; }

    // Main thread, the server's run(): runs the loop until shutdown has closed the transport
    // and every reply is written, then waits for the workers. Returns the process exit code.
    int run();
    // Any thread: a recording recd starts by itself (Dispatcher::start_own; autostart.hpp's
    // StartOwn); `done` gets the reply line on the io thread. Before run() it waits for the loop.
    void start_own(ipc::Json body, std::string directory, std::function<void(std::string)> done);
    // Any thread: as a `shutdown` request, with `why` in the log: every recording is finalized,
    // then run() returns. Nothing if shutdown has begun.
    void end(std::string why);
    // Main thread, before run(): `release` runs on the io thread when shutdown begins, so what
    // was added to the loop (LoginSession's display watch) lets go of it and run() can return
    // once every recording is final.
    void at_shutdown(std::function<void()> release) { at_shutdown_.push_back(std::move(release)); }

private:
    void shutdown(std::function<void(ipc::Json)> done);
    void finish_shutdown();

    boost::asio::io_context io_;
    // Starting a session (open the display, the encoder, the file) or stopping one (drain,
    // trailer, fsync) blocks for up to seconds: four workers let several do so at once on a
    // 2-core machine.
    boost::asio::thread_pool workers_{4};
    Transport transport_;
    Events events_{io_};
    OpenFiles open_files_{OpenFiles::default_dir()};
    ipc::Json unfinished_;  // what an earlier recd left unfinished, for `status`
    SessionManager sessions_;
    Dispatcher dispatcher_;
    bool shutting_down_ = false;  // io thread
    std::vector<std::function<void(ipc::Json)>> shutdown_waiters_;
    std::vector<std::function<void()>> at_shutdown_;
};

}  // namespace rec
