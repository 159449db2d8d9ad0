#pragma once
// The contract every screen capture implements (x11_screen, later dxgi_screen and shm_source).
// Constructed and used on one thread at a time: built on a worker thread when the session
// starts, then grab() is called only from the session's vcap thread.
#include <string>

#include "../../common/ipc/protocol.hpp"
#include "../media/frame.hpp"

namespace rec {

enum class GrabStatus {
    ok,
    lost,  // the display went away; error() says why. The session ends.
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
};

}  // namespace rec
