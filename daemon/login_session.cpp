#include "login_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "../common/error.hpp"
#include "autostart.hpp"

namespace rec {

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
    autostart(
        config, display_,
        [&server](ipc::Json body, std::string directory, std::function<void(std::string)> done) {
            server.start_own(std::move(body), std::move(directory), std::move(done));
        });
    // Last: a constructor that threw above leaves the server nothing pointing at the watch.
    server.at_shutdown([watch = watch_.get()] { watch->cancel(); });
}

}  // namespace rec
