#pragma once
// A blocking client for recd's socket: connect, send one request, wait for its reply. Used by
// recctl (one thread). Not for recd itself.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>

#include "protocol.hpp"

namespace rec::ipc {

// recd could not be reached (no socket, nobody listening, timed out): recctl's exit code 3.
class Unreachable : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The socket or its directory does not let this user in (another user's recd, and neither
// root nor in its admin group): also exit code 3, but "is recd running?" would mislead.
class NoAccess : public Unreachable {
    using Unreachable::Unreachable;
};

class Client {
public:
    explicit Client(const std::filesystem::path& socket);  // throws Unreachable, NoAccess
    ~Client();
    // Sends `request` (a JSON object) and returns the reply object. Throws Unreachable if the
    // connection breaks or no reply arrives within `timeout`.
    Json call(const Json& request, std::chrono::milliseconds timeout);
    // After a `subscribe` call: waits (without limit) for the next event line and returns it;
    // nothing once recd closed the connection. Throws Unreachable if a line is not JSON.
    std::optional<Json> next_event();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rec::ipc
