#include "private_x.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

namespace rec::test {

using namespace std::chrono_literals;

PrivateX::PrivateX(Sandbox& box, Server server, const std::string& size, bool pattern) : box_(box) {
    // -displayfd 1: the server picks a free display and writes its number to stdout once it
    // serves. Xvnc: no VNC port, no password (nobody connects; the test only draws and grabs).
    std::vector<std::string> argv =
        server == Server::xvfb
            ? std::vector<std::string>{"Xvfb", "-screen", "0", size + "x24"}
            : std::vector<std::string>{"Xvnc", "-geometry",      size,  "-depth", "24", "-rfbport",
                                       "-1",   "-SecurityTypes", "None"};
    argv.insert(argv.end(), {"-displayfd", "1", "-nolisten", "tcp", "-noreset"});
    server_ =
        std::make_unique<Process>(argv, environment_with({}), box.new_file("private-x-stdout"),
                                  box.new_file("private-x-stderr"));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && server_->running() && number_.empty()) {
        const std::string out = server_->out();
        if (!out.empty() && out.back() == '\n') number_ = out.substr(0, out.size() - 1);
        std::this_thread::sleep_for(20ms);
    }
    if (number_.empty()) FAIL("private " << argv[0] << " did not start: " << server_->err());
    if (pattern) start_pattern();
}

// At 60 fps: every grab at the sessions' 30 sees a new picture whatever the phase of the two
// clocks (at 30 against 30, jitter around a shared phase left some grabs between two draws, so
// "a screen that changes every frame" showed a few unchanged grabs when the machine was busy).
void PrivateX::start_pattern() {
    pattern_ =
        std::make_unique<Process>(std::vector<std::string>{test_pattern_bin().string(), "--display",
                                                           display(), "--fps", "60"},
                                  environment_with({}), box_.new_file("private-pattern-stdout"),
                                  box_.new_file("private-pattern-stderr"));
    for (int i = 0; i < 100 && pattern_->out().find("ready") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    if (pattern_->out().find("ready") == std::string::npos)
        FAIL("test_pattern on " << display() << " not ready: " << pattern_->err());
}

PrivateX::~PrivateX() {
    if (server_->running()) {
        server_->signal(SIGCONT);
        server_->signal(SIGTERM);
        server_->wait_for(5s);
    }
    forget_files();
}

void PrivateX::freeze() { server_->signal(SIGSTOP); }

void PrivateX::thaw() { server_->signal(SIGCONT); }

void PrivateX::kill() {
    server_->signal(SIGKILL);
    server_->wait_for(5s);
    forget_files();
}

void PrivateX::resize(const std::string& size) {
    Process xrandr({"xrandr", "-s", size}, environment_with({"DISPLAY=" + display()}),
                   box_.new_file("xrandr-stdout"), box_.new_file("xrandr-stderr"));
    const auto code = xrandr.wait_for(10s);
    if (code != 0) FAIL("xrandr -s " << size << " on " << display() << ": " << xrandr.err());
}

void PrivateX::forget_files() {
    std::error_code ignored;
    fs::remove("/tmp/.X11-unix/X" + number_, ignored);
    fs::remove("/tmp/.X" + number_ + "-lock", ignored);
}

}  // namespace rec::test
