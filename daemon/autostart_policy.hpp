#pragma once
// Whether the user recd runs as is recorded from the start of a login session: [autostart] of
// the administrator's config (common/config.hpp says the rule). Asked once by LoginSession on
// the main thread, before the server runs.
#include <string>
#include <vector>

#include "../common/config.hpp"

namespace rec {

struct AutostartDecision {
    bool record = false;
    std::string reason;                 // for the log: which key decided, and how
    std::vector<std::string> warnings;  // names in the policy this machine does not know
};

// The rule on plain names, for tests: `user` and the names of the groups it is a member of.
AutostartDecision decide_autostart(const AutostartConfig& policy, const std::string& user,
                                   const std::vector<std::string>& user_groups);

// For this process's user: its name and groups as the system gives them (accounts.hpp: NSS on
// Linux, the process token on Windows), with a warning for each group the policy names that the
// system does not know.
AutostartDecision decide_autostart(const AutostartConfig& policy);

}  // namespace rec
