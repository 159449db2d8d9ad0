#include "autostart_policy.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace rec {
namespace {

bool has(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

// The first of `groups` that `user_groups` holds, or "".
std::string first_common(const std::vector<std::string>& groups,
                         const std::vector<std::string>& user_groups) {
    for (const auto& g : groups)
        if (has(user_groups, g)) return g;
    return "";
}

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

bool group_exists(const std::string& name) {
    std::vector<char> buffer(entry_buffer);
    group entry{};
    group* found = nullptr;
    while (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE)
        buffer.resize(buffer.size() * 2);
    return found != nullptr;
}

}  // namespace

AutostartDecision decide_autostart(const AutostartConfig& policy, const std::string& user,
                                   const std::vector<std::string>& user_groups) {
    if (!policy.record) return {false, "autostart.record is false", {}};
    if (has(policy.exclude_users, user))
        return {false, fmt::format("user {} is in autostart.exclude_users", user), {}};
    if (auto g = first_common(policy.exclude_groups, user_groups); !g.empty())
        return {false,
                fmt::format("user {} is a member of {}, in autostart.exclude_groups", user, g),
                {}};
    if (has(policy.users, user))
        return {true, fmt::format("user {} is in autostart.users", user), {}};
    if (has(policy.users, "*"))
        return {true,
                fmt::format("autostart.users holds \"*\" (everyone); {} is not excluded", user),
                {}};
    if (auto g = first_common(policy.groups, user_groups); !g.empty())
        return {true, fmt::format("user {} is a member of {}, in autostart.groups", user, g), {}};
    return {false,
            fmt::format("user {} is neither in autostart.users nor a member of a group in "
                        "autostart.groups",
                        user),
            {}};
}

AutostartDecision decide_autostart(const AutostartConfig& policy) {
    std::vector<char> buffer(entry_buffer);
    passwd entry{};
    passwd* found = nullptr;
    getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found);
    if (!found)
        return {false, fmt::format("uid {} has no entry in the user database", getuid()), {}};
    const std::string user = found->pw_name;
    // Primary and supplementary groups, as the group database has them (what a login sets).
    int count = 64;
    std::vector<gid_t> gids(count);
    while (getgrouplist(user.c_str(), found->pw_gid, gids.data(), &count) < 0)
        gids.resize(static_cast<size_t>(count));
    gids.resize(static_cast<size_t>(count));
    std::vector<std::string> groups;
    for (gid_t gid : gids)
        if (auto name = group_name(gid); !name.empty()) groups.push_back(name);
    auto decision = decide_autostart(policy, user, groups);
    for (const auto* list : {&policy.groups, &policy.exclude_groups})
        for (const auto& g : *list)
            if (!group_exists(g))
                decision.warnings.push_back(
                    fmt::format("autostart names group {}, which this machine does not know", g));
    return decision;
}

}  // namespace rec
