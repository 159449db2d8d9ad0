// recctl's console on POSIX (console.hpp): signals and isatty.
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "console.hpp"

namespace rec::recctl {
namespace {

volatile std::sig_atomic_t interrupted_ = 0;

}  // namespace

std::vector<std::string> arguments(int argc, char** argv) {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    std::reverse(args.begin(), args.end());
    return args;
}

void catch_interrupts() {
    struct sigaction action {};
    action.sa_handler = [](int) { interrupted_ = 1; };
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return interrupted_ != 0; }

bool stdout_is_ansi_terminal() { return isatty(STDOUT_FILENO); }

}  // namespace rec::recctl
