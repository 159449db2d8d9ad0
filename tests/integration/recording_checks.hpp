#pragma once
// The properties every recording must have (H.264, size, CFR at fps, increasing timestamps,
// keyframes at least every 2 s, clean decode, finalized), as Catch2 checks shared by the tests.
#include <filesystem>
#include <string>

#include "harness.hpp"
#include "video_check.hpp"

namespace rec::test {

// Checks `report` against a finished recording of width x height at fps; every failed check
// shows the report.
enum class FrameRate { constant, variable };  // the session's frame_rate_mode
// At a variable rate a frame is at its grab's own time: the keyframe due by time comes with the
// next grab, which a busy machine makes late by a few ms.
inline constexpr double late_grab_seconds = 0.010;
void check_recording(const VideoReport& report, int width, int height, int fps,
                     FrameRate rate = FrameRate::constant);

// The file named in a session object, checked to exist; the report of check_video on it.
VideoReport check_session_file(const Json& session);

// `recctl start ARGS...`: requires exit 0 and a session in state "recording"; returns it.
Json start_recording(Sandbox& box, const std::vector<std::string>& args);

// `recctl stop ID`: requires exit 0 and the session in state "stopped"; returns it.
Json stop_recording(Sandbox& box, const std::string& id);

// The seconds between two steady_clock time points.
double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to);

}  // namespace rec::test
