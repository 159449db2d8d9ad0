// Who is recorded at login (daemon/autostart_policy.*): the rule of [autostart] on plain names,
// and the same rule for the user the tests run as, read from the system's user database.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/config.hpp"
#include "daemon/autostart_policy.hpp"

namespace {

using Names = std::vector<std::string>;

rec::AutostartConfig policy(Names users, Names groups = {}, Names exclude_users = {},
                            Names exclude_groups = {}) {
    rec::AutostartConfig p;
    p.record = true;
    p.users = std::move(users);
    p.groups = std::move(groups);
    p.exclude_users = std::move(exclude_users);
    p.exclude_groups = std::move(exclude_groups);
    return p;
}

bool records(const rec::AutostartConfig& p, const std::string& user, const Names& groups = {}) {
    return rec::decide_autostart(p, user, groups).record;
}

}  // namespace

TEST_CASE("autostart: nobody is recorded unless autostart.record is true") {
    rec::AutostartConfig p;  // the defaults: users = ["*"], record = false
    const auto d = rec::decide_autostart(p, "alice", {"alice"});
    CHECK_FALSE(d.record);
    CHECK(d.reason.find("autostart.record is false") != std::string::npos);
    p.record = true;
    CHECK(records(p, "alice"));
}

TEST_CASE("autostart: users and groups let in, exclude_users and exclude_groups keep out") {
    CHECK(records(policy({"*"}), "anyone"));
    CHECK(records(policy({"alice"}), "alice"));
    CHECK_FALSE(records(policy({"alice"}), "bob"));
    CHECK(records(policy({}, {"recorded"}), "bob", {"bob", "recorded"}));
    CHECK_FALSE(records(policy({}, {"recorded"}), "bob", {"bob", "users"}));
    // Exclusions win over "*", a name and a group alike.
    CHECK_FALSE(records(policy({"*"}, {}, {"carol"}), "carol"));
    CHECK_FALSE(records(policy({"carol"}, {}, {"carol"}), "carol"));
    CHECK_FALSE(records(policy({"*"}, {}, {}, {"exempt"}), "dave", {"dave", "exempt"}));
    CHECK_FALSE(records(policy({}, {"recorded"}, {}, {"exempt"}), "dave", {"recorded", "exempt"}));
    CHECK(records(policy({"*"}, {}, {}, {"exempt"}), "erin", {"erin"}));
    // Nobody named: nobody recorded.
    CHECK_FALSE(records(policy({}), "alice", {"alice"}));
}

TEST_CASE("autostart: the reason names the key that decided") {
    CHECK(rec::decide_autostart(policy({"*"}, {}, {}, {"exempt"}), "dave", {"exempt"})
              .reason.find("exempt, in autostart.exclude_groups") != std::string::npos);
    CHECK(rec::decide_autostart(policy({"*"}, {}, {"carol"}), "carol", {})
              .reason.find("autostart.exclude_users") != std::string::npos);
    CHECK(rec::decide_autostart(policy({}, {"recorded"}), "bob", {"recorded"})
              .reason.find("recorded, in autostart.groups") != std::string::npos);
    CHECK(rec::decide_autostart(policy({"*"}), "x", {}).reason.find("\"*\"") != std::string::npos);
    CHECK(rec::decide_autostart(policy({"bob"}), "alice", {})
              .reason.find("neither in autostart.users") != std::string::npos);
}

TEST_CASE("autostart: this process's user and groups come from the user database") {
    // Every user is a member of its primary group, which /etc/group names (root: "root").
    const auto me = rec::login_name();
    auto everyone = policy({"*"});
    CHECK(rec::decide_autostart(everyone).record);
    auto by_name = policy({me});
    CHECK(rec::decide_autostart(by_name).record);
    auto excluded = policy({"*"}, {}, {me});
    CHECK_FALSE(rec::decide_autostart(excluded).record);
    auto unknown = policy({}, {"no-such-group-recd-test"});
    const auto d = rec::decide_autostart(unknown);
    CHECK_FALSE(d.record);
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0].find("no-such-group-recd-test") != std::string::npos);
    if (geteuid() == 0) {
        auto root_group = policy({}, {"root"});
        CHECK(rec::decide_autostart(root_group).record);
    }
}
