// The POSIX accounts (accounts.hpp): the user and group databases through NSS (/etc/passwd and
// /etc/group, or a directory service). A group is named as the group database names it.
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "accounts.hpp"

namespace rec {
namespace {

// A buffer large enough for any sane passwd or group entry (a group with thousands of members
// is retried larger).
constexpr size_t entry_buffer = 16384;

std::string group_name(gid_t gid) {
    std::vector<char> buffer(entry_buffer);
    group entry{};
    group* found = nullptr;
    while (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == ERANGE)
        buffer.resize(buffer.size() * 2);
    return found ? found->gr_name : "";
}

}  // namespace

Account this_account() {
    std::vector<char> buffer(entry_buffer);
    passwd entry{};
    passwd* found = nullptr;
    getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found);
    if (!found) return {"", {}, fmt::format("uid {} has no entry in the user database", getuid())};
    Account account{found->pw_name, {}, ""};
    // Primary and supplementary groups, as the group database has them (what a login sets).
    int count = 64;
    std::vector<gid_t> gids(count);
    while (getgrouplist(account.user.c_str(), found->pw_gid, gids.data(), &count) < 0)
        gids.resize(static_cast<size_t>(count));
    gids.resize(static_cast<size_t>(count));
    for (gid_t gid : gids)
        if (auto name = group_name(gid); !name.empty()) account.groups.push_back(name);
    return account;
}

bool group_exists(const std::string& name) {
    std::vector<char> buffer(entry_buffer);
    group entry{};
    group* found = nullptr;
    while (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE)
        buffer.resize(buffer.size() * 2);
    return found != nullptr;
}

}  // namespace rec
