// Faults (issue 6), each made to happen for real while recd records: the X server of one session
// killed or hung (SIGSTOP), SIGTERM with ten sessions recording, a capture or encode thread that
// throws (RECD_FAULT, daemon/fault.hpp). Whatever happens, the file recorded so far is finalized
// and plays, recd keeps serving its other sessions, and status, the event stream and the log say
// what happened.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "harness.hpp"
#include "outputs_harness.hpp"
#include "private_x.hpp"
#include "recording_checks.hpp"

using namespace rec::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int fps = 30;
const std::vector<std::string> no_audio = {"--no-system-audio", "--no-mic"};

std::vector<std::string> args(std::vector<std::string> a, const std::vector<std::string>& more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

// The first session `recctl list` shows as failed, polled until `timeout`; null if none.
Json first_failed(Sandbox& box, std::chrono::milliseconds timeout) {
    for (const auto deadline = Clock::now() + timeout; Clock::now() < deadline;) {
        CtlResult list = recctl(box, {"list"});
        if (list.code == 0)
            for (const Json& s : list.json["sessions"])
                if (s.value("state", "") == "failed") return s;
        std::this_thread::sleep_for(100ms);
    }
    return nullptr;
}

// A session's error code in a status object ("" if none).
std::string error_code(const Json& session) {
    return session.contains("error") ? session["error"].value("code", "") : "";
}

// The file of a session that ended by a fault: finalized (a header with the duration), every
// stream decoding cleanly, the picture at the session's size and frame rate; its video report.
VideoReport check_fault_file(const Json& session) {
    INFO("session: " << session.dump());
    const VideoReport report = check_session_file(session);
    check_recording(report, session["region"].value("width", 0),
                    session["region"].value("height", 0), fps);
    const MediaReport media = check_media(session.value("file", ""));
    INFO(media.summary());
    CHECK(media.error.empty());
    CHECK(media.total_errors() == 0);
    CHECK(media.audio().size() == session["audio"].size());
    return report;
}

}  // namespace

TEST_CASE(
    "faults: the X server of one session dies: it fails with DISPLAY_LOST, its file plays "
    "up to the loss, the other session keeps recording",
    "[faults]") {
    Sandbox box;
    write_output_config(box, OutputConfig());
    PrivateX x(box);
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    EventLog events(box);

    const Json doomed = start_recording(box, args({"--display", x.display()}, no_audio));
    const auto doomed_since = Clock::now();
    const std::string doomed_id = doomed["id"];
    const Json other = start_recording(box, args({"--region", "320x240+0+0"}, no_audio));
    const std::string other_id = other["id"];
    std::this_thread::sleep_for(3s);
    const auto killed_at = Clock::now();
    x.kill();

    const Json failed = wait_for_session(box, doomed_id, session_ended, 10s);
    INFO("after the kill: " << failed.dump());
    CHECK(failed.value("state", "") == "failed");
    CHECK(error_code(failed) == "DISPLAY_LOST");

    // recd is up, `list` tells the failure too, and the other session is still capturing.
    CtlResult list = recctl(box, {"list"});
    INFO(list.describe());
    REQUIRE(list.code == 0);
    for (const Json& s : list.json["sessions"]) {
        if (s.value("id", "") == doomed_id) CHECK(error_code(s) == "DISPLAY_LOST");
        if (s.value("id", "") == other_id) CHECK(s.value("state", "") == "recording");
    }
    const auto captured = [&] {
        return wait_for_session(box, other_id, session_ended, 0ms)["frames"].value("captured", 0);
    };
    const int before = captured();
    std::this_thread::sleep_for(1s);
    CHECK(captured() - before >= 15);  // about 30 a second
    const Json stopped = stop_recording(box, other_id);
    check_recording(check_session_file(stopped), 320, 240, fps);

    // The failed file plays, up to within 1 s of the kill.
    const VideoReport report = check_fault_file(failed);
    const double until_kill = seconds_between(doomed_since, killed_at);
    CAPTURE(until_kill, report.duration);
    CHECK(std::abs(report.duration - until_kill) <= 1.0);

    CHECK(recd.terminate(SIGTERM, 10s) == 0);
    const Json event = events.find("session_failed", doomed_id);
    INFO("session_failed event: " << event.dump());
    REQUIRE(event.is_object());
    CHECK(error_code(event["status"]) == "DISPLAY_LOST");
    CHECK(recd.log().find("DISPLAY_LOST") != std::string::npos);
}

TEST_CASE(
    "faults: an X server that hangs holds up neither a stop nor a start nor SIGTERM and "
    "a session left on it fails with DISPLAY_LOST after 10 s",
    "[faults]") {
    Sandbox box;
    write_output_config(box, OutputConfig());
    PrivateX x(box);
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const Json stopped_one = start_recording(box, args({"--display", x.display()}, no_audio));
    const auto stopped_since = Clock::now();
    const Json waiting_one = start_recording(box, args({"--display", x.display()}, no_audio));
    const auto waiting_since = Clock::now();
    std::this_thread::sleep_for(2s);
    const auto frozen_at = Clock::now();
    x.freeze();
    std::this_thread::sleep_for(1s);

    // Its grab is waiting for the frozen server: the stop ends it at once.
    const auto stop_sent = Clock::now();
    const Json stopped = stop_recording(box, stopped_one["id"]);
    const double stop_took = seconds_between(stop_sent, Clock::now());
    CAPTURE(stop_took);
    CHECK(stop_took < 2.0);
    VideoReport report = check_fault_file(stopped);  // plays up to the freeze
    CHECK(std::abs(report.duration - seconds_between(stopped_since, frozen_at)) <= 1.0);

    // The other waits 10 s for an answer, then fails, its file playing up to the freeze too.
    const Json failed = wait_for_session(box, waiting_one["id"], session_ended, 15s);
    const double failed_after = seconds_between(frozen_at, Clock::now());
    INFO("failed: " << failed.dump());
    CAPTURE(failed_after);
    CHECK(failed.value("state", "") == "failed");
    CHECK(error_code(failed) == "DISPLAY_LOST");
    CHECK(failed["error"].value("message", "").find("did not answer") != std::string::npos);
    CHECK(failed_after >= 9.5);
    CHECK(failed_after <= 13.0);
    report = check_fault_file(failed);
    CHECK(std::abs(report.duration - seconds_between(waiting_since, frozen_at)) <= 1.0);

    // A start on the hung display fails after 3 s instead of waiting for it...
    const auto start_sent = Clock::now();
    CtlResult refused = recctl(box, args({"start", "--display", x.display()}, no_audio));
    const double start_took = seconds_between(start_sent, Clock::now());
    INFO(refused.describe());
    CAPTURE(start_took);
    CHECK(refused.code != 0);
    CHECK(error_code(refused.json) == "DISPLAY_UNAVAILABLE");
    CHECK(start_took >= 2.5);
    CHECK(start_took <= 5.0);
    // ...and SIGTERM while one is waiting exits 0 within 5 s all the same.
    Process pending(
        args({recctl_bin().string(), "--json", "start", "--display", x.display()}, no_audio),
        box.env(), box.new_file("pending-out"), box.new_file("pending-err"));
    std::this_thread::sleep_for(500ms);
    const auto sigterm_sent = Clock::now();
    CHECK(recd.terminate(SIGTERM, 20s) == 0);
    const double exit_took = seconds_between(sigterm_sent, Clock::now());
    CAPTURE(exit_took);
    CHECK(exit_took <= 5.0);
    CHECK(pending.wait_for(5s).has_value());
}

TEST_CASE(
    "faults: starts against a hung X server give up after 3 s, at most 4 pending at once per "
    "display, while another display records, and the hung one records once it answers",
    "[faults]") {
    Sandbox box;
    write_output_config(box, OutputConfig());
    PrivateX hung(box), healthy(box);
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    hung.freeze();
    const auto start_on = [&](const PrivateX& x) {
        return recctl(box, args({"start", "--display", x.display()}, no_audio));
    };
    // Each of these leaves a connection attempt waiting for the hung server (a thread in recd).
    for (int i = 0; i < 4; ++i) {
        const auto sent = Clock::now();
        CtlResult refused = start_on(hung);
        const double took = seconds_between(sent, Clock::now());
        INFO(refused.describe());
        CAPTURE(i, took);
        CHECK(error_code(refused.json) == "DISPLAY_UNAVAILABLE");
        CHECK(took >= 2.5);
        CHECK(took <= 5.0);
    }
    // The fifth is refused at once, saying why.
    const auto sent = Clock::now();
    CtlResult refused = start_on(hung);
    const double took = seconds_between(sent, Clock::now());
    INFO(refused.describe());
    CAPTURE(took);
    CHECK(error_code(refused.json) == "DISPLAY_UNAVAILABLE");
    CHECK(refused.json["error"].value("message", "").find("still unanswered") != std::string::npos);
    CHECK(took < 1.0);
    // Another display is not held up by them.
    CtlResult other = start_on(healthy);
    INFO(other.describe());
    REQUIRE(other.code == 0);

    // Once the server answers, the abandoned attempts end (each closes what it got) and a start
    // there records.
    hung.thaw();
    Json thawed;
    for (const auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
        CtlResult r = start_on(hung);
        if (r.code == 0) {
            thawed = r.json;
            break;
        }
        std::this_thread::sleep_for(200ms);
    }
    INFO("start after the thaw: " << thawed.dump());
    REQUIRE(thawed.is_object());
    std::this_thread::sleep_for(2s);
    for (const Json* started : {&thawed, &other.json}) {
        const Json stopped = stop_recording(box, (*started)["session"]["id"]);
        check_recording(check_session_file(stopped), 640, 480, fps);
    }
    CHECK(recd.terminate(SIGTERM, 10s) == 0);
}

// Judges recd's shutdown time: runs alone, as the other timing tests do.
TEST_CASE("faults: SIGTERM with 10 sessions recording finalizes every file and exits 0 within 5 s",
          "[faults][serial]") {
    Sandbox box;
    // recd's default quality (x264 superfast, whose lookahead holds frames the stop must flush).
    write_output_config(box, OutputConfig().video(""));
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    std::vector<Json> sessions;
    for (int i = 0; i < 10; ++i) {
        // 320x240 tiles of the pattern: ten encoders a 2-core machine sustains.
        const std::string region =
            "320x240+" + std::to_string(i % 4 * 320) + "+" + std::to_string(i / 4 * 240);
        sessions.push_back(start_recording(box, args({"--region", region}, no_audio)));
    }
    std::this_thread::sleep_for(3s);
    const auto sent = Clock::now();
    const auto code = recd.terminate(SIGTERM, 30s);
    const double took = seconds_between(sent, Clock::now());
    CAPTURE(took);
    CHECK(code == 0);
    CHECK(took <= 5.0);
    for (const Json& s : sessions) {
        INFO("session " << s.dump());
        const VideoReport report = check_session_file(s);
        check_recording(report, 320, 240, fps);
        CHECK(report.duration >= 3.0);
    }
}

namespace {

// Two sessions on the fixture display, one with a thread that throws (RECD_FAULT `fault`, which
// fires once in the process). `faulty` is the session exposed to it; `safe` has none of what it
// hits (nullopt: both are exposed and whichever meets it is the faulty one). That session fails
// with INTERNAL and its file plays; the other keeps recording, and recd keeps answering.
void check_one_session_fails(const std::string& fault, const std::vector<std::string>& faulty,
                             const std::vector<std::string>& safe, const std::string& logged) {
    Sandbox box;
    box.add_env("RECD_FAULT=" + fault);
    write_output_config(box, OutputConfig());
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const Json a = start_recording(box, args({"--region", "320x240+0+0"}, faulty));
    const Json b = start_recording(box, args({"--region", "320x240+320+0"}, safe));
    Json failed = first_failed(box, 10s);
    INFO("failed session: " << failed.dump());
    REQUIRE(failed.is_object());
    CHECK(error_code(failed) == "INTERNAL");
    const std::string other_id = (failed["id"] == a["id"] ? b : a)["id"].get<std::string>();

    // recd answers, and the other session goes on recording for a while after the failure.
    std::this_thread::sleep_for(1500ms);
    CtlResult status = recctl(box, {"status"});
    INFO(status.describe());
    REQUIRE(status.code == 0);
    REQUIRE(status.json["sessions"].size() == 2);
    const Json other = wait_for_session(box, other_id, session_ended, 0ms);
    CHECK(other.value("state", "") == "recording");
    CHECK_FALSE(other.contains("error"));
    const Json stopped = stop_recording(box, other_id);
    check_recording(check_session_file(stopped), 320, 240, fps);
    const VideoReport report = check_fault_file(failed);
    CHECK(report.duration >= 0.5);  // the frames before the fault

    CHECK(recd.terminate(SIGTERM, 10s) == 0);
    CHECK(recd.log().find(logged) != std::string::npos);
    CHECK(recd.log().find("INTERNAL") != std::string::npos);
}

}  // namespace

TEST_CASE("faults: a capture thread that throws fails only its session and recd keeps serving",
          "[faults]") {
    // 60 grabs: about a second into the two sessions, in whichever grabs the 60th picture.
    check_one_session_fails("capture_throw=60", no_audio, no_audio, "vcap thread");
}

TEST_CASE("faults: a video encode thread that throws fails only its session and recd keeps serving",
          "[faults]") {
    check_one_session_fails("video_encode_throw=60", no_audio, no_audio, "venc thread");
}

TEST_CASE(
    "faults: an audio encode thread that throws fails only its session and recd keeps serving",
    "[faults]") {
    // Only the first session records sound (the system track): the fault can only hit it. Its
    // aenc thread writes a block every ~20 ms: the 50th is about a second in.
    check_one_session_fails("audio_encode_throw=50", {"--no-mic"}, no_audio, "aenc-system thread");
}
