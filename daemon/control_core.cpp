#include "control_core.hpp"

#include <spdlog/spdlog.h>

namespace rec {

namespace asio = boost::asio;

ControlCore::ControlCore(const Config& config, std::string endpoint, Transport transport)
    : transport_(std::move(transport)),
      unfinished_(report_unfinished(open_files_)),
      sessions_(config, events_, open_files_),
      dispatcher_(DaemonContext{io_, workers_, config, std::move(endpoint), Clock::now(),
                                [this](auto done) { shutdown(std::move(done)); },
                                [this] { return shutting_down_; }, events_, unfinished_},
                  sessions_) {}

ControlCore::~ControlCore() { workers_.join(); }

int ControlCore::run() {
    io_.run();
    workers_.join();
    spdlog::info("recd exits: every recording is finalized");
    return 0;
}

void ControlCore::start_own(ipc::Json body, std::string directory,
                            std::function<void(std::string)> done) {
    asio::post(io_, [this, body = std::move(body), directory = std::move(directory),
                     done = std::move(done)] { dispatcher_.start_own(body, directory, done); });
}

void ControlCore::end(std::string why) {
    asio::post(io_, [this, why = std::move(why)] {
        if (shutting_down_) return;
        spdlog::info("{}: finalizing every recording, then exiting", why);
        shutdown([](ipc::Json) {});
    });
}

// io thread: a `shutdown` request (through the dispatcher) or end(). Asks every session to stop
// and waits for their files on the worker pool; connected clients stay meanwhile (a new `start`
// is refused: SHUTTING_DOWN). Then whoever asked is answered and the transport closes once the
// replies are written, which lets io_.run() return.
void ControlCore::shutdown(std::function<void(ipc::Json)> done) {
    shutdown_waiters_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;
    for (auto& release : at_shutdown_) release();
    transport_.stop_accepting();
    auto active = sessions_.active();
    for (const auto& s : active) s->request_stop();
    asio::post(workers_, [this, active] {
        for (const auto& s : active) s->wait();
        asio::post(io_, [this] { finish_shutdown(); });
    });
}

void ControlCore::finish_shutdown() {
    ipc::Json list = ipc::Json::array();
    for (const auto& s : sessions_.all()) list.push_back(s->status());
    for (auto& done : shutdown_waiters_) done(list);
    shutdown_waiters_.clear();
    transport_.close();
}

}  // namespace rec
