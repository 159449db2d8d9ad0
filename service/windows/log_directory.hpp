#pragma once
// %ProgramData%\recd\logs: recd-service's own log (service.log) and, per session, the standard
// output and error of its recd (session-<id>.log). recd-service runs as LocalSystem and writes
// there, so users must not be able to redirect it: see log_directory.cpp.
#include <cstdint>
#include <filesystem>

namespace rec {

// Creates the directory (and %ProgramData%\recd) readable and writable by SYSTEM and
// Administrators only, or takes over one that exists if it is owned by either and is a plain
// directory. Called by `recd-service install` and at service start, on the calling thread.
// Throws std::runtime_error saying why the directory cannot be used.
std::filesystem::path prepare_log_directory();

}  // namespace rec
