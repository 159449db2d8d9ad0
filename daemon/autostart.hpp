#pragma once
// The autostart step of a login session's recd (--session), the same on Linux (LoginSession)
// and Windows (main_windows.cpp): asks the [autostart] policy about this process's user
// (autostart_policy.hpp), logs the decision and its reason, and when it says record, claims the
// user's directory (user_directory.hpp) and starts the recording named "login" of `display`.
#include <functional>
#include <string>

#include "../common/config.hpp"
#include "../common/ipc/protocol.hpp"

namespace rec {

// Starts a recording recd starts by itself: ControlCore::start_own.
// `done` gets the reply line on the io thread.
using StartOwn = std::function<void(ipc::Json body, std::string directory,
                                    std::function<void(std::string)> done)>;

// Main thread, after the server is built and before it runs (the recording starts once it
// does). `display` is what the recording records: the X display, or Windows' session desktop.
// Throws rec::Error(OUTPUT_FAILED) when the directory the recording goes to is not the user's
// (claim_user_directory).
void autostart(const Config& config, const std::string& display, const StartOwn& start_own);

}  // namespace rec
