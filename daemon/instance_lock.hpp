#pragma once
// One recd per socket: a Boost.Interprocess file_lock on "<socket>.lock". The kernel releases
// it when recd dies, however it dies, so a crash never leaves a stale lock (a named_mutex
// would). Taken by main before the server binds; held for the life of the process.
#include <boost/interprocess/sync/file_lock.hpp>
#include <filesystem>

#include "../common/error.hpp"
#include "../common/unique_fd.hpp"

namespace rec {

// Another recd holds the lock. main tells it apart from a failure: for `recd --session` it is
// the expected outcome of a second login hook (the systemd unit, the Xsession script and XDG
// autostart may all start recd in one session), not an error.
class AlreadyRunning : public Error {
public:
    AlreadyRunning(const std::string& message, std::string holder)
        : Error(ErrorCode::output_failed, message), holder_(std::move(holder)) {}
    // "pid N" of the recd holding the lock, or "" if it wrote none yet.
    const std::string& holder() const { return holder_; }

private:
    std::string holder_;
};

class InstanceLock {
public:
    // Throws AlreadyRunning (an Error with code OUTPUT_FAILED) saying which recd holds the lock
    // and where its socket is; rec::Error(OUTPUT_FAILED) if the lock file cannot be used.
    explicit InstanceLock(const std::filesystem::path& socket);

private:
    // Kept open while locked: the lock is a POSIX record lock, and closing any descriptor of
    // the file would release it.
    UniqueFd fd_;
    boost::interprocess::file_lock lock_;
};

}  // namespace rec
