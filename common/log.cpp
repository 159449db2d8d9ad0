#include "log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "log_platform.hpp"

namespace rec {
namespace {

thread_local std::string thread_name = "?";  // a thread that did not name itself

// A session log is rotated at 5 MiB and three old ones kept: at info level recd writes a few
// lines per recording, so that is months of logins, and at most 20 MiB of a user's home.
constexpr size_t rotate_bytes = 5 * 1024 * 1024;
constexpr size_t rotated_files = 3;

// Adds %N to spdlog's pattern: the name given with set_thread_name().
class ThreadNameFlag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        dest.append(thread_name.data(), thread_name.data() + thread_name.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<ThreadNameFlag>();
    }
};

// The syslog priority (0..7) journald gives a line of this spdlog level.
int journal_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug:
            return 7;  // LOG_DEBUG
        case spdlog::level::info:
            return 6;  // LOG_INFO
        case spdlog::level::warn:
            return 4;  // LOG_WARNING
        case spdlog::level::err:
            return 3;  // LOG_ERR
        case spdlog::level::critical:
            return 2;  // LOG_CRIT
        default:
            return 6;
    }
}

// Adds %J: the line's priority as journald reads it at the start of a line ("<4>").
class JournalPriorityFlag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        fmt::format_to(std::back_inserter(dest), "<{}>", journal_priority(msg.level));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JournalPriorityFlag>();
    }
};

std::unique_ptr<spdlog::formatter> formatter(const std::string& pattern) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<ThreadNameFlag>('N').add_flag<JournalPriorityFlag>('J').set_pattern(pattern);
    return f;
}

constexpr const char* file_pattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%N] %v";

}  // namespace

void set_thread_name(const std::string& name) {
    thread_name = name;
    name_os_thread(name);
}

void setup_logging(const std::string& level, const LogOutput& output) {
    std::vector<spdlog::sink_ptr> sinks;
    if (output.to_stderr) {
        // Colours only on a terminal: the journal and files get plain text.
        auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
            stderr_is_terminal() ? spdlog::color_mode::automatic : spdlog::color_mode::never);
        err->set_formatter(formatter(output.journal ? "%J%l [%N] %v" : file_pattern));
        sinks.push_back(err);
    }
    if (!output.file.empty())
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(output.file));
    if (!output.rotating.empty())
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
            output.rotating.string(), rotate_bytes, rotated_files));
    for (size_t i = output.to_stderr ? 1 : 0; i < sinks.size(); ++i)
        sinks[i]->set_formatter(formatter(file_pattern));
    auto logger = std::make_shared<spdlog::logger>("recd", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::from_str(level));
    // A log file is read while recd runs (tail -f, a support request): each line of info and
    // above is written at once. They are a few per recording; trace and debug lines, which can
    // be many per second, wait for the next one.
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

}  // namespace rec
