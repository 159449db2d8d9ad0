#pragma once
// The contract every screen capture implements (x11_screen, later dxgi_screen and shm_source).
// Constructed and used on one thread at a time: built on a worker thread when the session
// starts, then grab() is called only from the session's vcap thread; interrupt() alone may be
// called from any thread (the session's request_stop()).
#include <string>

#include "../../common/ipc/protocol.hpp"
#include "../media/frame.hpp"

namespace rec {

enum class GrabStatus {
    ok,
    lost,         // the display went away or stopped answering; error() says why. The session ends.
    interrupted,  // interrupt() was called: no picture, and none will come any more
};

class ScreenSource {
public:
    virtual ~ScreenSource() = default;
    // The part of the screen recorded; width and height are even (4:2:0 video needs it).
    virtual ipc::Region region() const = 0;
    virtual AVPixelFormat pixel_format() const = 0;
    // Grabs one picture into `out` (a new reference-counted frame) and stamps its time.
    virtual GrabStatus grab(VideoFrame& out) = 0;
    virtual std::string error() const = 0;
    // Any thread: the grab in progress, and every later one, returns `interrupted` at once
    // instead of waiting for a display that does not answer, so a stop never waits for it.
    virtual void interrupt() = 0;
};

}  // namespace rec
