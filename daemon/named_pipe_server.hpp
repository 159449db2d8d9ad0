#pragma once
// recd's control endpoint on Windows: the named pipe \\.\pipe\recd-<session>, served on the io
// thread like the Unix socket (server.cpp), one Connection per client, the same protocol.
// Windows-only (named after the technology). Constructed, started, stopped and destroyed on
// the io thread (or before it runs).
#include <windows.h>

#include <memory>
#include <set>
#include <string>

#include "../common/ipc/asio.hpp"
#include "../common/ipc/named_pipe.hpp"
#include "../common/win32.hpp"
#include "connection.hpp"
#include "request_handler.hpp"

namespace rec {

class NamedPipeServer {
public:
    // `handler` outlives the server (recd's Dispatcher).
    NamedPipeServer(boost::asio::io_context& io, std::wstring name, RequestHandler& handler);
    ~NamedPipeServer();

    // Creates the pipe's first instance and starts accepting. Only the local SYSTEM account,
    // Administrators and this process's own user may open it; clients on other machines are
    // refused by the pipe itself. Throws rec::Error(OUTPUT_FAILED) if another process already
    // has a pipe of this name (another recd in this session: FILE_FLAG_FIRST_PIPE_INSTANCE)
    // or the pipe cannot be created.
    void start();
    // Stops accepting; each connection closes once its reply being prepared is written.
    void stop();
    size_t connections() const { return connections_.size(); }

private:
    void accept();
    UniqueHandle create_instance();

    boost::asio::io_context& io_;
    const std::wstring name_;
    RequestHandler& handler_;
    std::unique_ptr<void, decltype(&LocalFree)> security_{nullptr, &LocalFree};
    bool first_ = true;  // the next instance is the pipe's first
    bool stopped_ = false;
    bool waiting_room_ = false;  // all instances taken: accept() again when a connection closes
    // The instance waiting for its client; closed by stop().
    std::unique_ptr<boost::asio::windows::stream_handle> listening_;
    std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace rec
