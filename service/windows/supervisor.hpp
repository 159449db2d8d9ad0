#pragma once
// The service's one decision-making thread. Threads of recd-service:
//   - the main thread runs StartServiceCtrlDispatcherW; the SCM calls HandlerEx (controls and
//     session changes) on it, which only post()s events here;
//   - the ServiceMain thread runs Supervisor::run(): it alone owns the SessionTable, the
//     launcher (job object) and the recd process handles, so none of them needs a lock;
//   - thread-pool threads (RegisterWaitForSingleObject) post a recd's exit;
//   - one short-lived thread per shutdown request (finish_request.hpp), which only logs.
// Only the event queue is shared, under its mutex.
#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "session_launcher.hpp"
#include "session_table.hpp"

namespace rec {

// After the last finish deadline, how long a terminated recd may take to be gone before the
// service stops waiting and ends the job (which kills what is left).
inline constexpr std::chrono::seconds terminate_grace{10};
// The longest a stop takes, from SERVICE_CONTROL_STOP or PRESHUTDOWN to SERVICE_STOPPED (give
// or take a second): every recd's finish deadline (the Supervisor's policy is SessionPolicy's
// defaults), then the grace. Past that the service waits for nothing: it ends the job itself.
inline constexpr std::chrono::seconds longest_stop =
    SessionPolicy{}.finish_timeout + terminate_grace;

struct ServiceEvent {
    enum class Kind { logon, logoff, exited, stop };
    Kind kind;
    SessionId session = 0;
    DWORD pid = 0;  // exited: which recd
};

class Supervisor {
public:
    // `stop_progress` is called on the run() thread about once a second while stopping (the
    // service reports a new checkpoint to the SCM). Throws std::runtime_error if recd cannot be
    // launched at all (no job object).
    Supervisor(std::optional<std::filesystem::path> log_dir, std::function<void()> stop_progress);
    ~Supervisor();

    // Any thread.
    void post(ServiceEvent event);
    // The ServiceMain thread: launches recd into the sessions already logged on, then follows
    // events until a stop has been handled and no recd is left.
    void run();

private:
    class ExitWatch;
    struct Recd {
        UniqueHandle process;
        DWORD pid = 0;
        std::unique_ptr<ExitWatch> watch;
    };

    std::optional<ServiceEvent> next_event(std::optional<SteadyTime> until);
    void handle(const ServiceEvent& event, SteadyTime now);
    void carry_out(const std::vector<Action>& actions, SteadyTime now);
    void launch(SessionId session, SteadyTime now);
    void ask_to_finish(SessionId session, SteadyTime now);
    void terminate(SessionId session);
    void enumerate_sessions(SteadyTime now);
    void end_remaining();

    // First, so it outlives the exit watches that post to it.
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<ServiceEvent> events_;  // under mutex_

    // The run() thread's own.
    const SessionPolicy policy_;
    SessionTable table_{policy_};
    SessionLauncher launcher_;
    std::map<SessionId, Recd> recds_;
    std::vector<std::future<void>> requests_;  // shutdown requests in flight
    std::function<void()> stop_progress_;
    std::optional<SteadyTime> stop_until_;  // set once stopping: when to stop waiting for recds
};

}  // namespace rec
