// POSIX: getpid, kill(pid, 0), gethostname.
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "process.hpp"

namespace rec {

ProcessId current_process_id() { return getpid(); }

bool process_running(ProcessId id) {
    const auto pid = static_cast<pid_t>(id);
    return pid > 0 && pid == id && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::string machine_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

}  // namespace rec
