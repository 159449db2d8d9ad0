// The Windows accounts (accounts.hpp): the user and groups of this process's token, named by the
// local security authority. A group has two names a policy may use: its own ("Remote Desktop
// Users") and the one with its domain ("BUILTIN\Remote Desktop Users", "CONTOSO\Recorded");
// both are given. The user is its account name alone ("alice"), as %USERNAME% says it.
#include <algorithm>
#include <vector>

#include "../common/win32.hpp"
#include "accounts.hpp"

namespace rec {
namespace {

// A group counts when the token uses it to grant access: enabled or mandatory, and not one that
// only denies (what UAC's filtered token makes of Administrators). The integrity level is no
// group a policy names.
bool grants(DWORD attributes) {
    if (attributes & (SE_GROUP_USE_FOR_DENY_ONLY | SE_GROUP_INTEGRITY)) return false;
    return attributes & (SE_GROUP_ENABLED | SE_GROUP_MANDATORY);
}

void add_names(std::vector<std::string>& names, const AccountName& group) {
    auto add = [&names](std::string name) {
        if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(std::move(name));
    };
    add(group.name);
    if (!group.domain.empty()) add(group.domain + "\\" + group.name);
}

}  // namespace

Account this_account() {
    const auto user = own_token_information(TokenUser);
    if (user.empty())
        return {"", {}, "cannot read this process's user from its token: " + last_error_text()};
    const auto name = account_name(reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid);
    if (!name) return {"", {}, "this process's user has no account name: " + last_error_text()};
    Account account{name->name, {}, ""};
    const auto groups = own_token_information(TokenGroups);
    if (groups.empty()) return account;
    const auto* list = reinterpret_cast<const TOKEN_GROUPS*>(groups.data());
    for (DWORD i = 0; i < list->GroupCount; ++i) {
        const auto& group = list->Groups[i];
        if (!grants(group.Attributes)) continue;
        if (auto group_name = account_name(group.Sid)) add_names(account.groups, *group_name);
    }
    return account;
}

// Either form, "Administrators" or "BUILTIN\Administrators": LookupAccountNameW takes both.
bool group_exists(const std::string& name) {
    const std::wstring wide = to_utf16(name);
    DWORD sid_size = 0, domain_size = 0;
    SID_NAME_USE use{};
    LookupAccountNameW(nullptr, wide.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
    if (sid_size == 0) return false;
    std::vector<char> sid(sid_size);
    std::wstring domain(domain_size + 1, L'\0');
    if (!LookupAccountNameW(nullptr, wide.c_str(), sid.data(), &sid_size, domain.data(),
                            &domain_size, &use))
        return false;
    return use == SidTypeGroup || use == SidTypeAlias || use == SidTypeWellKnownGroup;
}

}  // namespace rec
