#include "x11_screen.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <xcb/damage.h>
#include <xcb/randr.h>
#include <xcb/shm.h>
#include <xcb/xcbext.h>  // xcb_poll_for_reply
#include <xcb/xfixes.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "../../common/error.hpp"
#include "../../common/log.hpp"
#include "../fault.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

// A server that answers a grab within this long is alive: a healthy one answers in
// milliseconds, and a busy machine or a GPU reset stalls it for a second or two, not ten.
// Longer, it is hung (stopped, deadlocked, its network link gone): the session ends as
// DISPLAY_LOST instead of recording nothing while it says "recording".
constexpr auto hung_after = 10s;
// A live server answers the connection setup in milliseconds; one that accepted the socket but
// says nothing for this long is hung, and the start fails rather than wait for it forever
// (holding up a worker thread, and a shutdown that waits for the start).
constexpr auto connect_timeout = 3s;
// With DAMAGE, a full grab at least this often whatever the damage says: a safety net for drawing
// that reports none, at 1/30 of the grabs' cost on a still screen.
constexpr auto full_grab_every = 1s;
// The server copies the screen somewhere within a grab's round trip, so a picture's time (the
// midpoint) is uncertain by half of it. A grab that took this much longer than usual was stalled
// (the VM, the server or this thread descheduled: tens of ms on a busy VM) and is taken again
// at once, once; 10 ms keeps the time of what is kept within 5 ms plus half the usual round
// trip (~1 ms for 1080p through MIT-SHM, tens without it).
constexpr auto stalled_beyond_usual = 10ms;
// A stop that ends a grab this long unanswered is logged: a hang the session never reported.
constexpr auto worth_a_warning = 500ms;

template <typename T>
using Reply = std::unique_ptr<T, decltype(&std::free)>;

template <typename T>
Reply<T> reply(T* r) {
    return Reply<T>(r, &std::free);
}

// Connection attempts given up on whose xcb_connect() has not returned yet (their server is
// hung), per display. Each holds a thread; beyond this many on one display, a start there fails
// at once instead of adding one more (a script retrying a start against a hung server would
// otherwise pile them up), while other displays are not held up by it.
constexpr int max_abandoned_connects = 4;

class AbandonedConnects {
public:
    int count(const std::string& display) {
        std::lock_guard lock(mutex_);
        const auto it = pending_.find(display);
        return it == pending_.end() ? 0 : it->second;
    }
    void add(const std::string& display) {
        std::lock_guard lock(mutex_);
        ++pending_[display];
    }
    void remove(const std::string& display) {
        std::lock_guard lock(mutex_);
        if (--pending_[display] <= 0) pending_.erase(display);
    }

private:
    std::mutex mutex_;
    std::map<std::string, int> pending_;
};

AbandonedConnects abandoned_connects;

// xcb_connect(), which blocks without limit on a hung server, in a thread of its own: nullptr if
// it has not returned within connect_timeout. That thread then closes whatever connection it
// gets, when it gets one, and ends. Called on a worker thread by the X11Screen constructor.
xcb_connection_t* connect_within_timeout(const std::string& display, int& screen_number) {
    struct Attempt {
        std::mutex mutex;  // guards the rest; the attempt is shared by both threads
        std::condition_variable done_cv;
        bool done = false, abandoned = false;
        xcb_connection_t* conn = nullptr;
        int screen = 0;
    };
    auto attempt = std::make_shared<Attempt>();
    std::thread([attempt, display] {
        set_thread_name("xconnect");
        int screen = 0;
        xcb_connection_t* conn = xcb_connect(display.c_str(), &screen);
        std::lock_guard lock(attempt->mutex);
        if (attempt->abandoned) {
            xcb_disconnect(conn);  // the start gave up on it
            abandoned_connects.remove(display);
            return;
        }
        attempt->conn = conn;
        attempt->screen = screen;
        attempt->done = true;
        attempt->done_cv.notify_all();
    }).detach();
    std::unique_lock lock(attempt->mutex);
    if (!attempt->done_cv.wait_for(lock, connect_timeout, [&] { return attempt->done; })) {
        attempt->abandoned = true;
        abandoned_connects.add(display);
        return nullptr;
    }
    screen_number = attempt->screen;
    return attempt->conn;
}

}  // namespace

X11Screen::X11Screen(const X11Target& target) : wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!wake_) throw Error(ErrorCode::internal, fmt::format("eventfd: {}", std::strerror(errno)));
    connect(target.display);
    try {
        // Everything asked below is answered at once by a live server; one hung since the
        // connection would block these xcb calls forever. So each batch of questions is followed
        // by a round trip with a time limit, after which their answers are there to take.
        for (auto* ext : {&xcb_shm_id, &xcb_xfixes_id, &xcb_randr_id, &xcb_damage_id})
            xcb_prefetch_extension_data(conn_, ext);
        settle();
        check_pixel_format();
        choose_region(target);
        whole_screen_ = !target.region && target.monitor.empty();
        screen_width_ = screen_->width_in_pixels;
        screen_height_ = screen_->height_in_pixels;
        // This connection's own interest in the root window's size (others' are not disturbed).
        const uint32_t structure = XCB_EVENT_MASK_STRUCTURE_NOTIFY;
        xcb_change_window_attributes(conn_, screen_->root, XCB_CW_EVENT_MASK, &structure);
        size_buffers();
        auto* fixes = xcb_get_extension_data(conn_, &xcb_xfixes_id);
        if (fixes && fixes->present) {
            const auto cookie = xcb_xfixes_query_version(conn_, 4, 0);
            settle();
            free(xcb_xfixes_query_version_reply(conn_, cookie, nullptr));
            cursor_ = true;
        }
        watch_damage();
    } catch (...) {
        detach_shm();
        xcb_disconnect(conn_);  // a constructor that throws gets no destructor
        throw;
    }
    spdlog::info("X11 capture of {} region {}x{}+{}+{} ({}, cursor {}, {})", target.display,
                 region_.width, region_.height, region_.x, region_.y,
                 shm_id_ >= 0 ? "MIT-SHM" : "GetImage", cursor_ ? "drawn" : "not available",
                 damage_event_ ? "unchanged pictures skipped" : "no DAMAGE: every picture grabbed");
}

X11Screen::~X11Screen() {
    free(image_reply_);
    detach_shm();
    if (conn_) xcb_disconnect(conn_);
}

void X11Screen::connect(const std::string& display) {
    if (abandoned_connects.count(display) >= max_abandoned_connects)
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("earlier connections to display \"{}\" are still unanswered "
                                "(its X server is hung?); not trying again until they end",
                                display));
    int screen_number = 0;
    conn_ = connect_within_timeout(display, screen_number);
    if (!conn_)
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("the X server of display \"{}\" did not answer within {} s (hung?)",
                                display, connect_timeout.count()));
    if (int err = xcb_connection_has_error(conn_)) {
        xcb_disconnect(conn_);  // even a failed connection is to be disconnected
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("cannot open X display \"{}\" (xcb error {}): is the X server "
                                "running and is DISPLAY/XAUTHORITY right?",
                                display, err));
    }
    auto it = xcb_setup_roots_iterator(xcb_get_setup(conn_));
    for (int i = 0; i < screen_number && it.rem; ++i) xcb_screen_next(&it);
    if (!it.rem) {
        xcb_disconnect(conn_);
        throw Error(ErrorCode::display_unavailable, "X display has no such screen");
    }
    screen_ = it.data;
}

// recd handles the one format every current X server uses for 24-bit colour: 32 bits a pixel,
// little-endian, i.e. bytes B G R x. Anything else is refused rather than recorded garbled.
void X11Screen::check_pixel_format() {
    const xcb_setup_t* setup = xcb_get_setup(conn_);
    bool bpp32 = false;
    for (auto it = xcb_setup_pixmap_formats_iterator(setup); it.rem; xcb_format_next(&it))
        if (it.data->depth == screen_->root_depth) bpp32 = it.data->bits_per_pixel == 32;
    if ((screen_->root_depth != 24 && screen_->root_depth != 32) || !bpp32 ||
        setup->image_byte_order != XCB_IMAGE_ORDER_LSB_FIRST)
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("unsupported X pixel format (depth {}): recd needs 24/32-bit "
                                "colour, 32 bits per pixel, little-endian",
                                screen_->root_depth));
}

void X11Screen::choose_region(const X11Target& target) {
    const ipc::Region screen{0, 0, screen_->width_in_pixels, screen_->height_in_pixels};
    ipc::Region r = target.region.value_or(screen);
    if (!target.monitor.empty()) {
        const auto monitors_cookie = xcb_randr_get_monitors(conn_, screen_->root, 1);
        settle();
        auto monitors = reply(xcb_randr_get_monitors_reply(conn_, monitors_cookie, nullptr));
        std::string names;
        bool found = false;
        if (monitors) {
            std::vector<std::pair<xcb_randr_monitor_info_t*, xcb_get_atom_name_cookie_t>> asked;
            for (auto it = xcb_randr_get_monitors_monitors_iterator(monitors.get()); it.rem;
                 xcb_randr_monitor_info_next(&it))
                asked.emplace_back(it.data, xcb_get_atom_name(conn_, it.data->name));
            settle();
            for (auto [monitor, cookie] : asked) {
                auto atom = reply(xcb_get_atom_name_reply(conn_, cookie, nullptr));
                const std::string name =
                    atom ? std::string(xcb_get_atom_name_name(atom.get()),
                                       xcb_get_atom_name_name_length(atom.get()))
                         : std::string();
                names += (names.empty() ? "" : ", ") + name;
                if (name == target.monitor) {
                    r = {monitor->x, monitor->y, monitor->width, monitor->height};
                    found = true;
                }
            }
        }
        if (!found)
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("no monitor \"{}\" on {}; monitors: {}", target.monitor,
                                    target.display, names.empty() ? "none (no RandR)" : names));
    }
    if (r.x + r.width > screen.width || r.y + r.height > screen.height)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("region {}x{}+{}+{} is outside the screen ({}x{})", r.width,
                                r.height, r.x, r.y, screen.width, screen.height));
    // 4:2:0 video needs even sides: drop the last column/row of an odd-sized region.
    r.width &= ~1;
    r.height &= ~1;
    region_ = r;
}

// Frame buffers and the shared segment for region_'s size (constructor; vcap thread on a resize).
// Frames still held downstream keep their old buffers: the pool goes when the last returns.
void X11Screen::size_buffers() {
    frame_bytes_ = static_cast<size_t>(region_.width) * region_.height * 4;
    frames_.resize(region_.width, region_.height);
    damaged_ = true;  // the next grab is a full one
    detach_shm();
    attach_shm();
}

// Constructor: the server reports every rectangle drawn on the screen from now on (DamageNotify,
// raw rectangles: nothing to acknowledge). The damage object goes with the connection.
void X11Screen::watch_damage() {
    auto* ext = xcb_get_extension_data(conn_, &xcb_damage_id);
    if (!ext || !ext->present) return;
    const auto cookie = xcb_damage_query_version(conn_, 1, 1);  // required before any other
    settle();
    free(xcb_damage_query_version_reply(conn_, cookie, nullptr));
    xcb_damage_create(conn_, xcb_generate_id(conn_), screen_->root,
                      XCB_DAMAGE_REPORT_LEVEL_RAW_RECTANGLES);
    damage_event_ = ext->first_event + XCB_DAMAGE_NOTIFY;
}

// vcap thread: a DamageNotify; only drawing that touches the region counts.
void X11Screen::note_damage(const xcb_generic_event_t& event) {
    const auto& a = reinterpret_cast<const xcb_damage_notify_event_t&>(event).area;
    const auto& r = region_;
    if (a.x < r.x + r.width && r.x < a.x + a.width && a.y < r.y + r.height && r.y < a.y + a.height)
        damaged_ = true;
}

// vcap thread: whether the cursor moved or changed shape since the last full grab.
bool X11Screen::cursor_changed(const xcb_xfixes_get_cursor_image_reply_t* cursor) {
    return cursor && (cursor->x != cursor_x_ || cursor->y != cursor_y_ ||
                      cursor->cursor_serial != cursor_serial_);
}

void X11Screen::detach_shm() {
    if (shm_id_ < 0) return;
    xcb_shm_detach(conn_, shm_seg_);
    xcb_flush(conn_);
    shmdt(shm_data_);
    shm_id_ = -1;
    shm_data_ = nullptr;
}

void X11Screen::attach_shm() {
    auto* ext = xcb_get_extension_data(conn_, &xcb_shm_id);
    if (!ext || !ext->present) return;
    const int id = shmget(IPC_PRIVATE, frame_bytes_, IPC_CREAT | 0600);
    if (id < 0) return;
    auto* data = static_cast<uint8_t*>(shmat(id, nullptr, 0));
    const uint32_t seg = xcb_generate_id(conn_);
    const auto cookie = xcb_shm_attach_checked(conn_, seg, id, false);
    xcb_generic_error_t* err = nullptr;
    if (answered(hung_after))
        err = xcb_request_check(conn_, cookie);
    else  // a hung server: the grab that follows finds out and says so
        err = static_cast<xcb_generic_error_t*>(calloc(1, sizeof(xcb_generic_error_t)));
    // Marked for removal once both sides are attached: the kernel frees it when both detach,
    // even if recd is killed.
    shmctl(id, IPC_RMID, nullptr);
    if (data == reinterpret_cast<uint8_t*>(-1) || err) {
        free(err);
        if (data != reinterpret_cast<uint8_t*>(-1)) shmdt(data);
        spdlog::warn("MIT-SHM attach failed (remote X server?): using GetImage");
        return;
    }
    shm_id_ = id;
    shm_seg_ = seg;
    shm_data_ = data;
}

// vcap thread: the picture of the region into `pixels` (nullptr with `error` set when the server
// refused it), or lost / interrupted from wait_for_reply().
GrabStatus X11Screen::read_image(uint8_t*& pixels, xcb_generic_error_t** error) {
    const auto& r = region_;
    void* rep = nullptr;
    pixels = nullptr;
    if (shm_id_ >= 0) {
        auto cookie = xcb_shm_get_image(conn_, screen_->root, r.x, r.y, r.width, r.height, ~0u,
                                        XCB_IMAGE_FORMAT_Z_PIXMAP, shm_seg_, 0);
        const auto status = wait_for_reply(cookie.sequence, &rep, error, hung_after);
        if (rep) pixels = shm_data_;  // the reply only describes what the server wrote there
        free(rep);
        return status;
    }
    free(std::exchange(image_reply_, nullptr));
    auto cookie = xcb_get_image(conn_, XCB_IMAGE_FORMAT_Z_PIXMAP, screen_->root, r.x, r.y, r.width,
                                r.height, ~0u);
    const auto status = wait_for_reply(cookie.sequence, &rep, error, hung_after);
    image_reply_ = static_cast<xcb_get_image_reply_t*>(rep);
    if (image_reply_) pixels = xcb_get_image_data(image_reply_);
    return status;
}

// Constructor, vcap thread: whether the server answered a round trip within `limit`, i.e. has
// answered everything asked before it (xcb calls waiting for those answers then return at once).
bool X11Screen::answered(Clock::duration limit) {
    void* rep = nullptr;
    xcb_generic_error_t* error = nullptr;
    const auto status = wait_for_reply(xcb_get_input_focus(conn_).sequence, &rep, &error, limit);
    free(rep);
    free(error);
    return status == GrabStatus::ok;
}

// Constructor: answered() within connect_timeout, else DISPLAY_UNAVAILABLE.
void X11Screen::settle() {
    if (!answered(connect_timeout))
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("the X server accepted the connection, then did not answer for "
                                "{} s (hung?)",
                                connect_timeout.count()));
}

// Constructor, vcap thread: xcb_wait_for_reply() without its blocking read, which a hung server
// would make last forever: poll() the connection and the wake eventfd, then take what came
// without blocking. `ok` means the reply or an X error arrived (in `reply` or `error`); `lost`
// that `limit` passed first.
GrabStatus X11Screen::wait_for_reply(unsigned sequence, void** reply, xcb_generic_error_t** error,
                                     Clock::duration limit) {
    xcb_flush(conn_);
    const auto asked = Clock::now();
    pollfd fds[] = {{xcb_get_file_descriptor(conn_), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    while (!xcb_poll_for_reply(conn_, sequence, reply, error)) {
        if (xcb_connection_has_error(conn_)) return lose("the X server connection was lost");
        const auto waited = Clock::now() - asked;
        if (waited >= limit)
            return lose(fmt::format("the X server did not answer for {:.0f} s (hung?)",
                                    Seconds(waited).count()));
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(limit - waited);
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR)
            return lose(fmt::format("poll on the X connection: {}", std::strerror(errno)));
        if (fds[1].revents & POLLIN) {
            if (Clock::now() - asked >= worth_a_warning)
                spdlog::warn(
                    "X11 capture: stopped while the X server had not answered a grab for "
                    "{:.1f} s",
                    Seconds(Clock::now() - asked).count());
            return GrabStatus::interrupted;
        }
    }
    return GrabStatus::ok;
}

void X11Screen::interrupt() {
    const uint64_t one = 1;
    // Cannot fail but for a counter at its maximum, which is readable all the same.
    [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof(one));
}

// vcap thread: the events queued on the connection since the last grab: the root window's size
// changes (followed here: lost when a region no longer fits), and damage (note_damage).
GrabStatus X11Screen::read_events() {
    int width = screen_width_, height = screen_height_;
    while (xcb_generic_event_t* event = xcb_poll_for_event(conn_)) {
        const auto* configure = reinterpret_cast<xcb_configure_notify_event_t*>(event);
        const auto type = event->response_type & ~0x80;
        if (type == XCB_CONFIGURE_NOTIFY && configure->window == screen_->root) {
            width = configure->width;
            height = configure->height;
        } else if (damage_event_ && type == damage_event_) {
            note_damage(*event);
        }
        free(event);
    }
    if (width == screen_width_ && height == screen_height_) return GrabStatus::ok;
    screen_width_ = width;
    screen_height_ = height;
    const auto& r = region_;
    if (!whole_screen_) {
        if (r.x + r.width <= width && r.y + r.height <= height) {
            spdlog::info(
                "X11 capture: the screen is now {}x{}; the region {}x{}+{}+{} is still on "
                "it",
                width, height, r.width, r.height, r.x, r.y);
            return GrabStatus::ok;
        }
        return lose(
            fmt::format("the screen is now {}x{}: the recorded region {}x{}+{}+{} is no "
                        "longer on it",
                        width, height, r.width, r.height, r.x, r.y));
    }
    region_ = {0, 0, width & ~1, height & ~1};
    spdlog::info("X11 capture: the screen is now {}x{}; recording all of it", width, height);
    size_buffers();
    return GrabStatus::ok;
}

GrabStatus X11Screen::grab(VideoFrame& out) {
    // What an unexpected exception here (std::bad_alloc, a bug) does, on cue for the tests.
    if (fault::hit("capture_throw"))
        throw std::runtime_error("X11 grab threw: fault injected by RECD_FAULT");
    // A screen that shrank under a grab refuses it (BadMatch); its ConfigureNotify came before
    // that error, so the next try knows the new size.
    for (int tries = 0; tries < 3; ++tries) {
        bool shrank = false;
        const GrabStatus status = grab_once(out, shrank);
        if (!shrank) return status;
    }
    return lose("the screen kept changing size under every grab");
}

// vcap thread: one grab of region_; `shrank`: the server refused it because the screen is now
// smaller and the caller may try again. `unchanged` when DAMAGE says nothing was drawn on the
// region and the cursor is as it was.
GrabStatus X11Screen::grab_once(VideoFrame& out, bool& shrank) {
    shrank = false;
    if (const GrabStatus followed = read_events(); followed != GrabStatus::ok) return followed;
    Reply<xcb_xfixes_get_cursor_image_reply_t> cursor(nullptr, &std::free);
    const bool refresh = refresh_.exchange(false);
    if (damage_event_ && !damaged_ && !refresh &&
        Clock::now() - last_full_grab_ < full_grab_every) {
        // A round trip (the cursor's, when it is drawn) brings every DamageNotify from before it.
        const unsigned sequence = cursor_ ? xcb_xfixes_get_cursor_image(conn_).sequence
                                          : xcb_get_input_focus(conn_).sequence;
        void* rep = nullptr;
        xcb_generic_error_t* error = nullptr;
        const GrabStatus status = wait_for_reply(sequence, &rep, &error, hung_after);
        free(error);
        if (cursor_)
            cursor.reset(static_cast<xcb_xfixes_get_cursor_image_reply_t*>(rep));
        else
            free(rep);
        if (status != GrabStatus::ok) return status;
        // A broken connection "answers" with nothing.
        if (xcb_connection_has_error(conn_)) return lose("the X server connection was lost");
        if (const GrabStatus followed = read_events(); followed != GrabStatus::ok) return followed;
        if (!damaged_ && !cursor_changed(cursor.get())) {
            out.time = Clock::now();
            out.frame.reset();
            return GrabStatus::unchanged;
        }
    }
    // Ask for the cursor first so its round trip overlaps the image's.
    xcb_xfixes_get_cursor_image_cookie_t cursor_cookie{};
    const bool ask_cursor = cursor_ && !cursor;
    if (ask_cursor) cursor_cookie = xcb_xfixes_get_cursor_image(conn_);
    // Drawing from here on is in this picture or reported for the next.
    damaged_ = false;
    xcb_generic_error_t* error = nullptr;
    uint8_t* pixels = nullptr;
    GrabStatus status = GrabStatus::ok;
    for (int tries = 0; tries < 2; ++tries) {
        const auto asked = Clock::now();
        status = read_image(pixels, &error);
        const auto took = Clock::now() - asked;
        // The midpoint is the best estimate of the instant the picture shows.
        out.time = asked + took / 2;
        const auto usual = usual_round_trip_;
        // Smoothed over ~16 grabs: a stall's weight in it is gone within a second.
        usual_round_trip_ = usual == Clock::duration::zero() ? took : usual + (took - usual) / 16;
        if (status != GrabStatus::ok || !pixels || took <= usual + stalled_beyond_usual) break;
        spdlog::debug("X11 grab: the round trip took {:.1f} ms{}", Seconds(took).count() * 1000,
                      tries == 0 ? "; grabbing again" : "");
    }
    if (status != GrabStatus::ok || !pixels) {
        damaged_ = true;
        if (ask_cursor) xcb_discard_reply(conn_, cursor_cookie.sequence);
    }
    if (status != GrabStatus::ok) return status;
    if (!pixels) {
        const int code = error ? error->error_code : 0;
        free(error);
        if (xcb_connection_has_error(conn_)) return lose("the X server connection was lost");
        if (code == XCB_MATCH) {  // the screen shrank under the grab?
            const ipc::Region asked_for = region_;
            if (const GrabStatus followed = read_events(); followed != GrabStatus::ok)
                return followed;
            shrank = region_ != asked_for;
            if (shrank) return GrabStatus::ok;
        }
        return lose(fmt::format("the X server refused the screen grab (X error {})", code));
    }
    // The image's reply came after the cursor's: this does not block.
    if (ask_cursor) cursor.reset(xcb_xfixes_get_cursor_image_reply(conn_, cursor_cookie, nullptr));
    // The cursor goes onto the server's pixels (this process's memory: the shared segment or
    // the reply), then they are copied, or converted, into a frame of the pool.
    if (cursor) {
        draw_cursor(pixels, *cursor);
        cursor_x_ = cursor->x;
        cursor_y_ = cursor->y;
        cursor_serial_ = cursor->cursor_serial;
    }
    FramePtr frame = frames_.from_bgrx(pixels, region_.width * 4);
    if (!frame) return lose("out of memory for a frame");
    last_full_grab_ = Clock::now();
    out.frame = std::move(frame);
    return GrabStatus::ok;
}

// Premultiplied ARGB cursor over the BGR0 picture: dst = src + dst * (255 - alpha) / 255.
void X11Screen::draw_cursor(uint8_t* pixels, const xcb_xfixes_get_cursor_image_reply_t& cursor) {
    const auto* argb = xcb_xfixes_get_cursor_image_cursor_image(&cursor);
    const int cx = cursor.x - cursor.xhot - region_.x;
    const int cy = cursor.y - cursor.yhot - region_.y;
    for (int y = std::max(0, -cy); y < cursor.height && cy + y < region_.height; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(pixels + (cy + y) * region_.width * 4);
        for (int x = std::max(0, -cx); x < cursor.width && cx + x < region_.width; ++x) {
            const uint32_t src = argb[y * cursor.width + x];
            const uint32_t alpha = src >> 24;
            if (alpha == 0) continue;
            uint32_t& dst = row[cx + x];
            uint32_t blended = 0;
            for (int shift = 0; shift < 24; shift += 8) {
                const uint32_t s = (src >> shift) & 0xff, d = (dst >> shift) & 0xff;
                blended |= std::min(255u, s + d * (255 - alpha) / 255) << shift;
            }
            dst = blended;
        }
    }
}

GrabStatus X11Screen::lose(std::string why) {
    error_ = std::move(why);
    return GrabStatus::lost;
}

}  // namespace rec
