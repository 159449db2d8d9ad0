#include "session_table.hpp"

#include <algorithm>
#include <string>

namespace rec {

namespace {

// Windows runs services (and nothing interactive) in session 0: nobody to record there.
constexpr SessionId services_session = 0;

}  // namespace

std::vector<Action> SessionTable::on_logon(SessionId session, SteadyTime) {
    if (session == services_session || service_stopping_) return {};
    Entry& entry = sessions_[session];  // a new one is `exited`: launched below
    entry.logged_on = true;
    entry.crashes.clear();
    switch (entry.state) {
        case SessionState::launching:
        case SessionState::running:
            return {};
        case SessionState::stopping:
            entry.relaunch_after_exit = true;
            return {};
        case SessionState::exited:
            return launch(session, entry);
    }
    return {};
}

std::vector<Action> SessionTable::on_logoff(SessionId session, SteadyTime now) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return {};
    Entry& entry = it->second;
    entry.logged_on = false;
    entry.relaunch_after_exit = false;
    switch (entry.state) {
        case SessionState::launching:  // on_launched asks it to finish
        case SessionState::stopping:
            return {};
        case SessionState::running:
            return ask_to_finish(session, entry, now);
        case SessionState::exited:
            sessions_.erase(it);
            return {};
    }
    return {};
}

std::vector<Action> SessionTable::on_launched(SessionId session, SteadyTime now) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || it->second.state != SessionState::launching) return {};
    Entry& entry = it->second;
    entry.state = SessionState::running;
    // Logged off (or the service told to stop) while it was being launched.
    if (!entry.logged_on || service_stopping_) return ask_to_finish(session, entry, now);
    return {};
}

std::vector<Action> SessionTable::on_launch_failed(SessionId session, LaunchFailure why,
                                                   SteadyTime now) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || it->second.state != SessionState::launching) return {};
    if (why == LaunchFailure::no_user || !it->second.logged_on || service_stopping_) {
        sessions_.erase(it);
        return {};
    }
    return after_crash(session, it->second, now);
}

std::vector<Action> SessionTable::on_process_exit(SessionId session, std::uint32_t exit_code,
                                                  SteadyTime now) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return {};
    Entry& entry = it->second;
    if (entry.state == SessionState::exited) return {};
    if (entry.state == SessionState::stopping || !entry.logged_on || service_stopping_) {
        if (entry.relaunch_after_exit && entry.logged_on && !service_stopping_)
            return launch(session, entry);
        sessions_.erase(it);
        return {};
    }
    entry.state = SessionState::exited;
    entry.due.reset();
    if (exit_code == exit_clean) return {};
    if (exit_code == exit_bad_config)
        return {{ActionKind::give_up, session,
                 "recd cannot use its configuration (exit code 2): not relaunched until the "
                 "next logon"}};
    return after_crash(session, entry, now);
}

std::vector<Action> SessionTable::on_service_stop(SteadyTime now) {
    service_stopping_ = true;
    std::vector<Action> actions;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        Entry& entry = it->second;
        entry.relaunch_after_exit = false;
        if (entry.state == SessionState::exited) {
            it = sessions_.erase(it);
            continue;
        }
        if (entry.state == SessionState::running) {
            auto ask = ask_to_finish(it->first, entry, now);
            actions.insert(actions.end(), ask.begin(), ask.end());
        }
        ++it;
    }
    return actions;
}

std::vector<Action> SessionTable::on_time(SteadyTime now) {
    std::vector<Action> actions;
    for (auto& [session, entry] : sessions_) {
        if (!entry.due || *entry.due > now) continue;
        entry.due.reset();
        if (entry.state == SessionState::stopping) {
            entry.terminate_sent = true;
            actions.push_back({ActionKind::terminate, session});
        } else if (entry.state == SessionState::exited && entry.logged_on && !service_stopping_) {
            auto more = launch(session, entry);
            actions.insert(actions.end(), more.begin(), more.end());
        }
    }
    return actions;
}

std::optional<SteadyTime> SessionTable::next_deadline() const {
    std::optional<SteadyTime> next;
    for (const auto& [session, entry] : sessions_)
        if (entry.due && (!next || *entry.due < *next)) next = entry.due;
    return next;
}

std::optional<SessionState> SessionTable::state(SessionId session) const {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return std::nullopt;
    return it->second.state;
}

bool SessionTable::no_process() const {
    return std::all_of(sessions_.begin(), sessions_.end(),
                       [](const auto& s) { return s.second.state == SessionState::exited; });
}

std::vector<Action> SessionTable::launch(SessionId session, Entry& entry) {
    entry.state = SessionState::launching;
    entry.relaunch_after_exit = false;
    entry.terminate_sent = false;
    entry.due.reset();
    return {{ActionKind::launch, session}};
}

std::vector<Action> SessionTable::ask_to_finish(SessionId session, Entry& entry, SteadyTime now) {
    entry.state = SessionState::stopping;
    entry.due = now + policy_.finish_timeout;
    return {{ActionKind::ask_to_finish, session}};
}

// recd crashed (or could not be launched) while its session is logged on: relaunch later.
std::vector<Action> SessionTable::after_crash(SessionId session, Entry& entry, SteadyTime now) {
    entry.state = SessionState::exited;
    entry.due.reset();
    while (!entry.crashes.empty() && now - entry.crashes.front() >= policy_.crash_window)
        entry.crashes.pop_front();
    entry.crashes.push_back(now);
    if (entry.crashes.size() > policy_.max_relaunches)
        return {{ActionKind::give_up, session,
                 "recd failed " + std::to_string(entry.crashes.size()) + " times within " +
                     std::to_string(policy_.crash_window.count()) +
                     " minutes: not relaunched until the next logon"}};
    entry.due = now + policy_.first_relaunch_delay * (1 << (entry.crashes.size() - 1));
    return {};
}

}  // namespace rec
