#include "hook.hpp"

#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <thread>

#include "../common/log.hpp"

extern char** environ;

namespace rec {

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void Hooks::run(const std::string& path) {
    if (command_.empty()) return;
    std::string command = command_;
    for (size_t at = command.find("{path}"); at != std::string::npos;
         at = command.find("{path}", at + 1))
        command.replace(at, 6, shell_quote(path));
    size_t index;
    {
        std::lock_guard lock(results_->mutex);
        index = results_->runs.size();
        results_->runs.push_back({{"file", path}, {"state", "running"}});
    }
    std::thread([results = results_, command, path, index] {
        set_thread_name("hook");
        const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
        pid_t pid = 0;
        int status = 0;
        int exit_code = -1;
        if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) ==
                0 &&
            waitpid(pid, &status, 0) == pid)
            exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
