#pragma once
// Logging set-up for recd. Every thread calls set_thread_name() first thing, so the log
// pattern (and top/gdb) show which pipeline stage wrote a line.
#include <spdlog/spdlog.h>

#include <string>

namespace rec {

// Called once from main before any other thread exists. `level` is a spdlog level name
// (validated by the config); `file` empty means stderr only.
void setup_logging(const std::string& level, const std::string& file);

// Names the calling thread for the log pattern and the OS (at most 15 characters).
void set_thread_name(const std::string& name);

}  // namespace rec
