// POSIX hooks (hook.hpp): the command through /bin/sh -c, spawned and reaped on the hook thread.
#include <spawn.h>
#include <sys/wait.h>

#include "hook.hpp"

extern char** environ;

namespace rec {

std::string quote_hook_argument(const std::string& path) {
    std::string out = "'";
    for (char c : path) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

int run_hook_command(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    int status = 0;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0 ||
        waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace rec
