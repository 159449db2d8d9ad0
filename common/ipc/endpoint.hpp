#pragma once
// Where recd listens and where recctl connects: one function, so the two always agree.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace rec::ipc {

// The first that is set: `explicit_path` (--socket), $RECD_SOCKET, `configured` (recd.toml's
// control.socket; recctl has none), $XDG_RUNTIME_DIR/recd.sock, /tmp/recd-<uid>/recd.sock.
std::filesystem::path socket_path(const std::string& explicit_path,
                                  const std::string& configured = "");

// Another user's recd, for root or a member of its admin group (`recctl --user NAME`): where
// that user's session would put it without settings, /run/user/<uid>/recd.sock (systemd's
// XDG_RUNTIME_DIR) if it exists or cannot be looked into, else /tmp/recd-<uid>/recd.sock.
// rec::Error(NOT_FOUND) if there is no such user.
std::filesystem::path user_socket_path(const std::string& user);

// Called by recd before binding: creates the socket's directory 0700 if missing and refuses
// (rec::Error OUTPUT_FAILED) a directory another user owns or others can write to.
void prepare_socket_dir(const std::filesystem::path& socket);

// control.admin_group, looked up once by recd's main thread at start.
struct AdminGroup {
    std::string name;
    gid_t gid = 0;
};

// rec::Error(NOT_FOUND) naming the key if the system knows no group `name`.
AdminGroup find_admin_group(const std::string& name);

// Why the socket could not be shared with the admin group, and what would let it be. recd then
// warns and runs with the socket private: an admin group set for a whole fleet must not stop
// the recordings of users outside it.
struct NotShared {
    std::string reason;  // what failed and why
    std::string remedy;  // what the operator can do about it
};

// Called by the server, after the instance lock and before binding: the socket's directory
// (checked by prepare_socket_dir) becomes group `admin`, mode 0710, so its members can reach
// the socket and nothing else in it by listing. Only a private directory (0700, or already 0710)
// is changed, and it never passes through a mode more open than that. Returns why not when the
// directory is not private (it is left as it is) or the chown fails (recd's user not in the
// group; a 0710 directory is left 0700); nothing when it is shared. rec::Error(OUTPUT_FAILED)
// only if the directory cannot be opened or no longer belongs to recd's user.
std::optional<NotShared> share_socket_dir(const std::filesystem::path& socket,
                                          const AdminGroup& admin);

// The socket itself, right after bind() made it 0600: group `admin`, mode 0660. Returns why not
// if the chown or chmod fails; the socket is then still 0600.
std::optional<NotShared> share_socket(const std::filesystem::path& socket, const AdminGroup& admin);

// Undoes share_socket_dir when the socket could not follow: the directory is 0700 again.
// rec::Error(OUTPUT_FAILED) if it cannot be made so.
void unshare_socket_dir(const std::filesystem::path& socket);

// The first directory above the socket's own that members of `admin` cannot search (neither
// others nor that group have x; ACLs are not read), or "" if none: recd warns about it.
std::filesystem::path blocked_for_group(const std::filesystem::path& socket, gid_t admin);

// The single-instance lock file that sits next to the socket.
std::filesystem::path lock_path(const std::filesystem::path& socket);

}  // namespace rec::ipc
