// recctl's endpoint on Windows: the named pipe of the recd in recctl's own session,
// \\.\pipe\recd-<session id> (recctl_endpoint.hpp; common/ipc/named_pipe.hpp names it the way
// recd-service does). recd is per session, not per user: --user has no meaning here.
#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include "common/ipc/named_pipe.hpp"
#include "common/win32.hpp"
#include "recctl_endpoint.hpp"

namespace rec::recctl {
namespace {

// --socket and RECD_SOCKET take a whole pipe name (\\.\pipe\NAME, or //./pipe/NAME), or NAME
// alone for \\.\pipe\NAME: "recd-2" is session 2's recd, not a file in the current directory.
std::filesystem::path pipe_named(std::string_view name) {
    const bool whole = name.starts_with("\\\\") || name.starts_with("//");
    return (whole ? L"" : L"\\\\.\\pipe\\") + to_utf16(name);
}

}  // namespace

EndpointHelp endpoint_help() {
    return {"PIPE",
            "recd's named pipe, \\\\.\\pipe\\NAME or NAME (default: $RECD_SOCKET, else this "
            "session's, \\\\.\\pipe\\recd-<session id>; an administrator may name another "
            "session's)",
            ""};
}

std::filesystem::path choose_endpoint(const std::string& socket, const std::string& user) {
    if (!user.empty())
        throw EndpointUsage(
            "--user is not available on Windows: each session has its own recd, on its own "
            "pipe; to reach another session's recd (as an administrator), name its pipe: "
            "--socket \\\\.\\pipe\\recd-<session id> (`query session` lists the ids)");
    if (!socket.empty()) return pipe_named(socket);
    if (const char* env = std::getenv("RECD_SOCKET"); env && *env) return pipe_named(env);
    return ipc::pipe_name(ipc::current_session());
}

std::string describe(const std::filesystem::path& endpoint) { return to_utf8(endpoint.wstring()); }

std::string unreachable_advice(const std::filesystem::path& endpoint) {
    const bool own = endpoint.wstring() == ipc::pipe_name(ipc::current_session());
    return fmt::format(
        "recctl: is recd running in this session? the recd service starts it in every session "
        "at logon (check it with: sc query recd)\n"
        "recctl: pipe tried: {}{} (choose another with --socket \\\\.\\pipe\\NAME or "
        "RECD_SOCKET)\n",
        describe(endpoint), own ? ", this session's" : "");
}

std::string no_access_advice() {
    return "recctl: a session's recd lets in only that session's user, SYSTEM and "
           "Administrators (an elevated recctl)\n";
}

}  // namespace rec::recctl
