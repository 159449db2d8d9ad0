#pragma once
// This process's account as the [autostart] policy names it (daemon/autostart_policy.cpp): the
// user's name, the names of its groups, and whether a group name means anything here. One
// definition per system: accounts_posix.cpp (the user and group databases, NSS) and
// accounts_windows.cpp (the process token, the local security authority). Any thread; asked once
// by decide_autostart on the main thread.
#include <string>
#include <vector>

namespace rec {

struct Account {
    std::string user;                 // "" when the system has no name for this process's user
    std::vector<std::string> groups;  // every name a policy may use for a group of the user's
    std::string problem;              // why `user` is "", for the log
};

Account this_account();

// Whether `name` is a group this machine knows (a policy naming one that is not is a typo worth
// a warning).
bool group_exists(const std::string& name);

}  // namespace rec
