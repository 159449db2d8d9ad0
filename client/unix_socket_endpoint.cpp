// recctl's endpoint on Linux: recd's Unix socket (recctl_endpoint.hpp; common/ipc/endpoint.hpp
// finds it the way recd does).
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/ipc/endpoint.hpp"
#include "recctl_endpoint.hpp"

namespace rec::recctl {

EndpointHelp endpoint_help() {
    return {"PATH", "recd's socket (default: $RECD_SOCKET, else the usual)",
            "talk to this user's recd (root, or a member of its control.admin_group; its socket "
            "in /run/user/UID or /tmp/recd-UID)"};
}

std::filesystem::path choose_endpoint(const std::string& socket, const std::string& user) {
    if (user.empty()) return ipc::socket_path(socket);
    try {
        return ipc::user_socket_path(user);
    } catch (const Error& e) {
        throw EndpointUsage(fmt::format("--user: {}", e.what()));
    }
}

std::string describe(const std::filesystem::path& endpoint) { return endpoint.string(); }

std::string unreachable_advice(const std::filesystem::path& endpoint) {
    return fmt::format(
        "recctl: is recd running? start it with: recd &\n"
        "recctl: socket tried: {} (choose another with --socket PATH or RECD_SOCKET)\n",
        describe(endpoint));
}

std::string no_access_advice() {
    return "recctl: only the user recd runs as, root and members of its admin group "
           "(control.admin_group in recd.toml) may control it\n";
}

}  // namespace rec::recctl
