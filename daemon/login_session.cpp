#include "login_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "../common/error.hpp"
#include "../common/ipc/protocol.hpp"
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

LoginSession::LoginSession(Server& server, const Config& config) {
    const char* display = std::getenv("DISPLAY");
    if (!display || !*display)
        throw Error(ErrorCode::display_unavailable,
                    "recd --session needs DISPLAY: it records and follows the login session's X "
                    "display, and none is set");
    display_ = display;
    watch_ = std::make_unique<X11DisplayWatch>(
        server.io(), display_, [&server, display = display_](std::string why) {
            server.end(
                fmt::format("the X server of display {} went away ({}): the login "
                            "session is over",
                            display, why));
        });
    spdlog::info("serving the login session on display {}: recd exits when its X server does",
                 display_);
    autostart(server, config);
    // Last: a constructor that threw above leaves the server nothing pointing at the watch.
    server.at_shutdown([watch = watch_.get()] { watch->cancel(); });
}

void LoginSession::autostart(Server& server, const Config& config) {
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
    spdlog::info("autostart: recording {}'s session on {} into {} ({})", user, display_,
                 where.string(), decision.reason);
    server.start_own({{"display", display_}, {"name", recording_name}}, config.autostart.directory,
                     report_start);
}

}  // namespace rec
