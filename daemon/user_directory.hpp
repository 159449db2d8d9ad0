#pragma once
// A per-user output directory inside a place every user shares (output.directory or
// autostart.directory holding {user}, e.g. /var/lib/recd/{user}, which the package makes mode
// 1733: anyone may create an entry, nobody may list or remove another's). recd creates its
// user's own directory there, 0700, or checks that the one it finds is that user's and private:
// another user who made it first could otherwise delete or swap the recordings (not read them:
// files are 0600). Called by main (and the autostart step, autostart.cpp) on the main thread
// before the server runs. One definition per system: user_directory.cpp (POSIX: mode 0700,
// the owner's uid) and user_directory_windows.cpp (an access list for the user, SYSTEM and
// Administrators; the owner's SID).
#include <filesystem>
#include <string>

namespace rec {

// `directory` with {user} replaced by `user`. The first path component that holds {user} is
// the user's own directory: created 0700 if missing (its parent must exist), else required to
// be a real directory (not a symbolic link) owned by this process's uid and writable by no one
// else; what lies below it is created as needed. A directory without {user} is returned as it
// is. Throws rec::Error(OUTPUT_FAILED) saying which directory is wrong, why, and what fixes it;
// `key` names the setting in the message.
std::filesystem::path claim_user_directory(const std::string& directory, const std::string& user,
                                           const std::string& key);

}  // namespace rec
