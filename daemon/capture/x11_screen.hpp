#pragma once
// X11 screen capture through XCB: MIT-SHM when the server offers it (one shared segment, reused
// every frame), plain GetImage otherwise; the cursor is drawn in from XFixes. XCB, not Xlib:
// a lost X connection is a GrabStatus the session handles, never a process exit. A grab waits
// for the server's reply in poll(), not in a blocking xcb call, so a hung server (stopped,
// deadlocked) neither blocks a stop (interrupt()) nor keeps the session waiting forever.
// The screen may change size while it is recorded (RandR: a remote desktop client resized, a
// monitor plugged in): the root window's ConfigureNotify says so. A whole-screen capture then
// grabs the new size (frames change size; the session scales them or starts a new file); a
// region or monitor is grabbed on as long as it stays on the screen.
// With the DAMAGE extension the server says which rectangles were drawn: a grab when none of them
// touched the region and the cursor neither moved nor changed is `unchanged`, and saves the image
// transfer, the copy and (downstream) the colour conversion. A full grab still comes at least
// once a second, in case something draws without damage (direct rendering on some servers).
#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include <atomic>
#include <optional>
#include <string>

#include "../../common/unique_fd.hpp"
#include "../media/frame_pool.hpp"
#include "screen_source.hpp"

namespace rec {

struct X11Target {
    std::string display;                // as in $DISPLAY
    std::optional<ipc::Region> region;  // part of the screen; checked against its size
    std::string monitor;                // a RandR monitor name; excludes region
};

class X11Screen final : public ScreenSource {
public:
    // Opens the display and prepares the capture. Throws rec::Error: DISPLAY_UNAVAILABLE (cannot
    // connect, unsupported pixel format), INVALID_ARGUMENT (region outside the screen, unknown
    // monitor).
    explicit X11Screen(const X11Target& target);
    ~X11Screen() override;

    ipc::Region region() const override { return region_; }
    AVPixelFormat pixel_format() const override { return frames_.format(); }
    // The pipeline's thread, before the first grab: I420 converted as the picture is copied
    // out (FramePool::prefer).
    void prefer_format(AVPixelFormat format, int width, int height) override {
        frames_.prefer(format, width, height);
    }
    GrabStatus grab(VideoFrame& out) override;
    std::string error() const override { return error_; }
    void interrupt() override;
    // Also restarts the periodic full grab's second: the two need not come close together.
    void refresh() override { refresh_ = true; }

private:
    void connect(const std::string& display);
    void choose_region(const X11Target& target);
    void check_pixel_format();
    void size_buffers();
    void attach_shm();
    void detach_shm();
    GrabStatus read_events();
    void watch_damage();
    void note_damage(const xcb_generic_event_t& event);
    bool cursor_changed(const xcb_xfixes_get_cursor_image_reply_t* cursor);
    GrabStatus grab_once(VideoFrame& out, bool& shrank);
    GrabStatus read_image(uint8_t*& pixels, xcb_generic_error_t** error);
    GrabStatus wait_for_reply(unsigned sequence, void** reply, xcb_generic_error_t** error,
                              Clock::duration limit);
    bool answered(Clock::duration limit);
    void settle();
    void draw_cursor(uint8_t* pixels, const xcb_xfixes_get_cursor_image_reply_t& cursor);
    GrabStatus lose(std::string why);

    xcb_connection_t* conn_ = nullptr;
    xcb_screen_t* screen_ = nullptr;
    ipc::Region region_;
    bool whole_screen_ = false;  // no region or monitor asked for: follow the screen's size
    int screen_width_ = 0, screen_height_ = 0;  // as last known
    size_t frame_bytes_ = 0;                    // of region_ as the server sends it (BGR0)
    // What grab() delivers: BGR0 (or I420 after prefer_format) at region_'s size.
    FramePool frames_{AV_PIX_FMT_BGR0};
    // MIT-SHM segment the server writes each picture into; shm_id_ < 0 means no SHM.
    int shm_id_ = -1;
    uint32_t shm_seg_ = 0;
    uint8_t* shm_data_ = nullptr;
    xcb_get_image_reply_t* image_reply_ = nullptr;  // GetImage fallback: owns the last picture
    bool cursor_ = false;                           // XFixes present: draw the cursor
    // DAMAGE: damage_event_ is its DamageNotify code, 0 without the extension. damaged_: drawing
    // touched the region since the last full grab (or none was made yet).
    uint8_t damage_event_ = 0;
    bool damaged_ = true;
    TimePoint last_full_grab_{};
    std::atomic<bool> refresh_{false};     // set by refresh(), taken by the next grab
    Clock::duration usual_round_trip_{};   // of an image grab, smoothed (grab_once)
    int16_t cursor_x_ = 0, cursor_y_ = 0;  // the cursor in the last full grab
    uint32_t cursor_serial_ = 0;
    std::string error_;
    // An eventfd that interrupt() (any thread) makes readable for good; a grab polls it with the
    // X connection.
    UniqueFd wake_;
};

}  // namespace rec
