#include "endpoint.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../error.hpp"
#include "../unique_fd.hpp"

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
    // A directory we may not search (not root, not in the admin group) hides whether the socket
    // is there: try it anyway, so that connecting reports the permission error.
    struct stat st {};
    if (stat(runtime.c_str(), &st) == 0 || errno == EACCES) return runtime;
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

AdminGroup find_admin_group(const std::string& name) {
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(16 * 1024);  // grows for groups with many members (ERANGE)
    int error = 0;
    while ((error = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < (1u << 24))
        buffer.resize(buffer.size() * 2);
    if (!found)
        throw Error(
            ErrorCode::not_found,
            fmt::format("control.admin_group: no group named \"{}\"{} (see `getent group "
                        "{}`): create it, or remove the key to let in only root",
                        name, error ? fmt::format(" ({})", std::strerror(error)) : "", name));
    return {name, found->gr_gid};
}

namespace {

// "uid 1000 (alice)", or "uid 1000" for a user the system cannot name.
std::string this_user() {
    const passwd* entry = getpwuid(getuid());
    return entry ? fmt::format("uid {} ({})", getuid(), entry->pw_name)
                 : fmt::format("uid {}", getuid());
}

// A chown to the group that failed (errno): recd's user is not a member.
NotShared not_a_member(const std::string& what, const AdminGroup& admin) {
    const int error = errno;  // before getpwuid
    return {fmt::format("cannot {} (gid {}): {}", what, admin.gid, std::strerror(error)),
            fmt::format("make recd's user, {}, a member of group {} (or run recd as root)",
                        this_user(), admin.name)};
}

// A chmod of recd's own directory or socket that failed (errno): not for want of a group.
NotShared cannot_chmod(const std::string& what) {
    return {fmt::format("cannot {}: {}", what, std::strerror(errno)),
            "give the socket a directory of its own with control.socket or --socket (recd "
            "creates it)"};
}

// The socket's directory, opened without following a link: what is checked is what is changed.
UniqueFd open_socket_dir(const std::filesystem::path& dir, struct stat& st) {
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd || fstat(fd.get(), &st) != 0)
        throw Error(ErrorCode::output_failed,
                    fmt::format("cannot open {}: {}", dir.string(), std::strerror(errno)));
    if (st.st_uid != getuid())  // prepare_socket_dir saw it ours: it was replaced since
        throw Error(ErrorCode::output_failed,
                    fmt::format("{} no longer belongs to uid {}: refusing to change it",
                                dir.string(), getuid()));
    return fd;
}

std::filesystem::path socket_dir(const std::filesystem::path& socket) {
    return socket.parent_path().empty() ? std::filesystem::path(".") : socket.parent_path();
}

}  // namespace

std::optional<NotShared> share_socket_dir(const std::filesystem::path& socket,
                                          const AdminGroup& admin) {
    const auto dir = socket_dir(socket);
    struct stat st {};
    const UniqueFd fd = open_socket_dir(dir, st);
    const mode_t mode = st.st_mode & 0777;
    if (mode != 0700 && mode != 0710)
        return NotShared{fmt::format("{} is mode {:04o}, not private (0700): recd opens only a "
                                     "private directory to the group",
                                     dir.string(), mode),
                         "give the socket a directory of its own with control.socket or "
                         "--socket (recd creates it)"};
    // The session's runtime directory holds other programs' sockets (D-Bus, PipeWire, ...), some
    // loosely moded and safe only because the directory is private: it is never opened to a
    // group, whatever its mode.
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
        struct stat rt {};
        if (stat(runtime, &rt) == 0 && rt.st_dev == st.st_dev && rt.st_ino == st.st_ino) {
            if (mode != 0700) fchmod(fd.get(), 0700);  // left 0710 by an earlier recd
            return NotShared{
                fmt::format("{} is the session's runtime directory ($XDG_RUNTIME_DIR), "
                            "which recd does not open to a group",
                            dir.string()),
                "give the socket a directory of its own with control.socket or "
                "--socket (recd creates it)"};
        }
    }
    if (mode == 0710 && st.st_gid == admin.gid) return std::nullopt;
    // Whatever failed, a directory that was 0710 (for another group) is left private.
    const auto fail = [&](NotShared why) {
        if (mode != 0700) fchmod(fd.get(), 0700);
        return why;
    };
    if (st.st_gid != admin.gid) {
        // 0710 for another group: that group loses its search right before the new one gains it.
        if (mode != 0700 && fchmod(fd.get(), 0700) != 0)
            return fail(cannot_chmod("make " + dir.string() + " private (0700)"));
        if (fchown(fd.get(), static_cast<uid_t>(-1), admin.gid) != 0)
            return fail(not_a_member("give " + dir.string() + " group " + admin.name, admin));
    }
    if (fchmod(fd.get(), 0710) != 0)
        return fail(cannot_chmod("make " + dir.string() + " group-searchable (0710)"));
    return std::nullopt;
}

std::optional<NotShared> share_socket(const std::filesystem::path& socket,
                                      const AdminGroup& admin) {
    // The directory is ours and nobody else may write in it: the path is the socket just bound.
    if (lchown(socket.c_str(), static_cast<uid_t>(-1), admin.gid) != 0)
        return not_a_member(fmt::format("give the socket {} group {}", socket.string(), admin.name),
                            admin);
    if (chmod(socket.c_str(), 0660) != 0)
        return cannot_chmod("make the socket " + socket.string() + " 0660");
    return std::nullopt;
}

void unshare_socket_dir(const std::filesystem::path& socket) {
    const auto dir = socket_dir(socket);
    struct stat st {};
    const UniqueFd fd = open_socket_dir(dir, st);
    if ((st.st_mode & 0777) == 0710 && fchmod(fd.get(), 0700) != 0)
        throw Error(ErrorCode::output_failed, fmt::format("cannot make {} private (0700): {}",
                                                          dir.string(), std::strerror(errno)));
}

std::filesystem::path blocked_for_group(const std::filesystem::path& socket, gid_t admin) {
    auto dir = std::filesystem::absolute(socket).parent_path();
    while (dir.has_relative_path()) {
        dir = dir.parent_path();
        struct stat st {};
        if (stat(dir.c_str(), &st) != 0) return dir;
        if (!(st.st_mode & S_IXOTH) && !(st.st_gid == admin && (st.st_mode & S_IXGRP))) return dir;
    }
    return {};
}

std::filesystem::path lock_path(const std::filesystem::path& socket) {
    return socket.string() + ".lock";
}

}  // namespace rec::ipc
