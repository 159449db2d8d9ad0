#pragma once
// The control server, in the shape of Boost.Asio's HTTP server example: one io thread runs
// the loop, the signals, the acceptor and every connection; a small worker pool runs what
// blocks (starting and stopping sessions). run() returns when every recording is finalized.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "../common/ipc/endpoint.hpp"
#include "connection.hpp"
#include "dispatcher.hpp"
#include "open_files.hpp"
#include "session_manager.hpp"

namespace rec {

class Server {
public:
    // Binds the socket (removing a stale one: the caller holds the instance lock). With `admin`
    // (control.admin_group) the socket and its directory are shared with that group and its
    // members are let in like root; if they cannot be (recd's user not in the group, a directory
    // that is not private) recd warns and both stay private, members refused. Throws
    // rec::Error(OUTPUT_FAILED).
    Server(const Config& config, const std::filesystem::path& socket,
           std::optional<ipc::AdminGroup> admin = std::nullopt);
    ~Server();

    // Main thread: serves until SIGINT/SIGTERM/SIGHUP, `shutdown` or end(), then finalizes
    // every recording. Returns the process exit code.
    int run();

    // For what main adds to the io thread before run() (LoginSession and its display watch).
    boost::asio::io_context& io() { return io_; }
    // Any thread: a recording recd starts by itself (Dispatcher::start_own); `done` gets the
    // reply line on the io thread.
    void start_own(ipc::Json body, std::string directory, std::function<void(std::string)> done);
    // Any thread: as SIGTERM, with `why` in the log: every recording is finalized, run() returns.
    void end(std::string why);
    // Main thread, before run(): `release` runs on the io thread when shutdown begins, so what
    // main added to the loop (LoginSession's display watch) lets go of it and run() can return
    // once every recording is final.
    void at_shutdown(std::function<void()> release) { at_shutdown_.push_back(std::move(release)); }

private:
    void accept();
    // The refusal to send a peer that may not control this recd; nothing if it may.
    std::optional<std::string> refusal(boost::asio::local::stream_protocol::socket& socket) const;
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
    std::optional<ipc::AdminGroup> admin_;  // none if not set or not applied
    Events events_{io_};
    OpenFiles open_files_{OpenFiles::default_dir()};
    ipc::Json unfinished_;  // what an earlier recd left unfinished, for `status`
    SessionManager sessions_;
    Dispatcher dispatcher_;
    Connections connections_{dispatcher_};
    bool shutting_down_ = false;
    std::vector<std::function<void(ipc::Json)>> shutdown_waiters_;
    std::vector<std::function<void()>> at_shutdown_;
};

}  // namespace rec
