#pragma once
// Logging set-up for recd. Every thread calls set_thread_name() first thing, so the log
// pattern (and top/gdb) show which pipeline stage wrote a line.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

namespace rec {

// Where the log goes; main decides (daemon/main.cpp).
struct LogOutput {
    bool to_stderr = true;
    // Standard error is the systemd journal (stderr_is_journal()): each line carries its
    // priority as "<N>" and no time stamp, which journald adds itself.
    bool journal = false;
    std::string file;                // also append to this file (log.file, --log-file)
    std::filesystem::path rotating;  // also this file, rotated (a login session's own log)
};

// Called from main before any other thread exists, and again to widen the output once recd
// holds its instance lock (only then may it write, and rotate, the session log, which the
// recd holding the lock owns). `level` is a spdlog level name (validated by the config).
// Throws spdlog::spdlog_ex if a file cannot be opened.
void setup_logging(const std::string& level, const LogOutput& output);

// The log of a recd that runs for a login session outside systemd:
// $XDG_STATE_HOME/recd/recd.log, else ~/.local/state/recd/recd.log. Its directory is created
// (0700) here; throws std::exception saying why if it cannot be (or neither variable is set).
std::filesystem::path session_log_path();

// Names the calling thread for the log pattern and the OS (at most 15 characters).
void set_thread_name(const std::string& name);

}  // namespace rec
