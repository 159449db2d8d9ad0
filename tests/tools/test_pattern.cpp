// test_pattern [--display D] [--fps N]: maps a full-screen override-redirect window (no window
// manager needed) and draws pattern_scene's frames on it (scrolling colour bars, a bouncing box,
// the frame's number as a stamp) until SIGTERM/SIGINT.
// Started by tests/integration/fixtures/xvfb_start.sh on the private Xvfb; prints "ready" once the
// first frame reached the server so the fixture knows the screen has content.
// Exit codes: 0 on a signal, 1 if the display cannot be opened or is lost, 2 on bad usage.
#include <xcb/xcb.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pattern_scene.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

struct Options {
    std::string display;  // empty: $DISPLAY
    int fps = 30;
};

bool parse_args(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--display" && i + 1 < argc) {
            options.display = argv[++i];
        } else if (arg == "--fps" && i + 1 < argc) {
            options.fps = std::atoi(argv[++i]);
            if (options.fps < 1 || options.fps > 240) return false;
        } else {
            return false;
        }
    }
    return true;
}

// Draws pattern_scene's frames on a full-screen window: each into a pixmap first, then onto the
// window in one request, so a grab never sees half a frame (the server runs requests one at a
// time).
class Scene {
public:
    Scene(xcb_connection_t* conn, xcb_screen_t* screen) : conn_(conn), screen_(screen) {
        width_ = screen->width_in_pixels;
        height_ = screen->height_in_pixels;
        window_ = xcb_generate_id(conn);
        const uint32_t values[] = {screen->black_pixel, 1};  // background, override-redirect
        xcb_create_window(conn, XCB_COPY_FROM_PARENT, window_, screen->root, 0, 0, width_, height_,
                          0, XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual,
                          XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT, values);
        xcb_map_window(conn, window_);
        pixmap_ = xcb_generate_id(conn);
        xcb_create_pixmap(conn, screen->root_depth, pixmap_, window_, width_, height_);
        gc_ = xcb_generate_id(conn);
        const uint32_t gc_values[] = {screen->white_pixel, 0};  // foreground, no exposures
        xcb_create_gc(conn, gc_, window_, XCB_GC_FOREGROUND | XCB_GC_GRAPHICS_EXPOSURES, gc_values);
    }

    void draw(uint64_t n) {
        for (const auto& r : rec::pattern::frame(n, width_, height_)) {
            const uint32_t value = pixel(r.colour);
            xcb_change_gc(conn_, gc_, XCB_GC_FOREGROUND, &value);
            const xcb_rectangle_t rect{static_cast<int16_t>(r.x), static_cast<int16_t>(r.y),
                                       static_cast<uint16_t>(r.w), static_cast<uint16_t>(r.h)};
            xcb_poly_fill_rectangle(conn_, pixmap_, gc_, 1, &rect);
        }
        xcb_copy_area(conn_, pixmap_, window_, gc_, 0, 0, 0, 0, width_, height_);
        xcb_flush(conn_);
    }

private:
    // The server's pixel value for a colour, asked once per colour (a handful in all).
    uint32_t pixel(rec::pattern::Rgb c) {
        const uint32_t key = (uint32_t{c.r} << 16) | (uint32_t{c.g} << 8) | c.b;
        if (auto it = pixels_.find(key); it != pixels_.end()) return it->second;
        auto cookie =
            xcb_alloc_color(conn_, screen_->default_colormap, c.r * 257, c.g * 257, c.b * 257);
        xcb_alloc_color_reply_t* reply = xcb_alloc_color_reply(conn_, cookie, nullptr);
        const uint32_t value = reply ? reply->pixel : screen_->white_pixel;
        std::free(reply);
        return pixels_[key] = value;
    }

    xcb_connection_t* conn_;
    xcb_screen_t* screen_;
    xcb_window_t window_ = 0;
    xcb_pixmap_t pixmap_ = 0;
    xcb_gcontext_t gc_ = 0;
    int width_ = 0;
    int height_ = 0;
    std::map<uint32_t, uint32_t> pixels_;
};

// Round trip so "ready" means the server has processed the first frame.
void sync(xcb_connection_t* conn) {
    std::free(xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), nullptr));
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_args(argc, argv, options)) {
        std::fprintf(stderr, "usage: test_pattern [--display D] [--fps 1..240]\n");
        return 2;
    }
    const char* display = options.display.empty() ? nullptr : options.display.c_str();
    int screen_number = 0;
    xcb_connection_t* conn = xcb_connect(display, &screen_number);
    if (xcb_connection_has_error(conn)) {
        const char* name = display ? display : std::getenv("DISPLAY");
        std::fprintf(stderr, "test_pattern: cannot open display %s\n", name ? name : "(unset)");
        xcb_disconnect(conn);
        return 1;
    }
    xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(conn));
    for (int i = 0; i < screen_number && it.rem; ++i) xcb_screen_next(&it);

    struct sigaction action {};
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    Scene scene(conn, it.data);
    scene.draw(0);
    sync(conn);
    std::printf("ready %dx%d\n", it.data->width_in_pixels, it.data->height_in_pixels);
    std::fflush(stdout);

    // Deadlines, not sleeps of a fixed length, so drawing time does not slow the pattern down.
    const auto period = std::chrono::nanoseconds(1'000'000'000 / options.fps);
    auto deadline = std::chrono::steady_clock::now();
    for (uint64_t n = 1; !stop_requested; ++n) {
        deadline += period;
        auto now = std::chrono::steady_clock::now();
        if (now - deadline > 5 * period) deadline = now;  // stalled (e.g. stopped): do not burst
        std::this_thread::sleep_until(deadline);
        if (xcb_connection_has_error(conn)) {
            std::fprintf(stderr, "test_pattern: lost the X connection\n");
            return 1;
        }
        scene.draw(n);
        // Keep the request queue short: Xvfb must never fall seconds behind the pattern.
        if (n % 30 == 0) sync(conn);
    }
    xcb_disconnect(conn);
    return 0;
}
