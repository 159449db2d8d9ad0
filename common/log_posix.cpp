// Logging's part of the OS on Linux: pthread names, isatty, the XDG state directory.
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "log.hpp"
#include "log_platform.hpp"

namespace rec {

// Linux keeps 15 characters of a thread's name.
void name_os_thread(const std::string& name) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO); }

std::filesystem::path session_log_path() {
    namespace fs = std::filesystem;
    const char* state = std::getenv("XDG_STATE_HOME");
    const char* home = std::getenv("HOME");
    if (!(state && *state) && !(home && *home))
        throw std::runtime_error("neither XDG_STATE_HOME nor HOME is set");
    fs::path dir = state && *state ? fs::path(state) : fs::path(home) / ".local" / "state";
    dir /= "recd";
    fs::create_directories(dir);
    // What a session did is the user's business: the XDG base directory spec's 0700.
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
    return dir / "recd.log";
}

}  // namespace rec
