#pragma once
// recd --session: what recd does for the graphical login it was started in, by the systemd user
// unit or the login hook (Xsession.d script, XDG autostart; service/linux/). It records the
// session's display from the start when the [autostart] policy selects its user (autostart.hpp),
// and ends recd, every recording finalized, when that display's X server goes away: a recd the
// login hook started is detached from the session and nothing else would end it. (The session's own
// SIGHUP or SIGTERM ends it as it ends any recd: server.hpp.)
#include <memory>
#include <string>

#include "../common/config.hpp"
#include "control_core.hpp"
#include "x11_display_watch.hpp"

namespace rec {

class LoginSession {
public:
    // Main thread, after the server is built and before it runs (`core`: its core); lives until
    // run() returns.
    // Throws rec::Error when the session cannot be served: no $DISPLAY or its X server not
    // reachable (DISPLAY_UNAVAILABLE), or the autostart directory is not the user's
    // (OUTPUT_FAILED, from claim_user_directory).
    LoginSession(ControlCore& core, const Config& config);

private:
    std::string display_;
    std::unique_ptr<X11DisplayWatch> watch_;
};

}  // namespace rec
