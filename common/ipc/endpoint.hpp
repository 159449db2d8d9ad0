#pragma once
// Where recd listens and where recctl connects: one function, so the two always agree.
#include <filesystem>
#include <string>

namespace rec::ipc {

// The first that is set: `explicit_path` (--socket), $RECD_SOCKET, `configured` (recd.toml's
// control.socket; recctl has none), $XDG_RUNTIME_DIR/recd.sock, /tmp/recd-<uid>/recd.sock.
std::filesystem::path socket_path(const std::string& explicit_path,
                                  const std::string& configured = "");

// Another user's recd, for root (`recctl --user NAME`): where that user's session would put it
// without settings, /run/user/<uid>/recd.sock (systemd's XDG_RUNTIME_DIR) if it exists, else
// /tmp/recd-<uid>/recd.sock. rec::Error(NOT_FOUND) if there is no such user.
std::filesystem::path user_socket_path(const std::string& user);

// Called by recd before binding: creates the socket's directory 0700 if missing and refuses
// (rec::Error OUTPUT_FAILED) a directory another user owns or others can write to.
void prepare_socket_dir(const std::filesystem::path& socket);

// The single-instance lock file that sits next to the socket.
std::filesystem::path lock_path(const std::filesystem::path& socket);

}  // namespace rec::ipc
