#include "windows_server.hpp"

#include <spdlog/spdlog.h>

#include "../common/win32.hpp"

namespace rec {

WindowsServer::WindowsServer(const Config& config, std::wstring pipe)
    : pipe_name_(to_utf8(pipe)),
      // During shutdown the pipe keeps taking clients, who may watch it (a new `start` is
      // refused: SHUTTING_DOWN); it closes once the waiters are answered.
      core_(config, pipe_name_, {.stop_accepting = [] {}, .close = [this] { pipe_.stop(); }}),
      pipe_(core_.io(), std::move(pipe), core_.dispatcher()) {}

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
    return core_.run();
}

}  // namespace rec
