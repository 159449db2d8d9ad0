#include "user_directory.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../common/config.hpp"
#include "../common/error.hpp"

namespace rec {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& message) {
    throw Error(ErrorCode::output_failed, message);
}

std::string owner_name(uid_t uid) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    return found ? fmt::format("uid {} ({})", uid, found->pw_name) : fmt::format("uid {}", uid);
}

// The user's own directory as it exists: ours, real, private. `key` names the setting.
void check_own(const fs::path& dir, const struct stat& st, const std::string& user,
               const std::string& key) {
    if (S_ISLNK(st.st_mode))
        fail(
            fmt::format("{} ({}) is a symbolic link: recd records only into a real directory of "
                        "{}'s; an administrator should remove it (recd then creates it)",
                        dir.string(), key, user));
    if (!S_ISDIR(st.st_mode))
        fail(
            fmt::format("{} ({}) is not a directory; an administrator should remove it (recd "
                        "then creates it)",
                        dir.string(), key));
    if (st.st_uid != getuid())
        fail(
            fmt::format("{} ({}) belongs to {}, not to {}: someone made it before {} first "
                        "recorded, and could delete what recd writes there. An administrator "
                        "should remove it (recd then creates it, 0700) or give it to {}",
                        dir.string(), key, owner_name(st.st_uid), user, user, user));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        fail(
            fmt::format("{} ({}) is writable by others (mode {:04o}): make it private, e.g. "
                        "chmod 0700 {}",
                        dir.string(), key, st.st_mode & 07777, dir.string()));
}

void create_own(const fs::path& dir, const std::string& user, const std::string& key) {
    // EEXIST: another process made it in between; the caller checks it as any found one.
    if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return;
    const int error = errno;
    const auto parent = dir.parent_path();
    if (error == ENOENT)
        fail(
            fmt::format("cannot create {} ({}): {} does not exist. The recd package makes "
                        "/var/lib/recd (mode 1733); make {} so (install -d -m 1733 {}), or "
                        "point {} elsewhere",
                        dir.string(), key, parent.string(), parent.string(), parent.string(), key));
    if (error == EACCES)
        fail(
            fmt::format("cannot create {} ({}): {} does not let {} create a directory in it. "
                        "Give it mode 1733 (every user makes their own directory, nobody lists "
                        "or removes another's) or make {} for {} as an administrator (owned by "
                        "{}, mode 0700)",
                        dir.string(), key, parent.string(), user, dir.string(), user, user));
    fail(fmt::format("cannot create {} ({}): {}", dir.string(), key, std::strerror(error)));
}

}  // namespace

fs::path claim_user_directory(const std::string& directory, const std::string& user,
                              const std::string& key) {
    const fs::path expanded = expand_user(directory, user);
    if (directory.find("{user}") == std::string::npos) return expanded;
    // The user's own directory: the template up to the first component that names the user.
    fs::path own;
    for (const auto& part : fs::path(directory)) {
        own /= expand_user(part.string(), user);
        if (part.string().find("{user}") != std::string::npos) break;
    }
    struct stat st {};
    if (lstat(own.c_str(), &st) != 0) {
        if (errno != ENOENT)
            fail(
                fmt::format("cannot look at {} ({}): {}", own.string(), key, std::strerror(errno)));
        create_own(own, user, key);
        if (lstat(own.c_str(), &st) != 0)
            fail(
                fmt::format("cannot look at {} ({}): {}", own.string(), key, std::strerror(errno)));
    }
    check_own(own, st, user, key);
    std::error_code ec;
    fs::create_directories(expanded, ec);
    if (ec) fail(fmt::format("cannot create {} ({}): {}", expanded.string(), key, ec.message()));
    return expanded;
}

}  // namespace rec
