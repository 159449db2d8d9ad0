#pragma once
// Where recctl connects, and how it names that place in --help and in its errors. One
// declaration, one definition per transport, picked by client/CMakeLists.txt:
// unix_socket_endpoint.cpp (Linux: recd's socket) and named_pipe_endpoint.cpp (Windows: the
// session's named pipe). Used by recctl's main thread only.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace rec::recctl {

// The words of the global options --socket and --user in --help.
struct EndpointHelp {
    std::string socket_type;  // what --socket takes: PATH, PIPE
    std::string socket;       // --socket's help
    std::string user;         // --user's help; empty: not offered here (hidden from --help)
};
EndpointHelp endpoint_help();

// A --socket, --user or RECD_SOCKET that cannot be used: recctl prints "recctl: " + what()
// and exits 2 (usage error).
class EndpointUsage : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What recctl connects to: `socket` (--socket), else the recd of `user` (--user), else the
// default; at most one of the two is set. Throws EndpointUsage.
std::filesystem::path choose_endpoint(const std::string& socket, const std::string& user);

// How `endpoint` reads in messages (UTF-8).
std::string describe(const std::filesystem::path& endpoint);

// Lines ("recctl: ...\n") printed after the reason recd could not be reached at `endpoint`
// (ipc::Unreachable): what to check, and which endpoint was tried.
std::string unreachable_advice(const std::filesystem::path& endpoint);
// Lines printed after the reason recd's endpoint refused this user (ipc::NoAccess).
std::string no_access_advice();

}  // namespace rec::recctl
