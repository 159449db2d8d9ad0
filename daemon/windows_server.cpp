#include "windows_server.hpp"

#include <spdlog/spdlog.h>

#include "../common/win32.hpp"

namespace rec {

namespace asio = boost::asio;

WindowsServer::WindowsServer(const Config& config, std::wstring pipe)
    : pipe_name_(to_utf8(pipe)),
      unfinished_(report_unfinished(open_files_)),
      sessions_(config, events_, open_files_),
      dispatcher_(DaemonContext{io_, workers_, config, pipe_name_, Clock::now(),
                                [this](auto done) { shutdown(std::move(done)); },
                                [this] { return shutting_down_; }, events_, unfinished_},
                  sessions_),
      pipe_(io_, std::move(pipe), dispatcher_) {}

// After run(), or when it threw: the workers finish what they hold (a session's stop) first.
WindowsServer::~WindowsServer() { workers_.join(); }

void WindowsServer::listen() {
    pipe_.start();
    listening_ = true;
    spdlog::info("recd {} listening on {}", RECD_VERSION, pipe_name_);
}

int WindowsServer::run() {
    if (!listening_) listen();
    // The control plane yields to the recordings, as on Linux (server.cpp): a flood of
    // requests must not starve capture and encoding. Windows priorities are per thread too.
    if (!SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL))
        spdlog::debug("cannot lower the io thread's priority: {}", last_error_text());
    io_.run();
    workers_.join();
    spdlog::info("recd exits: every recording is finalized");
    return 0;
}

void WindowsServer::start_own(ipc::Json body, std::string directory,
                              std::function<void(std::string)> done) {
    asio::post(io_, [this, body = std::move(body), directory = std::move(directory),
                     done = std::move(done)] { dispatcher_.start_own(body, directory, done); });
}

void WindowsServer::end(std::string why) {
    asio::post(io_, [this, why = std::move(why)] {
        if (shutting_down_) return;
        spdlog::info("{}: finalizing every recording, then exiting", why);
        shutdown([](ipc::Json) {});
    });
}

// io thread. Asks every session to stop and waits for their files on the worker pool; clients
// stay connected meanwhile (a new `start` is refused: SHUTTING_DOWN). Then whoever asked is
// answered and the pipe closes once the replies are written, which lets io_.run() return.
void WindowsServer::shutdown(std::function<void(ipc::Json)> done) {
    shutdown_waiters_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;
    auto active = sessions_.active();
    for (const auto& s : active) s->request_stop();
    asio::post(workers_, [this, active] {
        for (const auto& s : active) s->wait();
        asio::post(io_, [this] { finish_shutdown(); });
    });
}

void WindowsServer::finish_shutdown() {
    ipc::Json list = ipc::Json::array();
    for (const auto& s : sessions_.all()) list.push_back(s->status());
    for (auto& done : shutdown_waiters_) done(list);
    shutdown_waiters_.clear();
    pipe_.stop();
}

}  // namespace rec
