#include "hook.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "../common/log.hpp"

namespace rec {

void Hooks::run(const std::string& path) {
    if (command_.empty()) return;
    std::string command = command_;
    for (size_t at = command.find("{path}"); at != std::string::npos;
         at = command.find("{path}", at + 1))
        command.replace(at, 6, quote_hook_argument(path));
    size_t index;
    {
        std::lock_guard lock(results_->mutex);
        index = results_->runs.size();
        results_->runs.push_back({{"file", path}, {"state", "running"}});
    }
    std::thread([results = results_, command, path, index] {
        set_thread_name("hook");
        const int exit_code = run_hook_command(command);
        if (exit_code == 0)
            spdlog::info("on_file_closed for {} exited with 0", path);
        else
            spdlog::warn("on_file_closed for {} exited with {}", path, exit_code);
        std::lock_guard lock(results->mutex);
        results->runs[index]["state"] = "done";
        results->runs[index]["exit_code"] = exit_code;
    }).detach();
}

ipc::Json Hooks::status() const {
    std::lock_guard lock(results_->mutex);
    return results_->runs;
}

}  // namespace rec
