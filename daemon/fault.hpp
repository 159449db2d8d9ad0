#pragma once
// Faults on purpose, for the tests that show what recd does when one of its parts fails for
// real in the middle of a recording (a GPU encoder that dies, a capture thread that throws),
// which this machine cannot otherwise make happen on cue. RECD_FAULT="NAME=N[,NAME=N...]" makes
// fault NAME happen once, at its N-th opportunity; unset (normal use) nothing ever happens.
//
// Faults: "video_encoder" (VideoEncoder::encode reports a failure); "capture_throw",
// "video_encode_throw", "audio_encode_throw" (X11Screen::grab on the vcap thread,
// VideoEncoder::encode on the venc thread, AudioTrack::write on an aenc thread throw a
// std::runtime_error, as an unexpected exception there would).
#include <string_view>

namespace rec::fault {

// Any thread. True exactly once per process: on the N-th call for `name` that RECD_FAULT names.
bool hit(std::string_view name);

}  // namespace rec::fault
