#include "autostart.hpp"

#include <spdlog/spdlog.h>

#include "autostart_policy.hpp"
#include "user_directory.hpp"

namespace rec {
namespace {

// The login recording's name: the file template's {name} (by default
// {date}_{time}_login.mkv).
constexpr const char* recording_name = "login";

// io thread: the reply to the autostart's own start request, said in the log.
void report_start(const std::string& line) {
    const auto reply = ipc::Json::parse(line, nullptr, false);
    if (!reply.is_discarded() && reply.value("ok", false)) {
        const auto& session = reply["session"];
        spdlog::info("autostart: recording {} into {}", session.value("id", "?"),
                     session.value("file", "?"));
        return;
    }
    const auto error = reply.is_discarded() ? ipc::Json() : reply.value("error", ipc::Json());
    spdlog::error("autostart: the login recording did not start: {}: {}",
                  error.is_object() ? error.value("code", "?") : "?",
                  error.is_object() ? error.value("message", line) : line);
}

}  // namespace

void autostart(const Config& config, const std::string& display, const StartOwn& start_own) {
    const auto user = login_name();
    const auto decision = decide_autostart(config.autostart);
    for (const auto& warning : decision.warnings) spdlog::warn("{}", warning);
    if (!decision.record) {
        spdlog::info("autostart: not recording {}'s session: {}", user, decision.reason);
        return;
    }
    // A per-user place in a shared directory is claimed before anything is written there.
    const bool own = !config.autostart.directory.empty();
    const auto& directory = own ? config.autostart.directory : config.output.directory;
    const auto where = directory.empty()
                           ? output_directory(config.output)
                           : claim_user_directory(directory, user,
                                                  own ? "autostart.directory" : "output.directory");
    const auto where_text = where.u8string();  // UTF-8 on every system
    spdlog::info("autostart: recording {}'s session on {} into {} ({})", user, display,
                 std::string(where_text.begin(), where_text.end()), decision.reason);
    start_own({{"display", display}, {"name", recording_name}}, config.autostart.directory,
              report_start);
}

}  // namespace rec
