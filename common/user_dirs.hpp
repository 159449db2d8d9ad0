#pragma once
// Where this user's settings and recordings go, by the platform's conventions: XDG and the
// passwd database on Linux (user_dirs_xdg.cpp), known folders on Windows
// (user_dirs_windows.cpp). Called by config.cpp, on any thread.
#include <filesystem>
#include <string>

namespace rec {

// The administrator's file (its [autostart] is the login policy): /etc/recd/recd.toml, or
// %ProgramData%\recd\recd.toml.
std::filesystem::path system_config_path();
// The user's own file: $XDG_CONFIG_HOME/recd/recd.toml (~/.config/...), or
// %APPDATA%\recd\recd.toml.
std::filesystem::path user_config_path();
// The user's videos folder: XDG_VIDEOS_DIR (~/Videos), or the Videos known folder.
std::filesystem::path videos_dir();
// Where this user's programs keep state that outlives a reboot (recd's open-files journal):
// $XDG_STATE_HOME, else ~/.local/state; or the Local AppData known folder. "" if none is known.
std::filesystem::path state_dir();
// The account's name ("" if it cannot be found), and what stands for it then (the uid).
std::string account_name();
std::string account_id();

}  // namespace rec
