#pragma once
// The contract every screen capture implements (x11_screen, shm_source, later dxgi_screen).
// Constructed and used on one thread at a time: built on a worker thread when the session
// starts, then grab() is called only from the session's vcap thread; interrupt(), refresh()
// and describe() alone may be called from any thread (the session's request_stop(), venc
// thread and status()).
#include <string>

#include "../../common/error.hpp"
#include "../../common/ipc/protocol.hpp"
#include "../media/frame.hpp"

namespace rec {

enum class GrabStatus {
    ok,
    lost,         // the display went away or stopped answering; error() says why. The session ends.
    interrupted,  // interrupt() was called: no picture, and none will come any more
    ended,        // the source ended on purpose (a producer closed its ring): the session stops
    // Nothing in the picture changed since the last grab: `out` has its time but no frame (the
    // previous picture stands for this one), and grabbing and converting it were saved.
    unchanged,
};

class ScreenSource {
public:
    virtual ~ScreenSource() = default;
    // The part of the screen recorded; width and height are even (4:2:0 video needs it).
    // Known once ready().
    virtual ipc::Region region() const = 0;
    virtual AVPixelFormat pixel_format() const = 0;
    // Before the first grab (the thread that opens the pipeline): the format and size the
    // session's encoder takes. A source that can deliver its pictures so, converting them as
    // it copies them out of the display's memory, does and says so in pixel_format() from then
    // on: the encoder is spared a copy and a conversion, and a queued 1080p picture takes 3 MB
    // instead of 8.
    virtual void prefer_format(AVPixelFormat /*format*/, int /*width*/, int /*height*/) {}
    // Grabs one picture into `out` (a new reference-counted frame) and stamps its time.
    virtual GrabStatus grab(VideoFrame& out) = 0;
    virtual std::string error() const = 0;
    // Any thread: the grab in progress, and every later one, returns `interrupted` at once
    // instead of waiting for a display that does not answer, so a stop never waits for it.
    virtual void interrupt() = 0;
    // Any thread: the next grab takes the whole picture even if nothing was reported drawn
    // (the session is about to write a picture anyway, a keyframe or the second's keep-alive:
    // better a fresh one than the last again). A source that grabs whole pictures ignores it.
    virtual void refresh() {}

    // False while the source is not there yet (a shared-memory ring whose producer has not
    // started): region() and pixel_format() are unknown until wait_ready() returns ok.
    virtual bool ready() const { return true; }
    // vcap thread, while not ready(): blocks until it is (ok), interrupt() (interrupted), or
    // the source turns out unusable (lost, error() says why).
    virtual GrabStatus wait_ready() { return GrabStatus::ok; }
    // True when the source sets the pace: grab() waits for the source's next picture and
    // returns it with the time the source gave it, so the session grabs again at once instead
    // of on its own frame-rate deadlines. False (X11): grab() takes the screen as it is now.
    virtual bool self_paced() const { return false; }
    // What a `lost` grab ends the session with.
    virtual ErrorCode lost_code() const { return ErrorCode::display_lost; }
    // Any thread: adds what is particular to this source to the session's status (which has
    // its "frames" object already).
    virtual void describe(ipc::Json& /*status*/) const {}
};

}  // namespace rec
