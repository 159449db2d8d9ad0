// recctl's console on Windows (console.hpp): the UTF-16 command line, a console control
// handler, and the console's VT mode.
#include <windows.h>
// After windows.h, which it needs: CommandLineToArgvW.
#include <shellapi.h>

#include <algorithm>
#include <atomic>

#include "common/win32.hpp"
#include "console.hpp"

namespace rec::recctl {
namespace {

std::atomic<bool> interrupted_{false};

// Runs on a thread Windows starts for the event. Ctrl-C and Ctrl-Break are ours; closing the
// console or logging off keep their default (the process ends).
BOOL WINAPI on_control(DWORD event) {
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT) return FALSE;
    interrupted_ = true;
    return TRUE;
}

}  // namespace

std::vector<std::string> arguments(int argc, char** argv) {
    int count = 0;
    const UniqueLocal<LPWSTR> wide(CommandLineToArgvW(GetCommandLineW(), &count));
    std::vector<std::string> args;
    if (!wide) {  // out of memory: the ANSI arguments are better than none
        args.assign(argv + std::min(argc, 1), argv + argc);
    } else {
        for (int i = 1; i < count; ++i) args.push_back(to_utf8(wide.get()[i]));
    }
    std::reverse(args.begin(), args.end());
    return args;
}

void catch_interrupts() { SetConsoleCtrlHandler(on_control, TRUE); }

bool interrupted() { return interrupted_; }

bool stdout_is_ansi_terminal() {
    const HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode = 0;
    if (!GetConsoleMode(out, &mode)) return false;  // a pipe or a file
    return (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) ||
           SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

}  // namespace rec::recctl
