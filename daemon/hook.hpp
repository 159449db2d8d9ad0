#pragma once
// Runs the configured on_file_closed command for each finalized file, in the background: the
// recording never waits for it. `{path}` in the command becomes the file's path, quoted as one
// argument for the platform's runner: POSIX runs the command with /bin/sh -c (hook_posix.cpp);
// Windows starts it with CreateProcessW, no shell, the first word naming the program
// (hook_windows.cpp). Each run's outcome is kept for `status` and logged.
// Threads: run() from any thread; each command runs and is reaped on its own detached thread,
// which only touches the shared results (so a session may go away while a hook still runs).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../common/ipc/protocol.hpp"

namespace rec {

class Hooks {
public:
    explicit Hooks(std::string command) : command_(std::move(command)) {}

    void run(const std::string& path);
    ipc::Json status() const;  // [{"file", "state": "running"|"done", "exit_code"}]

private:
    struct Results {
        std::mutex mutex;
        ipc::Json runs = ipc::Json::array();
    };
    const std::string command_;
    std::shared_ptr<Results> results_ = std::make_shared<Results>();
};

// One definition per platform (hook_posix.cpp, hook_windows.cpp):
// `path` quoted as one argument of the command: for /bin/sh ('...' with embedded quotes
// escaped), or by the rules CommandLineToArgvW and the C runtimes split a command line by.
std::string quote_hook_argument(const std::string& path);
// The hook's thread: runs `command` and waits for it. Its exit code (POSIX: 128 + the signal
// that ended it), or -1 when it could not be started.
int run_hook_command(const std::string& command);

}  // namespace rec
