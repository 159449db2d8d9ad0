// Windows: known folders and the account's name.
#include <windows.h>
// After windows.h, which it needs.
#include <knownfolders.h>

#include "ipc/named_pipe.hpp"
#include "user_dirs.hpp"
#include "win32.hpp"

namespace rec {

std::filesystem::path system_config_path() {
    return known_folder(FOLDERID_ProgramData) / "recd" / "recd.toml";
}

std::filesystem::path user_config_path() {
    return known_folder(FOLDERID_RoamingAppData) / "recd" / "recd.toml";
}

std::filesystem::path videos_dir() {
    auto videos = known_folder(FOLDERID_Videos);
    return videos.empty() ? known_folder(FOLDERID_Profile) / "Videos" : videos;
}

std::filesystem::path state_dir() { return known_folder(FOLDERID_LocalAppData); }

std::string account_name() {
    wchar_t name[257];  // UNLEN + 1
    DWORD size = sizeof name / sizeof name[0];
    return GetUserNameW(name, &size) ? to_utf8(name) : "";
}

// No uid on Windows: the session stands for the account (one user per session).
std::string account_id() { return "session-" + std::to_string(ipc::current_session()); }

}  // namespace rec
