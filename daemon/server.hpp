#pragma once
// The control server on Linux, in the shape of Boost.Asio's HTTP server example: one io thread
// runs the loop, the signals, the acceptor and every connection; ControlCore's small worker pool
// runs what blocks (starting and stopping sessions). run() returns when every recording is
// finalized.
#include <filesystem>
#include <optional>
#include <string>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "../common/ipc/endpoint.hpp"
#include "connection.hpp"
#include "control_core.hpp"

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

    // Main thread: serves until SIGINT/SIGTERM/SIGHUP, `shutdown` or ControlCore::end, then
    // finalizes every recording. Returns the process exit code.
    int run();
    // The loop, the sessions and the shutdown: for what main adds before run() (LoginSession).
    ControlCore& core() { return core_; }

private:
    void accept();
    // The refusal to send a peer that may not control this recd; nothing if it may.
    std::optional<std::string> refusal(boost::asio::local::stream_protocol::socket& socket) const;
    void wait_for_signal();

    ControlCore core_;  // first: the rest runs on its loop
    boost::asio::signal_set signals_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::filesystem::path socket_;
    std::optional<ipc::AdminGroup> admin_;  // none if not set or not applied
    Connections connections_{core_.dispatcher()};
};

}  // namespace rec
