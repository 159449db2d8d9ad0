// Linux: XDG base directories and the passwd database.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <vector>

#include "user_dirs.hpp"

namespace rec {

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::filesystem::path home() { return env("HOME").empty() ? "/tmp" : env("HOME"); }

std::filesystem::path config_home() {
    auto xdg = env("XDG_CONFIG_HOME");
    return xdg.empty() ? home() / ".config" : std::filesystem::path(xdg);
}

}  // namespace

std::filesystem::path system_config_path() { return "/etc/recd/recd.toml"; }

std::filesystem::path user_config_path() { return config_home() / "recd" / "recd.toml"; }

// XDG_VIDEOS_DIR from the environment or from user-dirs.dirs (XDG_VIDEOS_DIR="$HOME/Videos").
std::filesystem::path videos_dir() {
    if (auto dir = env("XDG_VIDEOS_DIR"); !dir.empty()) return dir;
    std::ifstream dirs(config_home() / "user-dirs.dirs");
    static const std::regex line(R"(^\s*XDG_VIDEOS_DIR\s*=\s*\"(\$HOME)?([^\"]*)\")");
    for (std::string text; std::getline(dirs, text);) {
        std::smatch m;
        if (std::regex_search(text, m, line))
            return m[1].matched ? home().string() + m[2].str() : m[2].str();
    }
    return home() / "Videos";
}

std::filesystem::path state_dir() {
    if (auto state = env("XDG_STATE_HOME"); !state.empty()) return state;
    if (auto home = env("HOME"); !home.empty())
        return std::filesystem::path(home) / ".local" / "state";
    return {};
}

std::string account_name() {
    // getpwuid_r: session threads (worker pool) ask too. 16 KiB holds any sane passwd entry.
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found);
    return found ? found->pw_name : "";
}

std::string account_id() { return std::to_string(getuid()); }

}  // namespace rec
