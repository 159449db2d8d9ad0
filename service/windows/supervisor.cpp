#include "supervisor.hpp"

#include <spdlog/spdlog.h>
#include <wtsapi32.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "common/log.hpp"
#include "finish_request.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

// While stopping, the SCM hears of progress this often (its wait hint is 5 s: recd_service.cpp).
constexpr auto stop_tick = 1s;
// What TerminateProcess leaves as a recd's exit code (any non-zero: the table does not look).
constexpr UINT terminated_exit_code = 1;

SteadyTime now() { return std::chrono::steady_clock::now(); }

struct WtsFree {
    void operator()(void* p) const { WTSFreeMemory(p); }
};

}  // namespace

// Posts a recd's exit from a thread-pool thread. Made and destroyed on the run() thread; the
// destructor waits for a callback in progress (UnregisterWaitEx with INVALID_HANDLE_VALUE).
class Supervisor::ExitWatch {
public:
    ExitWatch(Supervisor& supervisor, SessionId session, HANDLE process, DWORD pid)
        : supervisor_(supervisor), session_(session), pid_(pid) {
        if (!RegisterWaitForSingleObject(&wait_, process, &ExitWatch::exited, this, INFINITE,
                                         WT_EXECUTEONLYONCE))
            throw LaunchError(LaunchFailure::error,
                              "RegisterWaitForSingleObject: " + last_error_text());
    }
    ~ExitWatch() { UnregisterWaitEx(wait_, INVALID_HANDLE_VALUE); }
    ExitWatch(const ExitWatch&) = delete;
    ExitWatch& operator=(const ExitWatch&) = delete;

private:
    static void CALLBACK exited(void* self, BOOLEAN) {
        const auto* watch = static_cast<ExitWatch*>(self);
        watch->supervisor_.post({ServiceEvent::Kind::exited, watch->session_, watch->pid_});
    }

    Supervisor& supervisor_;
    SessionId session_;
    DWORD pid_;
    HANDLE wait_ = nullptr;
};

Supervisor::Supervisor(std::optional<std::filesystem::path> log_dir,
                       std::function<void()> stop_progress)
    : launcher_(std::move(log_dir)), stop_progress_(std::move(stop_progress)) {}

Supervisor::~Supervisor() { end_remaining(); }

void Supervisor::post(ServiceEvent event) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
    }
    wake_.notify_one();
}

void Supervisor::run() {
    spdlog::info("recd-service running: {} for every interactive session",
                 utf8(launcher_.recd_exe()));
    enumerate_sessions(now());
    for (;;) {
        if (stop_until_ && (table_.no_process() || now() >= *stop_until_)) break;
        auto until = table_.next_deadline();
        if (stop_until_) until = std::min(until.value_or(SteadyTime::max()), now() + stop_tick);
        if (const auto event = next_event(until)) handle(*event, now());
        carry_out(table_.on_time(now()), now());
        std::erase_if(requests_,
                      [](const auto& r) { return r.wait_for(0s) == std::future_status::ready; });
        if (stop_until_) stop_progress_();
    }
    end_remaining();
}

std::optional<ServiceEvent> Supervisor::next_event(std::optional<SteadyTime> until) {
    std::unique_lock lock(mutex_);
    const auto ready = [this] { return !events_.empty(); };
    if (until)
        wake_.wait_until(lock, *until, ready);
    else
        wake_.wait(lock, ready);
    if (events_.empty()) return std::nullopt;
    const auto event = events_.front();
    events_.pop_front();
    return event;
}

void Supervisor::handle(const ServiceEvent& event, SteadyTime now) {
    switch (event.kind) {
        case ServiceEvent::Kind::logon:
            spdlog::info("session {}: logon or connect", event.session);
            carry_out(table_.on_logon(event.session, now), now);
            break;
        case ServiceEvent::Kind::logoff:
            spdlog::info("session {}: logoff", event.session);
            carry_out(table_.on_logoff(event.session, now), now);
            break;
        case ServiceEvent::Kind::exited: {
            const auto it = recds_.find(event.session);
            if (it == recds_.end() || it->second.pid != event.pid) return;
            DWORD code = 0;
            GetExitCodeProcess(it->second.process.get(), &code);
            spdlog::info("session {}: recd (pid {}) exited with code {}", event.session, event.pid,
                         code);
            recds_.erase(it);
            carry_out(table_.on_process_exit(event.session, code, now), now);
            break;
        }
        case ServiceEvent::Kind::stop:
            if (stop_until_) return;
            spdlog::info("service stopping: asking every recd to finish its recordings");
            stop_until_ = now + policy_.finish_timeout + terminate_grace;
            carry_out(table_.on_service_stop(now), now);
            break;
    }
}

void Supervisor::carry_out(const std::vector<Action>& actions, SteadyTime now) {
    for (const auto& action : actions) {
        switch (action.kind) {
            case ActionKind::launch:
                launch(action.session, now);
                break;
            case ActionKind::ask_to_finish:
                ask_to_finish(action.session, now);
                break;
            case ActionKind::terminate:
                terminate(action.session);
                break;
            case ActionKind::give_up:
                spdlog::error("session {}: {}", action.session, action.note);
                break;
        }
    }
}

void Supervisor::launch(SessionId session, SteadyTime now) {
    std::vector<Action> next;
    const auto failed = [&](LaunchFailure kind, const char* why) {
        if (const auto it = recds_.find(session); it != recds_.end()) {
            TerminateProcess(it->second.process.get(), terminated_exit_code);
            recds_.erase(it);
        }
        if (kind == LaunchFailure::no_user)
            spdlog::info("session {}: nobody logged on, no recd ({})", session, why);
        else
            spdlog::error("session {}: cannot launch recd: {}", session, why);
        next = table_.on_launch_failed(session, kind, now);
    };
    try {
        auto launched = launcher_.launch(session);
        Recd& recd = recds_[session];
        recd.process = std::move(launched.process);
        recd.pid = launched.pid;
        recd.watch = std::make_unique<ExitWatch>(*this, session, recd.process.get(), recd.pid);
        spdlog::info("session {}: recd launched (pid {}), its output in {}", session, recd.pid,
                     launched.log.empty() ? "nowhere" : utf8(launched.log));
        next = table_.on_launched(session, now);
    } catch (const LaunchError& e) {
        failed(e.kind(), e.what());
    } catch (const std::exception& e) {  // std::bad_alloc, a path that cannot be made
        failed(LaunchFailure::error, e.what());
    }
    carry_out(next, now);
}

void Supervisor::ask_to_finish(SessionId session, SteadyTime now) {
    const auto it = recds_.find(session);
    if (it == recds_.end()) return;
    const DWORD pid = it->second.pid;
    // The request's own handle: the run() thread closes its one when recd exits.
    HANDLE process = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), it->second.process.get(), GetCurrentProcess(),
                         &process, SYNCHRONIZE, FALSE, 0)) {
        spdlog::error("session {}: cannot ask recd to finish ({}), terminated at the deadline",
                      session, last_error_text());
        return;
    }
    spdlog::info("session {}: asking recd (pid {}) to finish its recordings", session, pid);
    const auto deadline = now + policy_.finish_timeout;
    try {
        requests_.push_back(std::async(
            std::launch::async, [session, pid, deadline, handle = UniqueHandle(process)]() mutable {
                set_thread_name("finish-" + std::to_string(session));
                try {
                    ask_recd_to_finish(session, std::move(handle), pid, deadline);
                } catch (const std::exception& e) {
                    spdlog::error("session {}: shutdown request: {}", session, e.what());
                }
            }));
    } catch (const std::system_error& e) {  // no thread to run it on
        spdlog::error("session {}: cannot ask recd to finish ({}), terminated at the deadline",
                      session, e.what());
    }
}

void Supervisor::terminate(SessionId session) {
    const auto it = recds_.find(session);
    if (it == recds_.end()) return;
    spdlog::warn("session {}: recd (pid {}) did not finish within {} s: terminating it", session,
                 it->second.pid, policy_.finish_timeout.count());
    if (!TerminateProcess(it->second.process.get(), terminated_exit_code))
        spdlog::error("session {}: TerminateProcess: {}", session, last_error_text());
}

// Called by run() after the service reported SERVICE_RUNNING with SERVICE_ACCEPT_SESSIONCHANGE:
// a logon between the two is seen twice at worst (on_logon does nothing the second time), never
// missed.
void Supervisor::enumerate_sessions(SteadyTime now) {
    WTS_SESSION_INFOW* raw = nullptr;
    DWORD count = 0;
    if (!WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &raw, &count)) {
        spdlog::error("WTSEnumerateSessionsW: {}: sessions already logged on get no recd",
                      last_error_text());
        return;
    }
    const std::unique_ptr<WTS_SESSION_INFOW, WtsFree> sessions(raw);
    for (DWORD i = 0; i < count; ++i) {
        // Disconnected: still logged on (an RDP window closed without logging off).
        if (raw[i].State == WTSActive || raw[i].State == WTSDisconnected)
            carry_out(table_.on_logon(raw[i].SessionId, now), now);
    }
}

// The service is ending: whatever recd is left dies with the job; then every shutdown request
// sees its pipe break or its process gone and ends, so waiting for them is short.
void Supervisor::end_remaining() {
    if (!recds_.empty()) {
        spdlog::warn("{} recd still running at the end: killed", recds_.size());
        launcher_.kill_all();
    }
    recds_.clear();
    requests_.clear();  // each future waits for its thread
}

}  // namespace rec
