#include "server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "../common/error.hpp"
#include "../common/ipc/protocol.hpp"

namespace rec {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {

// A socket file left by a recd that died: we hold the lock, so nobody is behind it.
void remove_stale_socket(const std::filesystem::path& socket) {
    struct stat st {};
    if (lstat(socket.c_str(), &st) != 0) return;
    if (!S_ISSOCK(st.st_mode))
        throw Error(ErrorCode::output_failed,
                    socket.string() + " exists and is not a socket: refusing to replace it");
    spdlog::info("removing stale socket {} left by an earlier recd", socket.string());
    unlink(socket.c_str());
}

// Nice value of the io thread: at 5 it gets about a third of the CPU share of a capture or
// encode thread when they compete, and still answers within milliseconds when they do not.
constexpr int io_thread_nice = 5;

// The peer's supplementary groups as they were when it connected (SO_PEERGROUPS, Linux 4.13);
// empty if the kernel cannot tell.
std::vector<gid_t> peer_groups(int fd) {
    // Most users are in a few groups; one retry at the size the kernel names covers the rest.
    std::vector<gid_t> groups(32);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        const int result = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length);
        if (result == 0) {
            groups.resize(length / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE) break;
        groups.resize(length / sizeof(gid_t));
    }
    spdlog::warn("cannot read a peer's groups (SO_PEERGROUPS): {}", std::strerror(errno));
    return {};
}

bool in_group(const ucred& peer, int fd, gid_t group) {
    if (peer.gid == group) return true;
    const auto groups = peer_groups(fd);
    return std::find(groups.begin(), groups.end(), group) != groups.end();
}

// A last word to a client that is not served, then the connection is closed. A fresh socket's
// buffer takes the short line at once, so the blocking write cannot stall the io thread.
void turn_away(Local::socket& socket, const std::string& reply) {
    boost::system::error_code ignored;
    asio::write(socket, asio::buffer(reply), ignored);
    socket.shutdown(Local::socket::shutdown_both, ignored);
    socket.close(ignored);
}

}  // namespace

Server::Server(const Config& config, const std::filesystem::path& socket,
               std::optional<ipc::AdminGroup> admin)
    : core_(config, socket.string(),
            {.stop_accepting =
                 [this] {
                     boost::system::error_code ignored;
                     acceptor_.close(ignored);
                 },
             .close =
                 [this] {
                     signals_.cancel();
                     connections_.close_after_replies();
                 }}),
      signals_(core_.io(), SIGINT, SIGTERM, SIGHUP),
      acceptor_(core_.io()),
      socket_(socket),
      admin_(std::move(admin)) {
    remove_stale_socket(socket);
    std::optional<ipc::NotShared> not_shared;
    if (admin_) not_shared = ipc::share_socket_dir(socket, *admin_);
    // Created 0600 from the start: no window in which others could connect. With an admin
    // group it is opened to that group (0660) only after it belongs to the group, and before
    // listen(): a connection is possible only once the socket has its final mode.
    const mode_t old_mask = umask(0177);
    boost::system::error_code ec;
    acceptor_.open(Local(), ec);
    if (!ec) acceptor_.bind(Local::endpoint(socket.string()), ec);
    umask(old_mask);
    if (!ec && admin_ && !not_shared) {
        not_shared = ipc::share_socket(socket, *admin_);
        try {
            if (not_shared) ipc::unshare_socket_dir(socket);
        } catch (const Error&) {
            unlink(socket.c_str());  // no destructor runs to remove it
            throw;
        }
    }
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw Error(ErrorCode::output_failed,
                    "cannot listen on " + socket.string() + ": " + ec.message());
    if (!admin_) return;
    if (not_shared) {
        // Recording matters more than who may watch it: recd runs, private, and lets in no
        // member, as the socket's mode does not.
        const auto parent = socket.parent_path().empty() ? "." : socket.parent_path();
        struct stat dir {};
        struct stat sock {};
        stat(parent.c_str(), &dir);
        stat(socket.c_str(), &sock);
        spdlog::warn(
            "control.admin_group = \"{}\" is not applied: {}. The socket stays private "
            "(directory {:04o}, socket {:04o}): only uid {} and root can connect, members of "
            "{} are refused. To let them in, {}",
            admin_->name, not_shared->reason, dir.st_mode & 07777, sock.st_mode & 07777, getuid(),
            admin_->name, not_shared->remedy);
        admin_.reset();
        return;
    }
    spdlog::info("members of group {} (gid {}) may control this recd (control.admin_group)",
                 admin_->name, admin_->gid);
    if (auto blocked = ipc::blocked_for_group(socket, admin_->gid); !blocked.empty())
        spdlog::warn(
            "members of group {} cannot reach {}: {} is not searchable by them (nor by "
            "others); unless an ACL lets them, give the socket another place",
            admin_->name, socket.string(), blocked.string());
}

// Linux: who is at the other end. Only recd's own user, root and members of the admin group
// may talk to it: the socket's mode already keeps others out, this holds even if someone
// loosens the mode. Called on the io thread for each accepted connection.
std::optional<std::string> Server::refusal(Local::socket& socket) const {
    const int fd = socket.native_handle();
    ucred peer{};
    socklen_t length = sizeof(peer);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0)
        return ipc::error_reply(nullptr, ErrorCode::permission_denied,
                                "cannot tell who is connecting; refused");
    if (peer.uid == getuid()) return std::nullopt;
    // Anyone else who gets in is another user reaching this one's recording: worth a line.
    if (peer.uid == 0) {
        spdlog::info("uid 0 (pid {}) let in: root", peer.pid);
        return std::nullopt;
    }
    if (admin_ && in_group(peer, fd, admin_->gid)) {
        spdlog::info("uid {} (pid {}) let in: member of admin group {}", peer.uid, peer.pid,
                     admin_->name);
        return std::nullopt;
    }
    const auto allowed =
        admin_ ? fmt::format("uid {}, root and members of group {}", getuid(), admin_->name)
               : fmt::format("only uid {} and root", getuid());
    spdlog::warn("refused a connection from uid {} (pid {}): {} may control this recd", peer.uid,
                 peer.pid, allowed);
    return ipc::error_reply(nullptr, ErrorCode::permission_denied,
                            fmt::format("this recd belongs to uid {}; uid {} may not control it "
                                        "({} may)",
                                        getuid(), peer.uid, allowed));
}

Server::~Server() { unlink(socket_.c_str()); }

int Server::run() {
    accept();
    wait_for_signal();
    spdlog::info("recd {} listening on {}", RECD_VERSION, socket_.string());
    // The control plane yields to the recordings: a flood of requests must not starve capture
    // and encoding on a small machine. Only this thread (Linux nice values are per thread);
    // the workers, and the session threads they start, keep the process's priority.
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), io_thread_nice) != 0)
        spdlog::debug("cannot lower the io thread's priority: {}", std::strerror(errno));
    return core_.run();
}

void Server::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, Local::socket socket) {
        if (ec == asio::error::operation_aborted || core_.shutting_down()) return;
        if (ec) {
            spdlog::warn("accept failed: {}", ec.message());
        } else if (auto refused = refusal(socket)) {
            turn_away(socket, *refused);
        } else if (connections_.full()) {
            spdlog::warn("refused a connection: already serving {}", max_connections);
            turn_away(socket, busy_reply());
        } else {
            connections_.serve(
                std::make_unique<AsioControlStream<Local::socket>>(std::move(socket)));
        }
        accept();
    });
}

void Server::wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (core_.shutting_down())
            spdlog::warn("{} again: still finalizing recordings (SIGKILL aborts them)",
                         strsignal(signal));
        else
            core_.end(strsignal(signal));
        wait_for_signal();
    });
}

}  // namespace rec
