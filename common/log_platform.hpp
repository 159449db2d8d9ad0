#pragma once
// What logging asks of the operating system (log.cpp), one file per platform: log_posix.cpp,
// log_windows.cpp. session_log_path() is declared in log.hpp.
#include <string>

namespace rec {

// Gives the calling thread `name` where the OS shows thread names (top, gdb, a debugger).
void name_os_thread(const std::string& name);
// Whether standard error is a terminal (colours) rather than a file, pipe or the journal.
bool stderr_is_terminal();

}  // namespace rec
