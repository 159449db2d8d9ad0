#pragma once
// %ProgramData%\recd\logs: recd-service's own log (service.log) and, per session, the standard
// output and error of its recd (session-<id>.log). recd-service runs as LocalSystem and writes
// there, so users must not be able to redirect it: see log_directory.cpp. Its parent,
// %ProgramData%\recd, also holds the fleet configuration (recd.toml) that every user's recd
// reads, so users may read there but not add anything.
#include <filesystem>
#include <vector>

namespace rec {

struct LogDirectory {
    std::filesystem::path path;
    // Entries a user had made in the directory before it was locked down, now deleted. For the
    // caller to log: the service's own log lives in this directory, so it cannot be open yet.
    std::vector<std::filesystem::path> removed;
};

// Creates %ProgramData%\recd (full control for SYSTEM and Administrators, read for Users) and
// in it the logs directory (SYSTEM and Administrators only), or takes over either if it exists,
// is owned by SYSTEM or Administrators and is a plain directory; from an existing logs
// directory it deletes every entry the service did not make (not owned by SYSTEM or
// Administrators, or a hard link). Called by
// `recd-service install` and at service start, on the calling thread. Throws
// std::runtime_error saying why the directory cannot be used.
LogDirectory prepare_log_directory();

}  // namespace rec
