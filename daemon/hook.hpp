#pragma once
// Runs the configured on_file_closed command for each finalized file, in the background: the
// recording never waits for it. `{path}` in the command becomes the file's path, quoted for
// the shell. Each run's outcome is kept for `status` and logged.
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

// `text` quoted for /bin/sh: '...' with embedded quotes escaped.
std::string shell_quote(const std::string& text);

}  // namespace rec
