// The [autostart] policy on Windows, run for real (under Wine in CI): this process's user and
// token groups as the policy names them (daemon/accounts_windows.cpp), groups known to the local
// security authority, the rule on Windows names, and the per-user directory made with its own
// access list and owner (daemon/user_directory_windows.cpp).
#include "common/win32.hpp"
// After windows.h (win32.hpp), which they need.
#include <aclapi.h>
#include <fmt/format.h>
#include <sddl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "daemon/accounts.hpp"
#include "daemon/autostart_policy.hpp"
#include "daemon/user_directory.hpp"

namespace fs = std::filesystem;

namespace {

using Names = std::vector<std::string>;

bool has(const Names& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// A group named both ways: "BUILTIN\Administrators" and "Administrators"; "" if none is.
std::string group_with_domain(const Names& groups) {
    for (const auto& g : groups)
        if (auto at = g.find('\\'); at != std::string::npos && has(groups, g.substr(at + 1)))
            return g;
    return "";
}

rec::AutostartConfig policy(Names users, Names groups = {}, Names exclude_groups = {}) {
    rec::AutostartConfig p;
    p.record = true;
    p.users = std::move(users);
    p.groups = std::move(groups);
    p.exclude_groups = std::move(exclude_groups);
    return p;
}

struct SharedPlace {
    fs::path root = fs::temp_directory_path() /
                    ("recd-windows-userdir-" + std::to_string(GetCurrentProcessId()));
    SharedPlace() {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    ~SharedPlace() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    std::string tmpl() const { return rec::to_utf8((root / "{user}").native()); }
};

std::string claim_error(const std::string& directory) {
    try {
        rec::claim_user_directory(directory, "alice", "autostart.directory");
    } catch (const rec::Error& e) {
        CHECK(e.code() == rec::ErrorCode::output_failed);
        return e.what();
    }
    FAIL("no error for " << directory);
    return "";
}

// The owner of `path` as a string SID, and whether its access list is protected.
std::pair<std::wstring, bool> owner_and_protection(const fs::path& path) {
    PSID owner = nullptr;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR raw = nullptr;
    REQUIRE(GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT,
                                  OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                                  nullptr, &dacl, nullptr, &raw) == ERROR_SUCCESS);
    const rec::UniqueLocal<void> sd(raw);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    GetSecurityDescriptorControl(raw, &control, &revision);
    wchar_t* text = nullptr;
    REQUIRE(ConvertSidToStringSidW(owner, &text));
    const rec::UniqueLocal<wchar_t> sid(text);
    return {sid.get(), (control & SE_DACL_PROTECTED) != 0};
}

}  // namespace

TEST_CASE("autostart on Windows: this user's token groups, each named both ways", "[autostart]") {
    const auto account = rec::this_account();
    INFO(account.problem);
    REQUIRE_FALSE(account.user.empty());
    REQUIRE_FALSE(account.groups.empty());
    const auto both = group_with_domain(account.groups);
    INFO("groups: " << fmt::format("{}", fmt::join(account.groups, ", ")));
    CHECK_FALSE(both.empty());
}

TEST_CASE("autostart on Windows: groups the system knows, by either name", "[autostart]") {
    CHECK(rec::group_exists("Administrators"));
    CHECK(rec::group_exists("BUILTIN\\Administrators"));
    CHECK(rec::group_exists("Users"));
    CHECK_FALSE(rec::group_exists("no-such-group-recd-" + std::to_string(GetCurrentProcessId())));
    CHECK_FALSE(rec::group_exists("NOSUCHDOMAIN\\no-such-group-recd"));
}

TEST_CASE("autostart on Windows: the rule on Windows names", "[autostart]") {
    const Names rdp{"alice", "Remote Desktop Users", "BUILTIN\\Remote Desktop Users"};
    CHECK(rec::decide_autostart(policy({}, {"Remote Desktop Users"}), "alice", rdp).record);
    const auto d =
        rec::decide_autostart(policy({}, {"BUILTIN\\Remote Desktop Users"}), "alice", rdp);
    CHECK(d.record);
    CHECK(d.reason.find("BUILTIN\\Remote Desktop Users, in autostart.groups") != std::string::npos);
    // Exclusions win, in either form.
    CHECK_FALSE(
        rec::decide_autostart(policy({"*"}, {}, {"BUILTIN\\Remote Desktop Users"}), "alice", rdp)
            .record);
    CHECK_FALSE(rec::decide_autostart(policy({}, {"CONTOSO\\Recorded"}), "alice", rdp).record);
}

TEST_CASE("autostart on Windows: this process's user and groups decide", "[autostart]") {
    const auto account = rec::this_account();
    REQUIRE_FALSE(account.user.empty());
    CHECK(rec::decide_autostart(policy({account.user})).record);
    CHECK(rec::decide_autostart(policy({}, {account.groups.front()})).record);
    if (const auto both = group_with_domain(account.groups); !both.empty())
        CHECK_FALSE(rec::decide_autostart(policy({"*"}, {}, {both})).record);
    const auto unknown = rec::decide_autostart(policy({}, {"no-such-group-recd-test"}));
    CHECK_FALSE(unknown.record);
    REQUIRE(unknown.warnings.size() == 1);
    CHECK(unknown.warnings[0].find("no-such-group-recd-test") != std::string::npos);
}

TEST_CASE("user directory on Windows: made private and owned by the user, then used as it is",
          "[autostart]") {
    SharedPlace place;
    const auto dir = rec::claim_user_directory(place.tmpl(), "alice", "autostart.directory");
    CHECK(dir == place.root / "alice");
    REQUIRE(fs::is_directory(dir));
    const auto [owner, protected_list] = owner_and_protection(dir);
    CHECK(owner == rec::own_user_sid());
    // Wine keeps the owner but not the list's protection flag: checked where it is kept.
    if (!protected_list) WARN("the access list's protection did not stick (Wine): not checked");
    CHECK(rec::claim_user_directory(place.tmpl(), "alice", "autostart.directory") == dir);
    const auto below = rec::claim_user_directory(
        rec::to_utf8((place.root / "{user}" / "screen").native()), "alice", "autostart.directory");
    CHECK(below == place.root / "alice" / "screen");
    CHECK(fs::is_directory(below));
    CHECK(rec::claim_user_directory("C:\\nonexistent\\recd", "alice", "output.directory") ==
          fs::path(L"C:\\nonexistent\\recd"));
}

TEST_CASE("user directory on Windows: what is wrong is said with the key", "[autostart]") {
    SharedPlace place;
    auto message = claim_error(rec::to_utf8((place.root / "missing" / "{user}").native()));
    CHECK(message.find("does not exist") != std::string::npos);
    CHECK(message.find("autostart.directory") != std::string::npos);
    { std::ofstream(place.root / "alice") << "x"; }
    CHECK(claim_error(place.tmpl()).find("not a directory") != std::string::npos);
    fs::remove(place.root / "alice");
    // Someone else's: made with the Administrators as owner (allowed to this user when it is an
    // administrator, as Wine's default user is), it must be refused.
    PSECURITY_DESCRIPTOR raw = nullptr;
    REQUIRE(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"O:BAD:(A;;FA;;;WD)",
                                                                 SDDL_REVISION_1, &raw, nullptr));
    const rec::UniqueLocal<void> sd(raw);
    SECURITY_ATTRIBUTES sa{sizeof sa, sd.get(), FALSE};
    const auto other = place.root / "alice";
    if (CreateDirectoryW(other.c_str(), &sa) &&
        owner_and_protection(other).first == L"S-1-5-32-544") {
        message = claim_error(place.tmpl());
        CHECK(message.find("belongs to") != std::string::npos);
        CHECK(message.find("Administrators") != std::string::npos);
        CHECK(message.find("not to alice") != std::string::npos);
        CHECK(message.find("autostart.directory") != std::string::npos);
    } else {
        WARN("this system did not make a directory owned by Administrators: not checked");
    }
}
