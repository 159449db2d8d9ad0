#pragma once
// recd's control endpoint on Windows: the named pipe \\.\pipe\recd-<session>, served on the io
// thread like the Unix socket (server.cpp), one Connection per client, the same protocol.
// Windows-only (named after the technology). Constructed and started before the io thread
// runs or on it; stopped on it. Its handlers hold `this`: it is destroyed only once the io
// context has stopped running them (recd: at exit; the tests: after joining the io thread).
#include <windows.h>

#include <memory>
#include <string>

#include "../common/error.hpp"
#include "../common/ipc/asio.hpp"
#include "../common/win32.hpp"
#include "connection.hpp"
#include "request_handler.hpp"

namespace rec {

// The pipe's name is taken (start()): another recd serves this session, or another program
// took the name. recd.exe --session then leaves quietly, as a second Linux recd does.
class PipeTaken : public Error {
public:
    using Error::Error;
};

class NamedPipeServer {
public:
    // `handler` outlives the server (recd's Dispatcher).
    NamedPipeServer(boost::asio::io_context& io, std::wstring name, RequestHandler& handler);
    ~NamedPipeServer();

    // Creates the pipe's first instance and starts accepting. Only the local SYSTEM account,
    // Administrators and this process's own user may open it; clients on other machines are
    // refused by the pipe itself. Throws PipeTaken (OUTPUT_FAILED) if a pipe of this name
    // exists already (FILE_FLAG_FIRST_PIPE_INSTANCE: another recd of this session, or another
    // process that took the name), rec::Error(OUTPUT_FAILED) if the pipe cannot be created.
    void start();
    // Stops accepting; each connection closes once its reply being prepared is written.
    void stop();
    size_t connections() const { return connections_.size(); }

private:
    void listen(std::unique_ptr<boost::asio::windows::stream_handle> instance);
    void serve(std::unique_ptr<boost::asio::windows::stream_handle> instance);
    void next_instance();
    UniqueHandle create_instance(bool first);

    boost::asio::io_context& io_;
    const std::wstring name_;
    UniqueLocal<void> security_;  // the pipe's DACL, for every instance
    boost::asio::steady_timer retry_;
    bool stopped_ = false;
    // The instance waiting for its client; closed by stop().
    std::unique_ptr<boost::asio::windows::stream_handle> listening_;
    Connections connections_;
};

}  // namespace rec
