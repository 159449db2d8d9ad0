#include "server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <csignal>

#include "../common/error.hpp"

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

}  // namespace

Server::Server(const Config& config, const std::filesystem::path& socket)
    : signals_(io_, SIGINT, SIGTERM),
      acceptor_(io_),
      socket_(socket),
      sessions_(config),
      dispatcher_(DaemonContext{io_, workers_, config, socket.string(), Clock::now(),
                                [this](auto done) { shutdown(std::move(done)); },
                                [this] { return shutting_down_; }},
                  sessions_) {
    remove_stale_socket(socket);
    // Created 0600 from the start: no window in which others could connect.
    const mode_t old_mask = umask(0177);
    boost::system::error_code ec;
    acceptor_.open(Local(), ec);
    if (!ec) acceptor_.bind(Local::endpoint(socket.string()), ec);
    umask(old_mask);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw Error(ErrorCode::output_failed,
                    "cannot listen on " + socket.string() + ": " + ec.message());
}

Server::~Server() {
    workers_.join();
    unlink(socket_.c_str());
}

int Server::run() {
    accept();
    wait_for_signal();
    spdlog::info("recd {} listening on {}", RECD_VERSION, socket_.string());
    io_.run();
    workers_.join();
    spdlog::info("recd exits: every recording is finalized");
    return 0;
}

void Server::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, Local::socket socket) {
        if (ec == asio::error::operation_aborted || shutting_down_) return;
        if (!ec) {
            auto connection =
                std::make_shared<Connection>(std::move(socket), dispatcher_, [this](Connection* c) {
                    std::erase_if(connections_, [c](const auto& p) { return p.get() == c; });
                });
            connections_.insert(connection);
            connection->start();
        } else {
            spdlog::warn("accept failed: {}", ec.message());
        }
        accept();
    });
}

void Server::wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (shutting_down_) {
            spdlog::warn("{} again: still finalizing recordings (SIGKILL aborts them)",
                         strsignal(signal));
        } else {
            spdlog::info("{}: finalizing every recording, then exiting", strsignal(signal));
            shutdown([](ipc::Json) {});
        }
        wait_for_signal();
    });
}

// Stops accepting, asks every session to stop, waits for their files on the worker pool, then
// answers whoever asked and lets io_.run() return once the replies are written.
void Server::shutdown(std::function<void(ipc::Json)> done) {
    shutdown_waiters_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto active = sessions_.active();
    for (const auto& s : active) s->request_stop();
    asio::post(workers_, [this, active] {
        for (const auto& s : active) s->wait();
        asio::post(io_, [this] { finish_shutdown(); });
    });
}

void Server::finish_shutdown() {
    ipc::Json list = ipc::Json::array();
    for (const auto& s : sessions_.all()) list.push_back(s->status());
    for (auto& done : shutdown_waiters_) done(list);
    shutdown_waiters_.clear();
    signals_.cancel();
    for (const auto& c : std::set(connections_)) c->close_after_replies();
}

}  // namespace rec
