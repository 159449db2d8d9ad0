#include "login_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <functional>

#include "../common/error.hpp"
#include "autostart.hpp"

namespace rec {

LoginSession::LoginSession(ControlCore& core, const Config& config) {
    const char* display = std::getenv("DISPLAY");
    if (!display || !*display)
        throw Error(ErrorCode::display_unavailable,
                    "recd --session needs DISPLAY: it records and follows the login session's X "
                    "display, and none is set");
    display_ = display;
    watch_ = std::make_unique<X11DisplayWatch>(
        core.io(), display_, [&core, display = display_](std::string why) {
            core.end(
                fmt::format("the X server of display {} went away ({}): the login "
                            "session is over",
                            display, why));
        });
    spdlog::info("serving the login session on display {}: recd exits when its X server does",
                 display_);
    autostart(config, display_, std::bind_front(&ControlCore::start_own, &core));
    // Last: a constructor that threw above leaves the core nothing pointing at the watch.
    core.at_shutdown([watch = watch_.get()] { watch->cancel(); });
}

}  // namespace rec
