#include "autostart_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "accounts.hpp"

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
    const auto account = this_account();
    if (account.user.empty()) return {false, account.problem, {}};
    auto decision = decide_autostart(policy, account.user, account.groups);
    for (const auto* list : {&policy.groups, &policy.exclude_groups})
        for (const auto& g : *list)
            if (!group_exists(g))
                decision.warnings.push_back(
                    fmt::format("autostart names group {}, which this machine does not know", g));
    return decision;
}

}  // namespace rec
