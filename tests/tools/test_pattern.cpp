// test_pattern [--display D] [--fps N]: maps a full-screen override-redirect window (no window
// manager needed) and draws scrolling colour bars plus a bouncing box until SIGTERM/SIGINT.
// Started by tests/integration/fixtures/xvfb_start.sh on the private Xvfb; prints "ready" once the
// first frame reached the server so the fixture knows the screen has content.
// Exit codes: 0 on a signal, 1 if the display cannot be opened or is lost, 2 on bad usage.
#include <xcb/xcb.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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

// Pixel values for the bars, allocated once; Xvfb's default visual is TrueColor so this is cheap.
std::vector<uint32_t> allocate_colours(xcb_connection_t* conn, const xcb_screen_t* screen) {
    static constexpr std::array<std::array<uint16_t, 3>, 8> rgb = {{{0xffff, 0xffff, 0xffff},
                                                                    {0xffff, 0xffff, 0},
                                                                    {0, 0xffff, 0xffff},
                                                                    {0, 0xffff, 0},
                                                                    {0xffff, 0, 0xffff},
                                                                    {0xffff, 0, 0},
                                                                    {0, 0, 0xffff},
                                                                    {0x2000, 0x2000, 0x2000}}};
    std::vector<uint32_t> pixels;
    for (const auto& c : rgb) {
        auto cookie = xcb_alloc_color(conn, screen->default_colormap, c[0], c[1], c[2]);
        xcb_alloc_color_reply_t* reply = xcb_alloc_color_reply(conn, cookie, nullptr);
        pixels.push_back(reply ? reply->pixel : screen->white_pixel);
        std::free(reply);
    }
    return pixels;
}

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
        gc_ = xcb_generate_id(conn);
        const uint32_t gc_values[] = {screen->white_pixel, 0};  // foreground, no exposures
        xcb_create_gc(conn, gc_, window_, XCB_GC_FOREGROUND | XCB_GC_GRAPHICS_EXPOSURES, gc_values);
        colours_ = allocate_colours(conn, screen);
    }

    // Frame n: bars shifted by 4 px per frame, a box moving diagonally and bouncing off the edges.
    void draw(uint64_t n) {
        const int bar_width = (width_ + 7) / 8;
        const int shift = static_cast<int>((n * 4) % static_cast<uint64_t>(bar_width * 8));
        for (int i = -1; i < 8; ++i) {
            int x = i * bar_width + shift % bar_width;
            int colour = ((i - shift / bar_width) % 8 + 8) % 8;
            fill(colours_[colour], x, 0, bar_width, height_);
        }
        const int box = height_ / 6;
        fill(screen_->black_pixel, bounce(n * 7, width_ - box), bounce(n * 5, height_ - box), box,
             box);
        xcb_flush(conn_);
    }

private:
    static int bounce(uint64_t travelled, int span) {
        if (span <= 0) return 0;
        auto period = static_cast<uint64_t>(span) * 2;
        auto pos = static_cast<int>(travelled % period);
        return pos <= span ? pos : 2 * span - pos;
    }

    void fill(uint32_t pixel, int x, int y, int w, int h) {
        xcb_change_gc(conn_, gc_, XCB_GC_FOREGROUND, &pixel);
        xcb_rectangle_t rect{static_cast<int16_t>(x), static_cast<int16_t>(y),
                             static_cast<uint16_t>(w), static_cast<uint16_t>(h)};
        xcb_poly_fill_rectangle(conn_, window_, gc_, 1, &rect);
    }

    xcb_connection_t* conn_;
    xcb_screen_t* screen_;
    xcb_window_t window_ = 0;
    xcb_gcontext_t gc_ = 0;
    int width_ = 0;
    int height_ = 0;
    std::vector<uint32_t> colours_;
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
