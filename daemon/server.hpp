#pragma once
// The control server, in the shape of Boost.Asio's HTTP server example: one io thread runs
// the loop, the signals, the acceptor and every connection; a small worker pool runs what
// blocks (starting and stopping sessions). run() returns when every recording is finalized.
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "connection.hpp"
#include "dispatcher.hpp"
#include "session_manager.hpp"

namespace rec {

class Server {
public:
    // Binds the socket (removing a stale one: the caller holds the instance lock).
    // Throws rec::Error(OUTPUT_FAILED).
    Server(const Config& config, const std::filesystem::path& socket);
    ~Server();

    // Main thread: serves until SIGINT/SIGTERM or `shutdown`, then finalizes every recording.
    // Returns the process exit code.
    int run();

private:
    void accept();
    void wait_for_signal();
    void shutdown(std::function<void(ipc::Json)> done);
    void finish_shutdown();

    boost::asio::io_context io_;
    // Starting a session (open display, encoder, file) or stopping one (drain, trailer, fsync)
    // blocks for up to seconds: four workers let several do so at once on a 2-core machine.
    boost::asio::thread_pool workers_{4};
    boost::asio::signal_set signals_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::filesystem::path socket_;
    Events events_{io_};
    SessionManager sessions_;
    Dispatcher dispatcher_;
    std::set<std::shared_ptr<Connection>> connections_;
    bool shutting_down_ = false;
    std::vector<std::function<void(ipc::Json)>> shutdown_waiters_;
};

}  // namespace rec
