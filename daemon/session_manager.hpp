#pragma once
// Owns the sessions by id. Lives on the io thread only: no locks. Sessions themselves are
// shared with the worker pool while they start and stop (shared_ptr keeps them alive there).
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events.hpp"
#include "open_files.hpp"
#include "session.hpp"

namespace rec {

class SessionManager {
public:
    SessionManager(const Config& config, Events& events, OpenFiles& open_files)
        : config_(config), events_(events), open_files_(open_files) {}

    // A new session in state `starting`, registered under the next id ("s1", "s2", ...).
    std::shared_ptr<Session> create(SessionOptions options);
    // Drops a session whose start failed.
    void remove(const std::string& id);
    std::shared_ptr<Session> find(const std::string& id) const;
    // Sessions not yet stopped or failed.
    std::vector<std::shared_ptr<Session>> active() const;
    std::vector<std::shared_ptr<Session>> all() const;

private:
    void forget_old_finished();

    const Config& config_;
    Events& events_;
    OpenFiles& open_files_;
    uint64_t next_id_ = 1;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
    std::deque<std::string> order_;  // ids, oldest first
};

}  // namespace rec
