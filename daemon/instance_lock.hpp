#pragma once
// One recd per socket: a Boost.Interprocess file_lock on "<socket>.lock". The kernel releases
// it when recd dies, however it dies, so a crash never leaves a stale lock (a named_mutex
// would). Taken by main before the server binds; held for the life of the process.
#include <boost/interprocess/sync/file_lock.hpp>
#include <filesystem>

#include "../common/unique_fd.hpp"

namespace rec {

class InstanceLock {
public:
    // Throws rec::Error(OUTPUT_FAILED) saying which recd holds the lock and where its socket is.
    explicit InstanceLock(const std::filesystem::path& socket);

private:
    // Kept open while locked: the lock is a POSIX record lock, and closing any descriptor of
    // the file would release it.
    UniqueFd fd_;
    boost::interprocess::file_lock lock_;
};

}  // namespace rec
