#include "instance_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "../common/error.hpp"
#include "../common/ipc/endpoint.hpp"

namespace rec {

InstanceLock::InstanceLock(const std::filesystem::path& socket) {
    const auto path = ipc::lock_path(socket);
    fd_.reset(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd_)
        throw Error(ErrorCode::output_failed,
                    fmt::format("cannot open lock file {}: {}", path.string(), strerror(errno)));
    lock_ = boost::interprocess::file_lock(path.c_str());
    if (!lock_.try_lock()) {
        std::string pid;
        std::ifstream(path) >> pid;  // the holder wrote its pid there
        throw AlreadyRunning(
            fmt::format("another recd{} is already running with socket {} (lock {}): use "
                        "recctl, or stop it with `recctl shutdown`",
                        pid.empty() ? "" : " (pid " + pid + ")", socket.string(), path.string()),
            pid.empty() ? "" : "pid " + pid);
    }
    const auto text = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_.get(), 0) != 0 || pwrite(fd_.get(), text.data(), text.size(), 0) < 0)
        throw Error(ErrorCode::output_failed, "cannot write " + path.string());
}

}  // namespace rec
