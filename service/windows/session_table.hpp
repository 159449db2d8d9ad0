#pragma once
// Which Windows session has a recd.exe, in what state, and what recd-service does next: the
// service's decisions as data. Pure bookkeeping (no Windows calls, the time passed in) so the
// unit tests drive it. The service's supervisor thread is its only user (supervisor.cpp): no
// locks. It calls on_* for every event, carries out the returned actions in order, reports
// their outcome (on_launched / on_launch_failed / on_process_exit), and calls on_time when
// next_deadline() is reached.
//
// One recd per session at a time: the table never asks for a launch while the session's
// previous recd is still stopping (it still holds the pipe and the instance lock), so a session
// id names at most one process.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rec {

using SessionId = std::uint32_t;
using SteadyTime = std::chrono::steady_clock::time_point;

enum class SessionState {
    launching,  // a launch action was returned; on_launched / on_launch_failed not yet called
    running,
    stopping,  // asked to finish (logoff or service stop); terminated at the deadline
    exited,    // no process: waiting to be relaunched, or not relaunched until the next logon
};

enum class ActionKind {
    launch,         // start recd.exe in the session; then on_launched or on_launch_failed
    ask_to_finish,  // `shutdown` over \\.\pipe\recd-<session>: recd finalizes and exits
    terminate,      // TerminateProcess: recd outlived its deadline after ask_to_finish
    give_up,        // recd is not relaunched until the next logon; `note` says why (for the log)
};

struct Action {
    ActionKind kind;
    SessionId session;
    std::string note = {};
    bool operator==(const Action&) const = default;
};

enum class LaunchFailure {
    no_user,  // nobody is logged on in that session (the logon screen, a session being set up)
    error,    // anything else (recd.exe missing, CreateProcessAsUser refused): like a crash
};

struct SessionPolicy {
    // From ask_to_finish to terminate. recd's `shutdown` replies once every recording is
    // final: milliseconds for MKV, but an MP4 is rewritten with its index in front, and with
    // segment_seconds = 0 a day's recording is one file of several GB (tens of seconds on a
    // loaded disk). Killing it earlier leaves the file as a crash would. The Linux unit waits
    // as long (TimeoutStopSec=60); only a hung recd ever makes anyone wait this long.
    std::chrono::seconds finish_timeout{60};
    // Crash backoff: the first relaunch 5 s after a crash (the Linux unit's RestartSec=5: long
    // enough for a dying session's logoff notification to arrive first), doubling with each
    // further crash inside crash_window: 5, 10, 20, 40, 80 s.
    std::chrono::seconds first_relaunch_delay{5};
    // At most 5 relaunches in 10 minutes, then none until the next logon. The window is longer
    // than the whole backoff series (155 s), so a recd that dies at start is given up on
    // within about 3 minutes; one that records for minutes between crashes keeps being
    // relaunched, since it records most of the time.
    std::size_t max_relaunches = 5;
    std::chrono::minutes crash_window{10};
};

// Exit codes that are not crashes, so never relaunched (like the Linux unit's Restart=on-failure
// with RestartPreventExitStatus=2): 0 is a clean exit (`recctl shutdown`, or another recd
// already serves the session), 2 a configuration recd cannot use (it waits for the next logon).
inline constexpr std::uint32_t exit_clean = 0;
inline constexpr std::uint32_t exit_bad_config = 2;

class SessionTable {
public:
    explicit SessionTable(SessionPolicy policy = {}) : policy_(policy) {}

    // A user is logged on in `session`: WTS_SESSION_LOGON, also WTS_CONSOLE_CONNECT /
    // WTS_REMOTE_CONNECT and the sessions found at service start. Launches unless a recd runs
    // or is launching; while the previous one is stopping, launches once it has exited. A
    // logon is a fresh start: the crash count is forgotten, a recd given up on is relaunched.
    std::vector<Action> on_logon(SessionId session, SteadyTime now);
    // WTS_SESSION_LOGOFF or WTS_SESSION_TERMINATE: ask recd to finish; terminate at the deadline.
    std::vector<Action> on_logoff(SessionId session, SteadyTime now);

    std::vector<Action> on_launched(SessionId session, SteadyTime now);
    std::vector<Action> on_launch_failed(SessionId session, LaunchFailure why, SteadyTime now);
    std::vector<Action> on_process_exit(SessionId session, std::uint32_t exit_code, SteadyTime now);

    // Every recd is asked to finish, stragglers terminated at the deadline; no more launches.
    std::vector<Action> on_service_stop(SteadyTime now);
    // Deadlines that have passed: terminations and relaunches after a crash.
    std::vector<Action> on_time(SteadyTime now);
    // When on_time has something to do next; nothing when nothing is pending.
    std::optional<SteadyTime> next_deadline() const;

    std::optional<SessionState> state(SessionId session) const;
    // No recd launching, running or stopping: a stopping service may end.
    bool no_process() const;

private:
    struct Entry {
        SessionState state = SessionState::exited;
        bool logged_on = true;
        bool relaunch_after_exit = false;  // logged on again while stopping
        bool terminate_sent = false;
        std::optional<SteadyTime> due;   // stopping: terminate; exited: relaunch
        std::deque<SteadyTime> crashes;  // inside crash_window, oldest first
    };

    std::vector<Action> launch(SessionId session, Entry& entry);
    std::vector<Action> ask_to_finish(SessionId session, Entry& entry, SteadyTime now);
    std::vector<Action> after_crash(SessionId session, Entry& entry, SteadyTime now);

    SessionPolicy policy_;
    std::map<SessionId, Entry> sessions_;
    bool service_stopping_ = false;
};

}  // namespace rec
