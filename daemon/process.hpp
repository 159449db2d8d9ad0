#pragma once
// This process, others, and the machine they run on, as the pipeline asks about them (status's
// "pid", the open-files journal, {host} in file names). One definition per platform:
// process_posix.cpp, process_windows.cpp. Any thread.
#include <cstdint>
#include <string>

namespace rec {

// A pid on either system (pid_t, or a Windows DWORD process id).
using ProcessId = int64_t;

ProcessId current_process_id();
// Whether a process of that id runs now (a process that exists but may not be asked counts as
// running). Ids are reused on both systems: a false yes is possible, a false no is not.
bool process_running(ProcessId id);
// This machine's name as the system gives it ("" if it cannot be told).
std::string machine_name();

}  // namespace rec
