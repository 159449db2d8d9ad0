#include "log.hpp"

#include <pthread.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <memory>

namespace rec {
namespace {

thread_local std::string thread_name = "?";  // a thread that did not name itself

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

}  // namespace

void set_thread_name(const std::string& name) {
    thread_name = name;
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

void setup_logging(const std::string& level, const std::string& file) {
    std::vector<spdlog::sink_ptr> sinks;
    // Colours only on a terminal: under systemd stderr goes to the journal as plain text.
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        isatty(STDERR_FILENO) ? spdlog::color_mode::automatic : spdlog::color_mode::never);
    sinks.push_back(err);
    if (!file.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    auto logger = std::make_shared<spdlog::logger>("recd", sinks.begin(), sinks.end());
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<ThreadNameFlag>('N').set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%N] %v");
    logger->set_formatter(std::move(formatter));
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

}  // namespace rec
