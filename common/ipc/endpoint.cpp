#include "endpoint.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../error.hpp"

namespace rec::ipc {

std::filesystem::path socket_path(const std::string& explicit_path, const std::string& configured) {
    if (!explicit_path.empty()) return explicit_path;
    if (const char* env = std::getenv("RECD_SOCKET"); env && *env) return env;
    if (!configured.empty()) return configured;
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime)
        return std::filesystem::path(runtime) / "recd.sock";
    return fmt::format("/tmp/recd-{}/recd.sock", getuid());
}

std::filesystem::path user_socket_path(const std::string& user) {
    const passwd* entry = getpwnam(user.c_str());
    if (!entry) throw Error(ErrorCode::not_found, fmt::format("no user named \"{}\"", user));
    const auto runtime = fmt::format("/run/user/{}/recd.sock", entry->pw_uid);
    if (std::filesystem::exists(runtime)) return runtime;
    return fmt::format("/tmp/recd-{}/recd.sock", entry->pw_uid);
}

void prepare_socket_dir(const std::filesystem::path& socket) {
    const auto dir =
        socket.parent_path().empty() ? std::filesystem::path(".") : socket.parent_path();
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ErrorCode::output_failed,
                    fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(ErrorCode::output_failed, dir.string() + " is not a directory");
    if (st.st_uid != getuid())
        throw Error(ErrorCode::output_failed,
                    fmt::format("{} belongs to uid {}, not to us (uid {}): refusing to put the "
                                "socket there",
                                dir.string(), st.st_uid, getuid()));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        throw Error(ErrorCode::output_failed,
                    dir.string() + " is writable by others: refusing to put the socket there");
}

std::filesystem::path lock_path(const std::filesystem::path& socket) {
    return socket.string() + ".lock";
}

}  // namespace rec::ipc
