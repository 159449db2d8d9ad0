// recd-service's bookkeeping (service/windows/session_table.*): which session gets a recd, when
// it is asked to finish, terminated, relaunched or given up on. Time is passed in, so every
// deadline is checked a moment before and at the moment it falls due.
#include <catch2/catch.hpp>

#include "service/windows/session_table.hpp"

namespace {

using namespace std::chrono_literals;
using rec::Action;
using rec::ActionKind;
using rec::SessionState;
using Actions = std::vector<Action>;

const rec::SteadyTime t0 = rec::SteadyTime{} + 1h;

Action launch(rec::SessionId s) { return {ActionKind::launch, s}; }
Action ask(rec::SessionId s) { return {ActionKind::ask_to_finish, s}; }
Action terminate(rec::SessionId s) { return {ActionKind::terminate, s}; }

// A session whose recd is running since t.
rec::SessionTable running(rec::SessionId s, rec::SteadyTime t = t0) {
    rec::SessionTable table;
    REQUIRE(table.on_logon(s, t) == Actions{launch(s)});
    REQUIRE(table.on_launched(s, t).empty());
    return table;
}

// recd crashes (exit code 3) at `t`; returns what the table decides then.
Actions crash(rec::SessionTable& table, rec::SessionId s, rec::SteadyTime t) {
    return table.on_process_exit(s, 3, t);
}

}  // namespace

TEST_CASE("session table: a logon launches recd once") {
    rec::SessionTable table;
    CHECK(table.on_logon(1, t0) == Actions{launch(1)});
    CHECK(table.state(1) == SessionState::launching);
    CHECK(table.on_logon(1, t0).empty());  // e.g. WTS_REMOTE_CONNECT right after the logon
    CHECK(table.on_launched(1, t0).empty());
    CHECK(table.state(1) == SessionState::running);
    CHECK(table.on_logon(1, t0 + 1s).empty());
    CHECK_FALSE(table.next_deadline());
}

TEST_CASE("session table: session 0 (services) never gets a recd") {
    rec::SessionTable table;
    CHECK(table.on_logon(0, t0).empty());
    CHECK_FALSE(table.state(0));
    CHECK(table.on_logoff(0, t0).empty());
    CHECK(table.no_process());
}

TEST_CASE("session table: two sessions at once each get their own recd") {
    rec::SessionTable table;
    CHECK(table.on_logon(1, t0) == Actions{launch(1)});
    CHECK(table.on_logon(2, t0) == Actions{launch(2)});
    table.on_launched(1, t0);
    table.on_launched(2, t0);
    // One logs off; the other is untouched.
    CHECK(table.on_logoff(2, t0) == Actions{ask(2)});
    CHECK(table.state(1) == SessionState::running);
    CHECK(table.state(2) == SessionState::stopping);
    CHECK(table.on_process_exit(2, 0, t0 + 1s).empty());
    CHECK_FALSE(table.state(2));
    CHECK(table.state(1) == SessionState::running);
}

TEST_CASE("session table: a logoff asks recd to finish, terminates it only at the deadline") {
    auto table = running(1);
    CHECK(table.on_logoff(1, t0) == Actions{ask(1)});
    CHECK(table.next_deadline() == t0 + 60s);
    CHECK(table.on_time(t0 + 59s).empty());
    CHECK(table.on_time(t0 + 60s) == Actions{terminate(1)});
    CHECK(table.on_time(t0 + 61s).empty());  // asked once
    CHECK_FALSE(table.no_process());         // until its exit is seen
    // Terminated (exit code 1): not a crash, and the session is forgotten.
    CHECK(table.on_process_exit(1, 1, t0 + 61s).empty());
    CHECK_FALSE(table.state(1));
    CHECK(table.no_process());
}

TEST_CASE("session table: a recd that finishes in time is not terminated") {
    auto table = running(1);
    table.on_logoff(1, t0);
    CHECK(table.on_process_exit(1, 0, t0 + 2s).empty());
    CHECK(table.on_time(t0 + 60s).empty());
    CHECK_FALSE(table.next_deadline());
}

TEST_CASE("session table: a crash relaunches with backoff, and gives up after 5 in 10 min") {
    auto table = running(1);
    auto t = t0;
    for (auto delay : {5s, 10s, 20s, 40s, 80s}) {
        CHECK(crash(table, 1, t).empty());
        CHECK(table.state(1) == SessionState::exited);
        CHECK(table.next_deadline() == t + delay);
        CHECK(table.on_time(t + delay - 1s).empty());
        CHECK(table.on_time(t + delay) == Actions{launch(1)});
        t += delay;
        table.on_launched(1, t);
    }
    // The sixth failure within 10 minutes: given up, nothing pending.
    const auto last = crash(table, 1, t);
    REQUIRE(last.size() == 1);
    CHECK(last[0].kind == ActionKind::give_up);
    CHECK(last[0].note.find("6 times") != std::string::npos);
    CHECK_FALSE(table.next_deadline());
    CHECK(table.on_time(t + 1h).empty());
    CHECK(table.state(1) == SessionState::exited);
    // The next logon (or reconnect) is a fresh start.
    CHECK(table.on_logon(1, t + 1h) == Actions{launch(1)});
    table.on_launched(1, t + 1h);
    CHECK(crash(table, 1, t + 2h).empty());
    CHECK(table.next_deadline() == t + 2h + 5s);
}

TEST_CASE("session table: crashes far apart keep being relaunched, the backoff starting over") {
    auto table = running(1);
    for (int i = 1; i <= 10; ++i) {
        const auto t = t0 + i * 10min;
        CHECK(crash(table, 1, t).empty());
        CHECK(table.next_deadline() == t + 5s);
        CHECK(table.on_time(t + 5s) == Actions{launch(1)});
        table.on_launched(1, t + 5s);
    }
}

TEST_CASE("session table: a clean exit or a bad configuration is not relaunched") {
    auto table = running(1);
    CHECK(table.on_process_exit(1, rec::exit_clean, t0 + 1s).empty());  // `recctl shutdown`
    CHECK(table.state(1) == SessionState::exited);
    CHECK_FALSE(table.next_deadline());

    auto bad = running(2);
    const auto actions = bad.on_process_exit(2, rec::exit_bad_config, t0 + 1s);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == ActionKind::give_up);
    CHECK_FALSE(bad.next_deadline());
    // The session stays known until it logs off.
    CHECK(bad.on_logoff(2, t0 + 2s).empty());
    CHECK_FALSE(bad.state(2));
}

TEST_CASE("session table: a logoff during the crash backoff cancels the relaunch") {
    auto table = running(1);
    crash(table, 1, t0);
    CHECK(table.on_logoff(1, t0 + 1s).empty());
    CHECK_FALSE(table.state(1));
    CHECK(table.on_time(t0 + 1min).empty());
}

TEST_CASE("session table: service stop asks every recd to finish, terminates stragglers") {
    rec::SessionTable table;
    for (rec::SessionId s : {1u, 2u, 3u}) {
        table.on_logon(s, t0);
        table.on_launched(s, t0);
    }
    crash(table, 3, t0);    // waiting to be relaunched: simply forgotten
    table.on_logon(4, t0);  // being launched: asked as soon as it is up
    CHECK(table.on_service_stop(t0 + 1s) == Actions{ask(1), ask(2)});
    CHECK_FALSE(table.state(3));
    CHECK(table.on_launched(4, t0 + 2s) == Actions{ask(4)});
    CHECK(table.on_logon(5, t0 + 2s).empty());  // no launches while stopping
    CHECK(table.on_process_exit(1, 0, t0 + 3s).empty());
    CHECK(table.on_process_exit(4, 0, t0 + 3s).empty());
    CHECK_FALSE(table.no_process());
    CHECK(table.on_time(t0 + 60s).empty());
    CHECK(table.on_time(t0 + 61s) == Actions{terminate(2)});
    CHECK(table.on_process_exit(2, 1, t0 + 61s).empty());
    CHECK(table.no_process());
    CHECK_FALSE(table.next_deadline());
}

TEST_CASE("session table: a logon while the previous recd is stopping launches after it exits") {
    // Quick logoff and logon (or Windows reusing the session id): the old recd still holds the
    // pipe and the instance lock, so a new one would only exit at once. The new recd is
    // launched the moment the old one is gone, finished or terminated.
    auto table = running(1);
    CHECK(table.on_logoff(1, t0) == Actions{ask(1)});
    CHECK(table.on_logon(1, t0 + 1s).empty());
    CHECK(table.state(1) == SessionState::stopping);
    CHECK(table.on_process_exit(1, 0, t0 + 3s) == Actions{launch(1)});
    CHECK(table.on_launched(1, t0 + 3s).empty());
    CHECK(table.state(1) == SessionState::running);

    // The same when the old one has to be terminated.
    CHECK(table.on_logoff(1, t0 + 10s) == Actions{ask(1)});
    CHECK(table.on_logon(1, t0 + 11s).empty());
    CHECK(table.on_time(t0 + 70s) == Actions{terminate(1)});
    CHECK(table.on_process_exit(1, 1, t0 + 70s) == Actions{launch(1)});

    // Logged off again before the old one exited: nothing is launched.
    table.on_launched(1, t0 + 71s);
    table.on_logoff(1, t0 + 80s);
    table.on_logon(1, t0 + 81s);
    CHECK(table.on_logoff(1, t0 + 82s).empty());
    CHECK(table.on_process_exit(1, 0, t0 + 83s).empty());
    CHECK_FALSE(table.state(1));
}

TEST_CASE("session table: a logoff while recd is being launched asks it to finish once up") {
    rec::SessionTable table;
    table.on_logon(1, t0);
    CHECK(table.on_logoff(1, t0).empty());
    CHECK(table.on_launched(1, t0 + 1s) == Actions{ask(1)});
    CHECK(table.next_deadline() == t0 + 61s);
}

TEST_CASE("session table: launch failures") {
    rec::SessionTable table;
    // Nobody logged on yet (a console connect at the logon screen): forgotten.
    table.on_logon(1, t0);
    CHECK(table.on_launch_failed(1, rec::LaunchFailure::no_user, t0).empty());
    CHECK_FALSE(table.state(1));
    // Any other failure counts as a crash: retried with the same backoff and limit.
    table.on_logon(2, t0);
    CHECK(table.on_launch_failed(2, rec::LaunchFailure::error, t0).empty());
    CHECK(table.state(2) == SessionState::exited);
    CHECK(table.on_time(t0 + 5s) == Actions{launch(2)});
}

TEST_CASE("session table: the next deadline is the earliest pending one") {
    auto table = running(1);
    table.on_logon(2, t0);
    table.on_launched(2, t0);
    table.on_logoff(1, t0);     // terminate at t0 + 60 s
    crash(table, 2, t0 + 10s);  // relaunch at t0 + 15 s
    CHECK(table.next_deadline() == t0 + 15s);
    CHECK(table.on_time(t0 + 15s) == Actions{launch(2)});
    CHECK(table.next_deadline() == t0 + 60s);
}
